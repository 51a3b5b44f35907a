import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseFlags, UsageError } from '../ops/args';
import { keyPathInState } from '../ops/terraform';
import { checkFresh, inDependencyOrder, prerequisites, readStacks, selectStacks, StackEntry } from '../ops/stacks';
import { siteTopology } from '../ops/site';
import { eachAtMost } from '../ops/each-at-most';
import { CONFIG_SCHEMA } from '../lib/topology/config-schema';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');

/**
 * npm run <script> as a user runs it in `cwd`, under `unshare -n`: without a network, nothing it
 * does can reach a host (every case here must stop before SSH anyway).
 */
function runCli(script: string, args: readonly string[], cwd = repo) {
  // As npm runs it: in the package directory, with the user's directory in INIT_CWD.
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', `${script}.ts`), ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, INIT_CWD: cwd } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A synth's cdktf.out (only the stacks) of `config` (the built-in topology when undefined), in `dir` (a new scratch directory by default). */
function synthesized(config?: string, dir = scratchDir('k8s-ha-edge-site-')): string {
  const run = spawnSync('node', [join(repo, 'scripts', 'synth.js'), ...(config ? ['--config', config] : []), '--only', 'tf', '--cdktf-out', join(dir, 'cdktf.out')], { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
  return dir;
}

let seedSite: string | undefined;
/** cdktf.out of the built-in topology, synthesized once for the tests that need one. */
const seedOut = () => join((seedSite ??= synthesized()), 'cdktf.out');
const stacks: StackEntry[] = [
  { name: 'client', dir: '/x/client', dependencies: ['gateway'] },
  { name: 'gateway', dir: '/x/gateway', dependencies: [] },
  { name: 'k8s', dir: '/x/k8s', dependencies: ['gateway'] },
  { name: 'lb', dir: '/x/lb', dependencies: ['gateway'] },
];

describe('npm run apply / destroy: the order of the stacks', () => {
  test('GIVEN manifest.json dependencies THEN apply waits for the gateway and destroy does it last', () => {
    expect(inDependencyOrder(stacks).map((s) => s.name)).toEqual(['gateway', 'client', 'k8s', 'lb']);
    expect(Object.fromEntries(prerequisites(stacks, 'apply'))).toEqual({ client: ['gateway'], gateway: [], k8s: ['gateway'], lb: ['gateway'] });
    expect(Object.fromEntries(prerequisites(stacks, 'destroy'))).toEqual({ client: [], gateway: ['client', 'k8s', 'lb'], k8s: [], lb: [] });
  });

  test('GIVEN the synthesized site THEN the load balancers are up before the cluster (its endpoint is their VIP), and torn down after it', () => {
    const site = readStacks(seedOut());
    const order = inDependencyOrder(site).map((s) => s.name);
    expect(order.indexOf('lb')).toBeLessThan(order.indexOf('k8s'));
    expect(Object.fromEntries(prerequisites(site, 'apply')).k8s).toEqual(['gateway', 'lb']);
    expect(Object.fromEntries(prerequisites(site, 'destroy')).lb).toEqual(['k8s']);
  });

  test('GIVEN --stacks THEN only those, and a dependency left out is taken as it is', () => {
    const chosen = selectStacks(stacks, 'lb,client');
    expect(chosen.map((s) => s.name)).toEqual(['client', 'lb']);
    expect(Object.fromEntries(prerequisites(chosen, 'apply'))).toEqual({ client: [], lb: [] });
    expect(() => selectStacks(stacks, 'lb,nope')).toThrow('--stacks: got "lb,nope", expected a comma-separated list of client, gateway, k8s, lb');
  });
});

describe('the flags', () => {
  const spec = { values: ['--config', '--target'], repeatable: ['--target'], switches: ['--plan'] };
  test.each([
    [['--bogus'], '--bogus: got an unknown flag, expected one of --config, --target, --plan, --help'],
    [['--config'], '--config: got nothing, expected a value'],
    [['--config', 'a', '--config', 'b'], '--config: got it twice, expected it once'],
    [['--plan=yes'], '--plan: got "yes", expected no value'],
  ])('GIVEN %j THEN a UsageError: %s', (argv, message) => {
    expect(() => parseFlags(argv, spec)).toThrow(new UsageError(message));
  });

  test('GIVEN a repeatable flag THEN every value is kept', () => {
    expect(parseFlags(['--target', 'a', '--target=b', '--plan'], spec).values.get('--target')).toEqual(['a', 'b']);
  });

  test.each([
    [['lb09', '--ssh-key', __filename], /^error: HOST: got "lb09", expected one of lb01, lb02$/m],
    [['--undo'], /^error: HOST: got nothing, expected one of lb01, lb02$/m],
    [['lb01', '--ssh-key', '/nonexistent/key'], /^error: --ssh-key: got \/nonexistent\/key, expected an existing private key file$/m],
    [['lb01', '--ssh-key', __filename, '--timeout', '0'], /^error: --timeout: got "0", expected an integer in 1-3600$/m],
  ])('GIVEN npm run drain %j THEN exit 2 before any SSH, saying what was expected', (args, message) => {
    const run = runCli('drain', [...args, '--cdktf-out', seedOut()]);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
  });

  // The four CLIs run side by side (each spends about a second loading under tsx); each test reads its own.
  const cli = (script: string) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn('node', ['--import', 'tsx', join(repo, 'ops', `${script}.ts`), '--stacks'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stderr }));
  });
  const runs = new Map<string, ReturnType<typeof cli>>();
  beforeAll(() => {
    for (const script of ['apply', 'destroy', 'verify', 'drain']) runs.set(script, cli(script));
  });

  test.each(['apply', 'destroy', 'verify', 'drain'])('GIVEN npm run %s with a bad flag THEN exit 2 and "flag: got X, expected Y"', async (script) => {
    const run = await runs.get(script)!;
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error: --stacks: got (nothing, expected a value|an unknown flag, expected one of)/);
  });
});

describe('stale output', () => {
  const dir = scratchDir('k8s-ha-edge-fresh-');
  const out = join(dir, 'cdktf.out');
  mkdirSync(out);
  writeFileSync(join(out, 'manifest.json'), '{"stacks":{}}');
  const config = join(dir, 'site.yaml');
  writeFileSync(config, 'workers: []\n');

  test('GIVEN a config changed after the synth THEN apply refuses and says what to run', () => {
    utimesSync(join(out, 'manifest.json'), new Date(Date.now() + 3_600_000), new Date(Date.now() + 3_600_000));
    expect(() => checkFresh(out, config)).not.toThrow();
    utimesSync(config, new Date(Date.now() + 7_200_000), new Date(Date.now() + 7_200_000));
    expect(() => checkFresh(out, config)).toThrow(`expected them newer than ${config}`);
    expect(() => checkFresh(out, config)).toThrow(`run npm run synth -- --config ${config} first`);
  });

  test('GIVEN code newer than the synth THEN apply refuses too', () => {
    utimesSync(join(out, 'manifest.json'), new Date(0), new Date(0));
    expect(() => checkFresh(out, undefined)).toThrow(/expected them newer than (main\.ts|lib\/|constructs\/|package)/);
  });
});

describe('verify and drain never guess the site: the topology recorded by the synth, or --config that agrees with it', () => {
  // A site of its own (load balancers edge-a and edge-b, not the built-in lb01/lb02) whose state server URL holds a token.
  const dir = scratchDir('k8s-ha-edge-recorded-');
  const config = join(dir, 'site.yaml');
  writeFileSync(config, [
    'loadBalancer:',
    '  hosts:',
    '    - { name: edge-a, address: 192.168.10.41, priority: 100 }',
    '    - { name: edge-b, address: 192.168.10.51, priority: 90 }',
    'provisioning:',
    '  backend: http',
    '  httpAddress: https://state.example.internal/tf?access_token=s3cr3t-pass',
    '',
  ].join('\n'));
  let out: string;
  beforeAll(() => { out = join(synthesized(config, dir), 'cdktf.out'); });

  test('GIVEN a synth THEN cdktf.out records its topology, without provisioning (the one section that may hold a credential)', () => {
    const text = readFileSync(join(out, 'topology.json'), 'utf8');
    const recorded = JSON.parse(text);
    expect(recorded.synthesizedFrom).toBe(config);
    expect(recorded.config.loadBalancer.hosts.map((h: { name: string }) => h.name)).toEqual(['edge-a', 'edge-b']);
    expect(Object.keys(recorded.config).sort()).toEqual(Object.keys(CONFIG_SCHEMA.fields).filter((k) => k !== 'provisioning').sort());
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('state.example.internal');
  });

  test('GIVEN no --config THEN drain and verify act on the recorded site (its load balancers, not the built-in ones)', () => {
    const drain = runCli('drain', ['lb01', '--ssh-key', __filename], dir);
    expect(drain.stderr).toMatch(/^error: HOST: got "lb01", expected one of edge-a, edge-b$/m);
    expect(drain.status).toBe(2);
    // The recorded site's LB is accepted: the next check (the key) is what stops it, before any SSH.
    const named = runCli('drain', ['edge-a', '--ssh-key', '/nonexistent/key'], dir);
    expect(named.stderr).toMatch(/^error: --ssh-key: got \/nonexistent\/key/m);
    expect(siteTopology({ cdktfOut: out }).loadBalancer.hosts.map((h) => h.address)).toEqual(['192.168.10.41', '192.168.10.51']);
  });

  test('GIVEN --config that differs from what cdktf.out was synthesized from THEN verify, drain and apply refuse (exit 2), naming the field', () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, 'loadBalancer:\n  vip: 192.168.10.101\n');
    // Older than the synth: apply's freshness check passes, and the content is what differs.
    utimesSync(other, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    for (const [script, args] of [['verify', []], ['drain', ['lb01']], ['apply', ['--plan']]] as const) {
      const run = runCli(script, [...args, '--config', other, '--ssh-key', __filename], dir);
      expect(run.stderr).toContain(`error: --config: got ${other}, whose loadBalancer.vip is "192.168.10.101"; expected the topology ${out} was synthesized from (${config}), where it is "192.168.10.100"`);
      expect(run.status).toBe(2);
    }
    // The same config is accepted (the recorded site's LB name passes, the key stops it).
    expect(runCli('drain', ['edge-b', '--config', config, '--ssh-key', '/nonexistent/key'], dir).stderr).toMatch(/^error: --ssh-key: /m);
  });

  test('GIVEN neither cdktf.out nor --config THEN verify and drain exit 2 naming what is missing, never the built-in addresses', () => {
    const empty = scratchDir('k8s-ha-edge-nosite-');
    for (const [script, args] of [['verify', []], ['drain', ['lb01']]] as const) {
      const run = runCli(script, [...args, '--ssh-key', __filename], empty);
      expect(run.stderr).toMatch(new RegExp(`^error: --config: got nothing, and ${join(empty, 'cdktf.out', 'topology.json')} does not exist; expected --config FILE`, 'm'));
      expect(run.status).toBe(2);
    }
  });

  test('GIVEN a corrupt or tampered topology.json THEN exit 2 naming the file, no stack trace', () => {
    const site = scratchDir('k8s-ha-edge-badsite-');
    mkdirSync(join(site, 'cdktf.out'));
    const file = join(site, 'cdktf.out', 'topology.json');
    for (const [content, message] of [
      ['{x', `${file}: got unparsable JSON`],
      ['{"format":1,"config":{"loadBalancer":{"vip":"not-an-address"}}}', `invalid topology in ${file}`],
    ]) {
      writeFileSync(file, content);
      const run = runCli('drain', ['lb01', '--ssh-key', __filename], site);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.status).toBe(2);
    }
  });
});

describe('apply reads manifest.json as input: checked, never trusted', () => {
  /** A cdktf.out with the given manifest.json and the four stack directories synth writes. */
  function outWith(manifest: string): string {
    const out = join(scratchDir('k8s-ha-edge-manifest-'), 'cdktf.out');
    for (const stack of ['gateway', 'lb', 'k8s', 'client']) mkdirSync(join(out, 'stacks', stack), { recursive: true });
    writeFileSync(join(out, 'manifest.json'), manifest);
    return out;
  }

  test.each([
    ['unparsable JSON', '{x', 'manifest.json: got unparsable JSON'],
    ['no stacks', '{}', 'manifest.json: stacks: got nothing, expected a mapping of stack names (k8s, lb, gateway, client) to stacks'],
    ['a working directory outside the tree', JSON.stringify({ stacks: { gateway: { workingDirectory: '../../../../../etc' } } }),
      'manifest.json: stacks.gateway.workingDirectory: got "../../../../../etc", expected an existing directory inside'],
    ['an absolute working directory', JSON.stringify({ stacks: { gateway: { workingDirectory: '/etc' } } }), 'stacks.gateway.workingDirectory: got "/etc"'],
    ['a stack synth does not write', JSON.stringify({ stacks: { evil: { workingDirectory: 'stacks/gateway' } } }), 'stacks: got "evil", expected a stack synth writes'],
    ['a dependency that is no stack', JSON.stringify({ stacks: { lb: { workingDirectory: 'stacks/lb', dependencies: ['nope'] } } }), 'stacks.lb.dependencies: got ["nope"]'],
  ])('GIVEN %s THEN a UsageError naming the field', (_name, manifest, message) => {
    expect(() => readStacks(outWith(manifest))).toThrow(UsageError);
    expect(() => readStacks(outWith(manifest))).toThrow(message);
  });

  test('GIVEN a working directory that is a symbolic link out of the tree THEN refused', () => {
    const out = outWith(JSON.stringify({ stacks: { gateway: { workingDirectory: 'stacks/escape' } } }));
    symlinkSync(tmpdir(), join(out, 'stacks', 'escape'));
    expect(() => readStacks(out)).toThrow('stacks.gateway.workingDirectory: got "stacks/escape", expected an existing directory inside');
  });

  test('GIVEN npm run apply on a corrupt or hostile manifest THEN exit 2 with the field, no stack trace, terraform never started', () => {
    for (const [manifest, message] of [['{x', 'got unparsable JSON'], ['{}', 'stacks: got nothing'], [JSON.stringify({ stacks: { gateway: { workingDirectory: '../../../../../etc' } } }), 'workingDirectory: got "../../../../../etc"']]) {
      const out = outWith(manifest);
      const run = runCli('apply', ['--plan', '--cdktf-out', out, '--ssh-key', __filename]);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.status).toBe(2);
    }
  });
});

describe('npm run apply -- --plan needs no SSH key (a plan connects to no host)', () => {
  const hasTerraform = spawnSync('terraform', ['version']).status === 0;
  (hasTerraform ? test : test.skip)('GIVEN no --ssh-key and no TF_VAR_ssh_private_key_path THEN the plan runs and lists the changes (exit 0)', () => {
    const dir = scratchDir('k8s-ha-edge-plan-');
    // terraform_data: built into terraform, so init needs no provider download (the test has no network).
    const synth = spawnSync('node', [join(repo, 'scripts', 'synth.js'), '--only', 'tf', '--resource', 'terraform_data', '--cdktf-out', join(dir, 'cdktf.out')], { cwd: dir, encoding: 'utf8' });
    expect(synth.status).toBe(0);
    const env: NodeJS.ProcessEnv = { ...process.env, INIT_CWD: dir };
    delete env.TF_VAR_ssh_private_key_path;
    const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'apply.ts'), '--plan'], { cwd: repo, encoding: 'utf8', env, timeout: 180_000 });
    expect(run.stderr).not.toContain('--ssh-key');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('gateway: 3 to change\n  terraform_data.gateway: create\n  terraform_data.gateway-address: create\n  terraform_data.gateway-teardown: create\n');
  }, 200_000);

  test('GIVEN a stack\'s state THEN the plan uses the key path it recorded (terraform_data input, null_resource triggers), so no change of it is shown', () => {
    const state = (values: object) => JSON.stringify({ values: { root_module: { resources: [{ address: 'x.y', values: {} }, { address: 'x.gateway-teardown', values }] } } });
    expect(keyPathInState(state({ input: { address: '192.168.10.1', ssh_private_key_path: '/home/ops/.ssh/id_ed25519' } }), 'ssh_private_key_path')).toBe('/home/ops/.ssh/id_ed25519');
    expect(keyPathInState(state({ triggers: { ssh_private_key_path: '/k' } }), 'ssh_private_key_path')).toBe('/k');
    expect(keyPathInState('{"format_version":"1.0"}', 'ssh_private_key_path')).toBeUndefined();
  });
});

describe('verify opens SSH sessions to a bounded number of hosts at once (a burst of handshakes disturbed the site it read)', () => {
  test('GIVEN 25 hosts and a limit of 6 THEN every host is visited once, never more than 6 at a time', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await eachAtMost(6, Array.from({ length: 25 }, (_, i) => i), async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBe(6);
  });
});
