// @ts-check
// `npm run lint`: typescript-eslint's recommended type-aware rules, plus the layout the code already
// has, enforced by @stylistic rules instead of a formatter: a formatter would rewrite most files at
// once, and these settings were picked because the code already meets them.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

/** What Node.js gives a CommonJS file (the .js files are plain CommonJS run by node or jest). */
const commonJsGlobals = Object.fromEntries(
  ['require', 'module', 'exports', '__dirname', '__filename', 'process', 'console', 'Buffer', 'setTimeout', 'clearTimeout']
    .map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdktf.out/', 'build/', 'coverage/', 'lab/.work/', '.scratch/', '.dist.*', '.cdktf.out.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    rules: {
      // The input checks reject control characters on purpose (names, URLs, file contents).
      'no-control-regex': 'off',
      // String enums carry the wire value (`Backend.HTTP = 'http'`) and are compared with it.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // Checks keep one async signature whether or not they wait, and an async function that only
      // throws is how a test hands over a rejected promise.
      '@typescript-eslint/require-await': 'off',
      // `const { dropped, ...kept } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // main.ts loads the Terraform half only when it writes Terraform stacks (startup time).
      '@typescript-eslint/no-require-imports': ['error', { allow: ['/constructs/tf/stacks-app$'] }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: commonJsGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests load some modules only where they run (when the tool they need is installed).
    files: ['test/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and the tools beside the product (bench, lab, validate) read what other programs print
    // (terraform, kubectl, synth's own JSON) through JSON.parse and look at a few fields: typing each
    // of those reads would add casts, not safety. The product (main.ts, lib/, constructs/, ops/)
    // keeps these rules.
    files: ['test/**', 'bench/**', 'lab/**', 'validate/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/indent': ['error', 2],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      // Deprecated in favour of list-style, which also decides where lists break lines (it would
      // change some 180 lines); these two check only the spaces inside brackets.
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/array-bracket-spacing': ['error', 'never'],
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/comma-spacing': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1, maxEOF: 0 }],
      '@stylistic/no-tabs': 'error',
      '@stylistic/member-delimiter-style': 'error',
      '@stylistic/type-annotation-spacing': 'error',
      '@stylistic/space-before-function-paren': ['error', { anonymous: 'always', named: 'never', asyncArrow: 'always' }],
      '@stylistic/function-call-spacing': 'error',
      '@stylistic/semi-spacing': 'error',
      '@stylistic/block-spacing': 'error',
      '@stylistic/space-in-parens': 'error',
      '@stylistic/template-curly-spacing': 'error',
      // `? :`, `&&` and `|` start the continued line; a long string joined with `+` is split either
      // way in the code today, so `+` is left alone.
      '@stylistic/operator-linebreak': ['error', 'before', { overrides: { '+': 'ignore', '=': 'after', '+=': 'after' } }],
    },
  },
);
