import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, UsageError } from '../ops/args';
import { normalizeRuleset } from '../ops/ruleset';
import { checkFresh, inDependencyOrder, prerequisites, selectStacks, StackEntry } from '../ops/stacks';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
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
    [['lb09', '--ssh-key', __filename], /^error: LB: got "lb09", expected one of lb01, lb02$/m],
    [['--undo'], /^error: LB: got nothing, expected one of lb01, lb02$/m],
    [['lb01', '--ssh-key', '/nonexistent/key'], /^error: --ssh-key: got \/nonexistent\/key, expected an existing private key file$/m],
    [['lb01', '--ssh-key', __filename, '--timeout', '0'], /^error: --timeout: got "0", expected an integer in 1-3600$/m],
  ])('GIVEN npm run drain %j THEN exit 2 before any SSH, saying what was expected', (args, message) => {
    const run = spawnSync('node', ['--import', 'tsx', join(repo, 'ops', 'drain.ts'), ...args], { cwd: repo, encoding: 'utf8' });
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

describe('verify: the gateway ruleset comparison', () => {
  test('GIVEN iptables-save output THEN comments, counters and other tables do not count', () => {
    const generated = '*nat\n:PREROUTING ACCEPT [0:0]\n# why\n-A PREROUTING -j X\nCOMMIT\n';
    const generated2 = `${generated}*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n`;
    // iptables-save lists the tables in the kernel's order, not the file's.
    const saved = '# Generated by iptables-save\n*filter\n:INPUT DROP [9:1]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n*mangle\n:PREROUTING ACCEPT [5:300]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [12:720]\n-A PREROUTING -j X\nCOMMIT\n# Completed\n';
    const tables = new Set(['nat', 'filter']);
    expect(normalizeRuleset(saved, tables)).toBe(normalizeRuleset(generated2, tables));
    expect(normalizeRuleset(saved.replace('-j X', '-j Y'), tables)).not.toBe(normalizeRuleset(generated2, tables));
  });
});
