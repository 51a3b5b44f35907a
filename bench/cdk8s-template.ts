/**
 * The reference point the issue asks the synth to be compared with: a one-Deployment app made the way
 * the official cdk8s TypeScript template (`cdk8s init typescript-app`) makes it, synthesized the way it
 * runs it — `cdk8s synth`, which reads cdk8s.yaml and runs `npx ts-node main.ts`.
 *
 * The project is installed once from the npm registry into a cache directory (untimed; reused while its
 * package.json is unchanged), with this repository's versions of cdk8s, cdk8s-plus-27, constructs and
 * TypeScript and the template's tools (cdk8s-cli, ts-node) pinned.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '..');
const versionOf = (name: string) => JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version as string;

/** The template's files, as `cdk8s init typescript-app` lays them out, with one Deployment in the chart. */
function templateFiles(): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({
      name: 'cdk8s-template-baseline',
      private: true,
      scripts: { synth: 'cdk8s synth' },
      dependencies: { cdk8s: versionOf('cdk8s'), 'cdk8s-plus-27': versionOf('cdk8s-plus-27'), constructs: versionOf('constructs') },
      devDependencies: { 'cdk8s-cli': '2.207.60', 'ts-node': '10.9.2', typescript: versionOf('typescript'), '@types/node': versionOf('@types/node') },
    }, null, 2)}\n`,
    'cdk8s.yaml': 'language: typescript\napp: npx ts-node main.ts\n',
    'tsconfig.json': `${JSON.stringify({
      compilerOptions: { target: 'ES2020', module: 'commonjs', lib: ['es2020'], strict: true, esModuleInterop: true, skipLibCheck: true, outDir: 'build' },
      include: ['main.ts'],
    }, null, 2)}\n`,
    'main.ts': [
      "import { App, Chart } from 'cdk8s';",
      "import * as kplus from 'cdk8s-plus-27';",
      '',
      'const app = new App();',
      "const chart = new Chart(app, 'web');",
      "new kplus.Deployment(chart, 'nginx', { containers: [{ image: 'nginx:1.30.1', portNumber: 80 }] });",
      'app.synth();',
      '',
    ].join('\n'),
  };
}

/** The installed template project's directory; installs it first when missing or changed. Throws when npm fails. */
export function prepareCdk8sTemplate(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(cacheHome, 'k8s-ha-edge', 'bench', 'cdk8s-template');
  const files = templateFiles();
  const installed = join(dir, 'node_modules', '.bin', 'cdk8s');
  const current = existsSync(join(dir, 'package.json')) && readFileSync(join(dir, 'package.json'), 'utf8') === files['package.json'];
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  if (!current || !existsSync(installed)) {
    process.stderr.write(`installing the cdk8s template baseline into ${dir} (once)...\n`);
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
    if (npm.status !== 0) throw new Error(`npm install of the cdk8s template baseline failed: ${npm.stderr.slice(-2000)}`);
  }
  return dir;
}

/**
 * `cdk8s synth` in the template project, writing to `out` (what the template's `npm run synth` runs),
 * without the CLI's upgrade check: that is a request to the npm registry, which would time the network.
 */
export function cdk8sTemplateCommand(dir: string, out: string): readonly [string, readonly string[]] {
  return [join(dir, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '--output', out]];
}
