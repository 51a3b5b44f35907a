import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { treeDigest } from './trees';
import { DEFAULT_SYNTH_STDERR } from './render-fixture';
import { SYNTH_PROGRAM } from './synth-program';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const [node, ...program] = SYNTH_PROGRAM;

/** Runs `npm run synth`'s program as a user would, in a scratch working directory. */
function synth(cwd: string, ...args: string[]) {
  const run = spawnSync(node, [...program, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function allText(root: string): string {
  return Object.keys(treeDigest(root)).map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
}

/** A bootstrap token value, the original write-up's well-known token, or a private key. */
const SECRET = /abcdef\.0123456789abcdef|[a-z0-9]{6}\.[a-z0-9]{16}|PRIVATE KEY-----|sha256:[0-9a-f]{64}/;

function scratch(): string {
  return scratchDir('k8s-ha-edge-synth-');
}

describe('npm run synth', () => {
  const cwd = scratch();
  const first = synth(cwd);

  test('writes dist/ and cdktf.out/ and prints a summary', () => {
    expect(first.stderr).toBe(DEFAULT_SYNTH_STDERR);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/synthesized the topology from the built-in defaults/);
    expect(first.stdout).toMatch(/dist\/ \(\d+ files\)/);
    expect(existsSync(join(cwd, 'dist', 'workload.k8s.yaml'))).toBe(true);
    for (const stack of ['k8s', 'lb', 'gateway']) {
      expect(existsSync(join(cwd, 'cdktf.out', 'stacks', stack, 'cdk.tf.json'))).toBe(true);
    }
  });

  test('is deterministic: a second run gives identical bytes', () => {
    const before = { dist: treeDigest(join(cwd, 'dist')), tf: treeDigest(join(cwd, 'cdktf.out')) };
    expect(synth(cwd).code).toBe(0);
    expect({ dist: treeDigest(join(cwd, 'dist')), tf: treeDigest(join(cwd, 'cdktf.out')) }).toEqual(before);
  });

  test('gives the same bytes from another directory, and names no path of the build machine', () => {
    const elsewhere = scratch();
    expect(synth(elsewhere).code).toBe(0);
    expect(treeDigest(join(elsewhere, 'cdktf.out'))).toEqual(treeDigest(join(cwd, 'cdktf.out')));
    for (const dir of ['dist', 'cdktf.out']) {
      const text = allText(join(elsewhere, dir));
      expect(text).not.toContain(elsewhere);
      expect(text).not.toContain(repo);
    }
  });

  test('removes stale output, keeps .terraform/, and never touches state/', () => {
    writeFileSync(join(cwd, 'dist', 'stale.txt'), 'old');
    const stack = join(cwd, 'cdktf.out', 'stacks', 'lb');
    mkdirSync(join(cwd, 'state'), { recursive: true });
    writeFileSync(join(cwd, 'state', 'lb.tfstate'), '{"serial": 7}');
    const stateBefore = statSync(join(cwd, 'state', 'lb.tfstate')).mtimeMs;
    mkdirSync(join(stack, '.terraform'));
    writeFileSync(join(stack, '.terraform', 'marker'), 'x');
    expect(synth(cwd).code).toBe(0);
    expect(existsSync(join(cwd, 'dist', 'stale.txt'))).toBe(false);
    expect(readdirSync(join(cwd, 'state'))).toEqual(['lb.tfstate']);
    expect(readFileSync(join(cwd, 'state', 'lb.tfstate'), 'utf8')).toBe('{"serial": 7}');
    expect(statSync(join(cwd, 'state', 'lb.tfstate')).mtimeMs).toBe(stateBefore);
    expect(readFileSync(join(stack, '.terraform', 'marker'), 'utf8')).toBe('x');
    // Nothing under cdktf.out/ is state: the backend points out of the tree, to state/lb.tfstate.
    expect(listFiles(join(cwd, 'cdktf.out')).filter((f) => /tfstate/.test(f))).toEqual([]);
    const backend = JSON.parse(readFileSync(join(stack, 'cdk.tf.json'), 'utf8')).terraform.backend.local;
    expect(resolve(stack, backend.path)).toBe(join(cwd, 'state', 'lb.tfstate'));
    // No staging left behind; only the trees the last synth replaced, kept for readers inside them.
    expect(readdirSync(cwd).filter((n) => n.startsWith('.')).sort()).toEqual(['.cdktf.out.previous', '.dist.previous']);
  });

  test('refuses to replace a tree that still holds Terraform state, and says where to move it', () => {
    const dir = scratch();
    expect(synth(dir).code).toBe(0);
    const stateFile = join(dir, 'cdktf.out', 'stacks', 'gateway', 'terraform.tfstate');
    writeFileSync(stateFile, '{"serial": 3}');
    const result = synth(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cdktf-out: got Terraform state inside the generated tree (stacks/gateway/terraform.tfstate)');
    expect(result.stderr).toContain('state/gateway.tfstate');
    expect(readFileSync(stateFile, 'utf8')).toBe('{"serial": 3}');
  });

  test('no secret in the output: no token value, no well-known token, no private key', () => {
    for (const dir of ['dist', 'cdktf.out']) {
      const text = allText(join(cwd, dir));
      expect(text).not.toMatch(SECRET);
      // The key is referenced by its variable, never inlined.
      if (dir === 'cdktf.out') expect(text).toContain('${file(var.ssh_private_key_path)}');
    }
  });

  test('terraform_data synthesizes on a machine without terraform (synth runs no external program)', () => {
    const elsewhere = scratch();
    const path = (process.env.PATH ?? '').split(':').filter((dir) => !existsSync(join(dir, 'terraform'))).join(':');
    const run = spawnSync(node, [...program, '--resource', 'terraform_data'], { cwd: elsewhere, encoding: 'utf8', env: { ...process.env, PATH: path } });
    expect(run.stderr).toBe(DEFAULT_SYNTH_STDERR);
    expect(run.status).toBe(0);
    expect(readFileSync(join(elsewhere, 'cdktf.out', 'stacks', 'lb', 'cdk.tf.json'), 'utf8')).toContain('"terraform_data"');
  });

  test('--only k8s writes dist/ alone', () => {
    const only = scratch();
    expect(synth(only, '--only', 'k8s').code).toBe(0);
    expect(readdirSync(only)).toEqual(['dist']);
  });
});

describe('bad input', () => {
  const cwd = scratch();
  expect(synth(cwd).code).toBe(0);
  const before = { dist: treeDigest(join(cwd, 'dist')), tf: treeDigest(join(cwd, 'cdktf.out')) };

  const cases: Array<[string, string | undefined, string[], RegExp]> = [
    ['an invalid value', 'workload:\n  nodePort: 8080\n', [], /workload\.nodePort: got 8080, expected a NodePort in 30000-32767/],
    ['a typo', 'loadBalancer:\n  vipp: 192.168.10.100\n', [], /loadBalancer\.vipp: got an unknown key/],
    ['a host name that is a generated resource id', 'workers:\n  - {name: node01, address: 192.168.10.20}\n  - {name: node01-teardown, address: 192.168.10.30}\n', [],
      /workers\[1\]\.name: got "node01-teardown", expected a name none of whose generated ids is already taken: "node01-teardown" .* is also the teardown resource of the bundle of workers\[0\] "node01"/],
    ['unparsable YAML', 'workers: [\n', [], /got unparsable YAML/],
    ['a missing file', undefined, ['--config', 'missing.yaml'], /--config: got "missing\.yaml" \(no such file\)/],
    ['an unknown flag', undefined, ['--confg', 'x.yaml'], /unknown argument: got "--confg"/],
    ['an unknown resource type', undefined, ['--resource', 'null'], /--resource: got "null", expected one of null_resource, terraform_data/],
    // The last one used to win: --only k8s --only tf wrote nothing and still said "synthesized".
    ['--only twice', undefined, ['--only', 'k8s', '--only', 'tf'], /--only: got "tf" after --only "k8s" already, expected --only at most once/],
    ['--config twice', undefined, ['--config', 'a.yaml', '--config', 'b.yaml'], /--config: got "b\.yaml" after --config "a\.yaml" already, expected --config at most once/],
  ];

  test.each(cases)('%s: exits 2, says what is wrong, and leaves dist/ and cdktf.out/ untouched', (_name, config, args, message) => {
    if (config !== undefined) {
      writeFileSync(join(cwd, 'bad.yaml'), config);
      args = ['--config', 'bad.yaml'];
    }
    const run = synth(cwd, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/nothing was written/);
    expect({ dist: treeDigest(join(cwd, 'dist')), tf: treeDigest(join(cwd, 'cdktf.out')) }).toEqual(before);
  });
});

test('npm run docs refuses an argument it does not know (it used to ignore it and exit 0)', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'docs.ts'), '--bogus'], { cwd: repo, encoding: 'utf8' });
  expect(run.stderr).toMatch(/error: unknown argument: got "--bogus", expected no arguments/);
  expect(run.status).toBe(2);
  expect(run.stdout).not.toMatch(/rewritten|up to date/);
});

test('npm run bench refuses a mistyped flag and a bad --runs with exit 2 (it used to ignore the one and throw a stack trace for the other)', () => {
  // Where a bench that did start would write its report: nothing may appear there.
  const out = scratchDir('k8s-ha-edge-bench-');
  const env = { ...process.env, BENCH_MD: join(out, 'BENCHMARKS.md'), BENCH_JSON: join(out, 'BENCHMARKS.json') };
  const cases: Array<[string[], RegExp]> = [
    [['--run', '3'], /^flag: got "--run", expected one of --runs N, --gateway-runs N, --failover-only, --lab-scale \[2,12,20\], --help$/m],
    [['--runs', '0'], /^--runs: got "0", expected an integer in 1-100$/m],
  ];
  for (const [args, message] of cases) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'bench', 'main.ts'), ...args], { cwd: repo, encoding: 'utf8', env, timeout: 60_000 });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.status).toBe(2);
  }
  expect(readdirSync(out)).toEqual([]);
});

test('no secret in the reviewed snapshots', () => {
  // The pattern itself catches what it is meant to catch.
  // Built at run time, so that no secret-looking literal sits in the repository itself.
  const wellKnownToken = ['abcdef', '0123456789abcdef'].join('.');
  const keyHeader = ['-----BEGIN OPENSSH', 'PRIVATE KEY-----'].join(' ');
  for (const secret of [wellKnownToken, 'kubeadm join x --token 3xk9qa.b2c4d6e8f0g1h2i3', keyHeader]) {
    expect(secret).toMatch(SECRET);
  }
  for (const name of readdirSync(join(repo, '__snapshots__'))) {
    expect({ name, secret: readFileSync(join(repo, '__snapshots__', name), 'utf8').match(SECRET)?.[0] }).toEqual({ name, secret: undefined });
  }
});

describe('a custom topology: another subnet, three workers, another VIP, LB port and NodePort', () => {
  const cwd = scratch();
  const run = synth(cwd, '--config', join(repo, 'examples', 'custom-three-workers.yaml'));

  test('synthesizes with none of the default topology\'s addresses or ports in its output', () => {
    expect(run.code).toBe(0);
    for (const dir of ['dist', 'cdktf.out']) {
      const text = allText(join(cwd, dir));
      for (const seed of ['192.168.10.', '12.0.0.', '3344', '30000', 'node01', 'lb01', 'mcl-nginx-node0']) {
        expect({ dir, seed, found: text.includes(seed) }).toEqual({ dir, seed, found: false });
      }
      expect(text).toContain('10.20.0.200');
      expect(text).toContain('198.51.100.1:8080');
    }
    // A directory per bundle with files of its own; the workers' join scripts are a shared set, their pages are in _inline.json.
    expect(readdirSync(join(cwd, 'dist')).sort()).toEqual(['.k8s-ha-edge-output', '_inline.json', '_shared', 'cp1', 'edge-a', 'edge-b', 'fw', 'laptop', 'topology.dot', 'topology.svg', 'workload', 'workload.k8s.yaml']);
    // Each page as its resource carries it, and nothing of a worker's own among the stack's assets.
    const pages = JSON.parse(readFileSync(join(cwd, 'dist', '_inline.json'), 'utf8'));
    expect(Object.keys(pages)).toEqual(['w1-page/index.html', 'w2-page/index.html', 'w3-page/index.html']);
    const k8s = JSON.parse(readFileSync(join(cwd, 'cdktf.out', 'stacks', 'k8s', 'cdk.tf.json'), 'utf8')).resource.null_resource;
    for (const [path, page] of Object.entries(pages)) {
      expect(k8s[path.split('/')[0]].provisioner.find((p: any) => p.file?.content !== undefined).file.content).toBe(page);
    }
    expect(readdirSync(join(cwd, 'cdktf.out', 'stacks', 'k8s', 'assets')).sort()).toEqual(['_shared', 'cp1', 'workload']);
  });
});

describe('warnings at synth time', () => {
  test('kube-proxy in ipvs mode is synthesized, with a deprecation warning on stderr (KEP-5495)', () => {
    const cwd = scratch();
    writeFileSync(join(cwd, 'ipvs.yaml'), 'kubernetes:\n  kubeProxyMode: ipvs\n');
    const run = synth(cwd, '--config', join(cwd, 'ipvs.yaml'), '--only', 'k8s');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: kubernetes\.kubeProxyMode: ipvs is deprecated since Kubernetes 1\.35 \(KEP-5495\)/m);
    expect(readFileSync(join(cwd, 'dist', 'master', 'kubeadm-config.yaml'), 'utf8')).toContain('mode: ipvs');
  });
});
