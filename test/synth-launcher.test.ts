import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { treeDigest } from './trees';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const env = { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' };

/** Synthesizes with `command` into a scratch directory and returns the digests of both trees. */
async function synthWith(command: string[], args: string[]) {
  const cwd = scratchDir('k8s-ha-edge-launcher-');
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command[0], [...command.slice(1), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  // Topology warnings (e.g. the unset flannel digest) are the program's own output; nothing else may appear.
  expect(run.stderr.replace(/^building build\/synth\/synth\.js \(.*\)\n/, '').replace(/^warning: .*\n/gm, '')).toBe('');
  expect(run.status).toBe(0);
  return { stdout: run.stdout, dist: treeDigest(join(cwd, 'dist')), tf: treeDigest(join(cwd, 'cdktf.out')) };
}

// npm run synth runs the bundle (scripts/synth.js); it must write exactly what main.ts does from source.
describe.each([
  ['the default topology', []],
  ['a custom topology with terraform_data', ['--config', join(repo, 'examples', 'custom-three-workers.yaml'), '--resource', 'terraform_data']],
])('scripts/synth.js on %s', (_name, args) => {
  test('writes the same bytes as tsx main.ts', async () => {
    // Side by side, each into its own directory.
    const [bundled, fromSource] = await Promise.all([
      synthWith([process.execPath, join(repo, 'scripts', 'synth.js')], args),
      synthWith([join(repo, 'node_modules', '.bin', 'tsx'), join(repo, 'main.ts')], args),
    ]);
    expect(bundled.dist).toEqual(fromSource.dist);
    expect(bundled.tf).toEqual(fromSource.tf);
    expect(bundled.stdout.replace(/\/tmp\/\S+/g, '')).toEqual(fromSource.stdout.replace(/\/tmp\/\S+/g, ''));
  });
});

// `cdk8s synth` and `cdktf synth` run the app of cdk8s.yaml and cdktf.json (node scripts/synth.js, the bundle)
// with CDK8S_OUTDIR or CDKTF_OUTDIR set: each output, scripts made of the static shell files included, is main.ts's.
test('as cdk8s synth and cdktf synth run it, each output is what tsx main.ts writes', async () => {
  const app = (outdir: 'CDK8S_OUTDIR' | 'CDKTF_OUTDIR') => {
    const cwd = scratchDir('k8s-ha-edge-cli-app-');
    const out = join(cwd, 'out');
    const run = spawnSync(process.execPath, [join(repo, 'scripts', 'synth.js')], { cwd, env: { ...env, [outdir]: out }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    return treeDigest(out);
  };
  const fromSource = await synthWith([join(repo, 'node_modules', '.bin', 'tsx'), join(repo, 'main.ts')], []);
  const dist = app('CDK8S_OUTDIR');
  expect(Object.keys(dist).filter((path) => path.endsWith('/prepare-node.sh'))).not.toEqual([]);
  expect(dist).toEqual(fromSource.dist);
  expect(app('CDKTF_OUTDIR')).toEqual(fromSource.tf);
});

// The bundle has no lib/ beside it: it embeds the static shell files (a bundle that read them from
// disk would fail above, as build/ has no kubernetes/ or client/). Each is a source of the manifest,
// so the launcher's staleness check rebuilds the bundle when one changes, as it does for a .ts file.
test('the bundle\'s manifest hashes every static shell file (lib/**.sh) as a source', async () => {
  await synthWith([process.execPath, join(repo, 'scripts', 'synth.js')], []);
  const manifest = JSON.parse(readFileSync(join(repo, 'build', 'synth', 'inputs.json'), 'utf8')) as { sources: Record<string, string> };
  const shellFiles = listFiles(join(repo, 'lib')).filter((f) => f.endsWith('.sh')).map((f) => `lib/${f}`);
  expect(shellFiles.length).toBeGreaterThan(0);
  for (const path of shellFiles) {
    expect([path, manifest.sources[path]]).toEqual([path, createHash('sha1').update(readFileSync(join(repo, path))).digest('hex')]);
  }
});
