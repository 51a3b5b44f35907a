import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { treeDigest } from './trees';

const repo = resolve(__dirname, '..');
const env = { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' };


/** Synthesizes with `command` into a scratch directory and returns the digests of both trees. */
async function synthWith(command: string[], args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-launcher-'));
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
  ['the seed topology', []],
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
