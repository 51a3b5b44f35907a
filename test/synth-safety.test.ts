import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { OutputBusyError, OutputLock } from '../lib/output/lock';
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
    // The same site (a synth of another one into this output would be refused: its hosts are not the site's).
    const config = join(repo, 'examples', 'custom-three-workers.yaml');
    expect(synth(cwd, '--config', config).code).toBe(0);
    const before = digest(cwd);
    // As `npm run synth` runs it: one node process.
    const child = spawn(node, [...program, '--config', config], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('GIVEN one tree\'s flag pointed at the other tree\'s directory, or a target synth cannot use', () => {
  /** A full synth, then terraform's working files in a stack, as `terraform init` leaves them. */
  function synthedWithTerraformFiles(): string {
    const cwd = scratch();
    expect(synth(cwd).code).toBe(0);
    const stack = readdirSync(join(cwd, 'cdktf.out', 'stacks'))[0];
    writeTree(cwd, {
      [`cdktf.out/stacks/${stack}/.terraform/providers/p`]: 'provider',
      [`cdktf.out/stacks/${stack}/.terraform.lock.hcl`]: 'lock',
    });
    return cwd;
  }

  // The marker said only "synth's output", so the manifests tree replaced the stacks (and .terraform/ went with them).
  test.each([
    ['--only k8s --dist cdktf.out', ['--only', 'k8s', '--dist', 'cdktf.out'],
      /--dist: got "cdktf\.out", which holds the Terraform stacks \(--cdktf-out\) of an earlier synth; expected a directory for the Kubernetes manifests/],
    ['--only tf --cdktf-out dist', ['--only', 'tf', '--cdktf-out', 'dist'],
      /--cdktf-out: got "dist", which holds the Kubernetes manifests and per-host files \(--dist\) of an earlier synth; expected a directory for the Terraform stacks/],
  ])('WHEN %s THEN exit 2 and both trees, .terraform/ included, stay byte-identical', (_name, args, message) => {
    const cwd = synthedWithTerraformFiles();
    const before = digest(cwd);
    const run = synth(cwd, ...args);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(2);
    expect(digest(cwd)).toEqual(before);
  });

  test('WHEN the stacks tree was written before the marker said which tree it is THEN its shape still tells', () => {
    const cwd = synthedWithTerraformFiles();
    writeFileSync(join(cwd, 'cdktf.out', '.k8s-ha-edge-output'), 'This directory is output of k8s-ha-edge\'s synth; the next synth replaces all of it.\n');
    const before = digest(cwd);
    const run = synth(cwd, '--only', 'k8s', '--dist', 'cdktf.out');
    expect(run.code).toBe(2);
    expect(digest(cwd)).toEqual(before);
  });

  test.each([
    ['"." in an empty directory', '.', /--dist: got "\.", expected a path that does not end in "\." or "\.\."/],
    ['"dist/."', 'dist/.', /--dist: got "dist\/\.", expected a path that does not end in "\." or "\.\."/],
    ['the working directory by its absolute path', '', /--dist: got ".*", which is the working directory; expected a directory below it or elsewhere/],
  ])('WHEN --dist is %s THEN exit 2, no stack trace (it was EBUSY), nothing written', (_name, target, message) => {
    const cwd = scratch();
    const run = synth(cwd, '--only', 'k8s', '--dist', target === '' ? cwd : target);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(2);
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('WHEN the parent of --dist is a regular file THEN exit 2 naming --dist', () => {
    const cwd = scratch();
    writeTree(cwd, { notes: 'keep' });
    const run = synth(cwd, '--only', 'k8s', '--dist', 'notes/out');
    expect(run.stderr).toMatch(/--dist: got "notes\/out", expected a directory whose parent synth can write \(creating .*failed: ENOTDIR\)/);
    expect(run.code).toBe(2);
    expect(digest(cwd)).toEqual({ notes: createHash('sha256').update('keep').digest('hex') });
  });

  test('WHEN the parent of --dist is read-only THEN exit 2 naming --dist (it was EACCES with a stack trace)', () => {
    const cwd = scratch();
    writeTree(cwd, { 'ro/keep.txt': 'keep' });
    chmodSync(join(cwd, 'ro'), 0o555);
    // root writes anywhere: the synth runs as nobody then, in a directory nobody can enter.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(cwd, 0o777);
    const run = spawnSync(node, [...program, '--only', 'k8s', '--dist', 'ro/out'], {
      cwd, encoding: 'utf8', env: { ...env, XDG_CACHE_HOME: join(cwd, 'cache') }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(run.stderr).toMatch(/--dist: got "ro\/out", expected a directory whose parent synth can write \(creating .*ro\/\.out\.lock failed: EACCES\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expect(readdirSync(join(cwd, 'ro'))).toEqual(['keep.txt']);
  });
});

describe('GIVEN a lock file that holds no pid', () => {
  test('WHEN it is older than a pid write takes (a full disk left it) THEN the next synth takes it over at once instead of waiting 120 s', () => {
    const cwd = scratch();
    const lock = join(cwd, '.dist.lock');
    writeFileSync(lock, '');
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lock, aMinuteAgo, aMinuteAgo);
    // A short wait: before, an empty lock counted as one being written, forever.
    const held = OutputLock.acquire([join(cwd, 'dist')], 1_000);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    held.release();
    expect(existsSync(lock)).toBe(false);
    // One created a moment ago is still waited for: a synth may be between creating it and writing its pid.
    writeFileSync(lock, '');
    expect(() => OutputLock.acquire([join(cwd, 'dist')], 300)).toThrow(OutputBusyError);
  });
});

test('the helpers above see what they should', () => {
  const dir = scratch();
  writeTree(dir, { 'a/b.txt': 'x' });
  expect(Object.keys(digest(dir))).toEqual(['a/b.txt']);
  expect(existsSync(join(dir, 'a', 'b.txt'))).toBe(true);
});
