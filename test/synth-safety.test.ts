import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { writeTree } from './trees';
import { DEFAULT_SYNTH_STDERR } from './render-fixture';
import { SYNTH_PROGRAM } from './synth-program';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const [node, ...program] = SYNTH_PROGRAM;
const env = { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' };

function synth(cwd: string, ...args: string[]) {
  const run = spawnSync(node, [...program, ...args], { cwd, encoding: 'utf8', env });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function scratch(): string {
  return scratchDir('k8s-ha-edge-safety-');
}

/** Every path under `root` (hidden ones included) with its content hash: equal maps mean nothing changed. */
function digest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) {
      for (const file of listFiles(path)) out[`${name}/${file}`] = createHash('sha256').update(readFileSync(join(path, file))).digest('hex');
    } else {
      out[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  }
  return out;
}

describe('GIVEN output flags that point at something synth must not replace', () => {
  // Each row: what the user has, the flags, the message. Every row must exit 2 and change nothing.
  const cases: Array<[string, (cwd: string) => void, string[], RegExp]> = [
    ['a folder of the user\'s own files', (cwd) => writeTree(cwd, { 'mine/important.txt': 'keep me' }), ['--dist', 'mine'],
      /--dist: got "mine", a directory that k8s-ha-edge did not write \(it holds important\.txt and no \.k8s-ha-edge-output\)/],
    ['a regular file', (cwd) => writeTree(cwd, { 'notes.txt': 'keep me' }), ['--cdktf-out', 'notes.txt'],
      /--cdktf-out: got "notes\.txt", a file that is not a directory/],
    ['the working directory itself', (cwd) => writeTree(cwd, { 'site.yaml': 'x' }), ['--dist', '.', '--only', 'k8s'], /--dist: got "\.", a directory that k8s-ha-edge did not write/],
    ['an empty path', () => undefined, ['--dist', ''], /--dist: got "", expected a non-empty value/],
    ['the same directory twice', () => undefined, ['--dist', 'out', '--cdktf-out', 'out'], /--cdktf-out: got "out", expected a directory apart from --dist \("out"\)/],
    ['one inside the other', () => undefined, ['--cdktf-out', 'dist/tf'], /--cdktf-out: got "dist\/tf", expected a directory apart from --dist \("dist"\)/],
  ];

  test.each(cases)('WHEN it is %s THEN synth exits 2, says which flag and why, and changes nothing', (_, setup, args, message) => {
    const cwd = scratch();
    setup(cwd);
    const before = digest(cwd);
    const run = synth(cwd, ...args);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code).toBe(2);
    expect(digest(cwd)).toEqual(before);
  });

  test('WHEN --dist points elsewhere THEN the message names the directories actually involved', () => {
    const cwd = scratch();
    writeTree(cwd, { 'review/x.txt': 'x' });
    const run = synth(cwd, '--dist', 'review', '--cdktf-out', 'tf');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nothing was written; review\/ and tf\/ are unchanged/);
  });
});

describe('GIVEN synths that die, are interrupted, or run at the same time', () => {
  test('WHEN a synth is interrupted with SIGINT while writing THEN it exits 130 and leaves no staging and no change', async () => {
    const cwd = scratch();
    expect(synth(cwd).code).toBe(0);
    const before = digest(cwd);
    // As `npm run synth` runs it: one node process.
    const child = spawn(node, [...program, '--config', join(repo, 'examples', 'custom-three-workers.yaml')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Bounded wait for the staging directory to appear, then interrupt.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !readdirSync(cwd).some((n) => n.includes('.staging-'))) await new Promise((r) => setTimeout(r, 2));
    expect(readdirSync(cwd).some((n) => n.includes('.staging-'))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/synth interrupted by SIGINT: nothing was written; dist\/ and cdktf\.out\/ are unchanged/);
    expect(digest(cwd)).toEqual(before);
  });

  test('WHEN a killed synth left its staging directory and lock THEN the next synth removes them and succeeds', () => {
    const cwd = scratch();
    // pid 2^22+1 is above Linux's pid_max limit, so no process can have it.
    const dead = String(4194305);
    writeTree(cwd, { [`.dist.staging-${dead}-abc123/workload.k8s.yaml`]: 'half', '.dist.lock': `${dead}\n` });
    const run = synth(cwd);
    expect(run.stderr).toBe(DEFAULT_SYNTH_STDERR);
    expect(run.code).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual(['cdktf.out', 'dist']);
  });

  test('WHEN four synths of different topologies run at once THEN they run one after another and dist/ matches cdktf.out/', async () => {
    const cwd = scratch();
    const configs = [1, 2, 3, 4].map((n) => {
      const path = join(cwd, `site${n}.yaml`);
      writeFileSync(path, `workload:\n  nodePort: ${30000 + n}\n`);
      return path;
    });
    const codes = await Promise.all(configs.map((config) => new Promise<number | null>((done) => {
      spawn(node, [...program, '--config', config], { cwd, env, stdio: 'ignore' }).on('exit', done);
    })));
    expect(codes).toEqual([0, 0, 0, 0]);
    const manifest = readFileSync(join(cwd, 'dist', 'workload.k8s.yaml'), 'utf8');
    const nodePort = /nodePort: (\d+)/.exec(manifest)?.[1];
    const shipped = listFiles(join(cwd, 'cdktf.out')).filter((f) => f.endsWith('workload.k8s.yaml'));
    expect(shipped).toHaveLength(1);
    expect(readFileSync(join(cwd, 'cdktf.out', shipped[0]), 'utf8')).toBe(manifest);
    expect(readFileSync(join(cwd, 'dist', 'lb01', 'nginx.conf'), 'utf8')).toContain(`:${nodePort} `);
    expect(readdirSync(cwd).filter((n) => n.includes('.staging-') || n.endsWith('.lock'))).toEqual([]);
  });
});


test('the helpers above see what they should', () => {
  const dir = scratch();
  writeTree(dir, { 'a/b.txt': 'x' });
  expect(Object.keys(digest(dir))).toEqual(['a/b.txt']);
  expect(existsSync(join(dir, 'a', 'b.txt'))).toBe(true);
});
