// @ts-check
/**
 * Builds the fast synth: main.ts and every library it imports, bundled by esbuild into one
 * file (build/synth/synth.js), plus a manifest of the bundle's inputs that lets the
 * launcher (scripts/synth.js) tell cheaply whether the bundle is stale.
 *
 * Why: a synth spent most of its time loading ~600 CommonJS modules (resolving, reading and
 * compiling each) and, under tsx, transpiling TypeScript. One pre-built file is read once,
 * and its compiled code is cached by V8 (see scripts/synth.js).
 *
 * Run by `npm install`/`npm ci` (prepare) and by the launcher when the bundle is missing or stale;
 * `node scripts/build-synth.js` builds by hand.
 */
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const REPO = resolve(__dirname, '..');
const OUT_DIR = join(REPO, 'build', 'synth');
const BUNDLE = join(OUT_DIR, 'synth.js');
const MANIFEST = join(OUT_DIR, 'inputs.json');
/** Bumped when the manifest's shape or the bundle's options change in a way the hash of this file would miss. */
const FORMAT = 1;
/** File names whose appearance or removal next to a source can change how an extensionless import resolves. */
const RESOLVABLE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/** Files that shape the bundle without being one of its inputs. */
const CONFIG_FILES = ['package.json', 'tsconfig.json', 'scripts/build-synth.js'];

/** @param {string} path */
function sha1(path) {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

/** @param {string} dir absolute */
function resolvableNames(dir) {
  return readdirSync(dir).filter((name) => RESOLVABLE.test(name)).sort();
}

/**
 * The two library modules that locate files next to themselves: in a bundle, `__dirname` and
 * `__filename` would name the bundle. They get their original paths back (cdktf archives a
 * directory by running `node <its fs.js>`; cdk8s loads a URL through `_loadurl.mjs`).
 * @type {import('esbuild').Plugin}
 */
const keepModulePaths = {
  name: 'keep-module-paths',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      const prologue = `var __filename = ${JSON.stringify(args.path)}, __dirname = ${JSON.stringify(dirname(args.path))};\n`;
      return { contents: prologue + source, loader: 'js' };
    });
  },
};

/**
 * cdktf records a full, formatted stack trace for every token it creates (Intrinsic, Lazy, ...),
 * several per resource, only to print it if that token later fails to resolve. That is
 * a per-resource cost growing with the topology, and it never reaches the output. The bundle
 * records none; SYNTH_TOKEN_STACK_TRACES=1 brings them back when debugging a token error.
 * @type {import('esbuild').Plugin}
 */
const noTokenStackTraces = {
  name: 'no-token-stack-traces',
  setup(build) {
    build.onLoad({ filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('function captureStackTrace(')) throw new Error(`${args.path}: captureStackTrace not found; update the no-token-stack-traces plugin`);
      const gate = 'const recordStackTraces = process.env.SYNTH_TOKEN_STACK_TRACES === "1";\n';
      return {
        contents: gate + source.replace('function captureStackTrace(below) {', 'function captureStackTrace(below) {\n    if (!recordStackTraces) return [];'),
        loader: 'js',
      };
    });
  },
};

/** The loader of the static shell files (lib/formats/shell-files.ts) and the line the bundle replaces in it. */
const SHELL_FILES_LOADER = join(REPO, 'lib', 'formats', 'shell-files.ts');
const SHELL_FILES_MARKER = 'const EMBEDDED = undefined as Readonly<Record<string, string>> | undefined;';

/** Every `*.sh` under lib/, relative to the repository, sorted. @returns {string[]} */
function libShellFiles() {
  return /** @type {string[]} */ (readdirSync(join(REPO, 'lib'), { recursive: true }))
    .filter((p) => p.endsWith('.sh'))
    .map((p) => `lib/${p.split('\\').join('/')}`)
    .sort();
}

/**
 * The bundle has no lib/ beside it to read the static shell files from: the loader gets them
 * all, by their path under lib/, in place of its `undefined`. Their hashes go into the
 * manifest's sources (see buildSynth), so a changed .sh file makes the bundle stale.
 * @param {string[]} files paths relative to the repository, from libShellFiles()
 * @returns {import('esbuild').Plugin}
 */
function inlineShellFiles(files) {
  return {
    name: 'inline-shell-files',
    setup(build) {
      build.onLoad({ filter: /[\\/]lib[\\/]formats[\\/]shell-files\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (resolve(args.path) !== SHELL_FILES_LOADER || !source.includes(SHELL_FILES_MARKER)) {
          throw new Error(`${args.path}: '${SHELL_FILES_MARKER}' not found; update the inline-shell-files plugin`);
        }
        const embedded = Object.fromEntries(files.map((p) => [p.slice('lib/'.length), readFileSync(join(REPO, p), 'utf8')]));
        const replacement = `const EMBEDDED = ${JSON.stringify(embedded)} as Readonly<Record<string, string>> | undefined;`;
        return { contents: source.replace(SHELL_FILES_MARKER, () => replacement), loader: 'ts' };
      });
    },
  };
}

/**
 * The files whose size and mtime stand for the installed libraries: stat-ing each of the ~600
 * library modules would cost ~20 ms per synth.
 * @param {string[]} libraries paths of bundled node_modules files
 */
function libraryStamps(libraries) {
  if (existsSync(join(REPO, 'node_modules', '.package-lock.json'))) return ['node_modules/.package-lock.json'];
  const roots = libraries.map((p) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(p.replace(/\\/g, '/'))?.[1]);
  return [...new Set(roots)].filter((r) => r !== undefined).map((r) => `${r}/package.json`);
}

/**
 * Builds the bundle and its manifest. Writes both next to their final names and renames them
 * in, so a concurrent synth sees either the old pair or the new one.
 * @returns {Promise<{ bundle: string, inputs: number }>}
 */
async function buildSynth() {
  /** @type {typeof import('esbuild')} */
  const esbuild = require('esbuild');
  mkdirSync(OUT_DIR, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const shellFiles = libShellFiles();
  const result = await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: ['main.ts'],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Smaller source to read and to compile; names kept, so errors still name their classes.
    minify: true,
    keepNames: true,
    charset: 'ascii',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [keepModulePaths, noTokenStackTraces, inlineShellFiles(shellFiles)],
    // Graphviz (1.2 MB) is needed only when a topology's picture is not in the cache yet:
    // loaded from node_modules on that miss, it costs the other synths nothing.
    external: ['@viz-js/viz'],
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^.*?:/, ''));
  const sources = inputs.filter((p) => !p.split(/[\\/]/).includes('node_modules'));
  const libraries = inputs.filter((p) => p.split(/[\\/]/).includes('node_modules'));
  const manifest = {
    format: FORMAT,
    resolvable: RESOLVABLE.source,
    // The project's own files by content: an edit is seen whatever happens to mtimes.
    // The static shell files the bundle embeds (inlineShellFiles) count as sources.
    sources: Object.fromEntries([...sources, ...shellFiles, ...CONFIG_FILES].map((p) => [p, sha1(join(REPO, p))])),
    // Directories holding sources, by the names an import could resolve to: a new or removed file there is seen.
    dirs: Object.fromEntries([...new Set(sources.map((p) => dirname(p)))].map((d) => [d, resolvableNames(join(REPO, d))])),
    // Installed libraries by size and mtime: npm rewrites node_modules/.package-lock.json whenever it
    // changes node_modules; without it (another package manager), each library's package.json.
    libraries: Object.fromEntries(libraryStamps(libraries).map((p) => {
      const s = statSync(join(REPO, p));
      return [p, [s.size, s.mtimeMs]];
    })),
  };
  const tmpManifest = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmpManifest, JSON.stringify(manifest));
  renameSync(tmp, BUNDLE);
  renameSync(tmpManifest, MANIFEST);
  // Code caches compiled from an older bundle are useless; V8 would reject them anyway.
  for (const name of readdirSync(OUT_DIR)) if (name.endsWith('.cache')) rmSync(join(OUT_DIR, name), { force: true });
  return { bundle: relative(REPO, BUNDLE), inputs: inputs.length };
}

/**
 * One synth of the default topology into a scratch directory through the launcher: proves the
 * bundle runs, and leaves V8's code cache for the synths that follow (`npm ci && npm run synth`).
 */
function warmUp() {
  const { spawnSync } = require('node:child_process');
  const { mkdtempSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const scratch = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-warm-up-'));
  try {
    const run = spawnSync(process.execPath, [join(REPO, 'scripts', 'synth.js'), '--dist', join(scratch, 'dist'), '--cdktf-out', join(scratch, 'cdktf.out')], {
      cwd: scratch,
      encoding: 'utf8',
      env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' },
    });
    if (run.status !== 0) {
      console.error(`the bundle failed its warm-up synth:\n${run.stdout}${run.stderr}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

module.exports = { buildSynth, BUNDLE, MANIFEST, FORMAT };

if (require.main === module) {
  buildSynth().then(({ bundle, inputs }) => {
    console.log(`built ${bundle} from ${inputs} modules`);
    warmUp();
  }, (error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
