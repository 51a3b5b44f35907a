/**
 * verify's health checks: the verdicts from recorded answers (pure functions), the command run by bash
 * with stand-in tools, and npm run verify end to end under `unshare -n` with an `ssh` stand-in that
 * answers each host's commands (no host is reached; a real clock is checked only in the lab).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodesOf } from '../lib/kubernetes/node-list';
import { certificatesVerdict, CLOCK_COMMAND, clockVerdict, unknownNodesVerdict } from '../ops/health';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const dir = scratchDir('k8s-ha-edge-health-');

/** A directory of stand-in commands. */
function bin(commands: Record<string, string>): string {
  const path = join(dir, `bin-${Object.keys(commands).join('-')}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(path);
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(path, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(path, name), 0o755);
  }
  return path;
}

/** `chronyc -n tracking` as chrony 4 prints it (the fields verify reads; the numbers are made up). */
const TRACKING = (leap: string) => [
  'Reference ID    : C0A80A02 (192.168.10.2)',
  'Stratum         : 3',
  'Ref time (UTC)  : Mon Dec 07 18:00:00 2026',
  'System time     : 0.000012345 seconds fast of NTP time',
  'Last offset     : +0.000001234 seconds',
  'RMS offset      : 0.000023456 seconds',
  'Frequency       : 12.345 ppm slow',
  'Residual freq   : +0.001 ppm',
  'Skew            : 0.012 ppm',
  'Root delay      : 0.012345678 seconds',
  'Root dispersion : 0.001234567 seconds',
  'Update interval : 64.2 seconds',
  `Leap status     : ${leap}`,
].join('\n');

describe('verify: clock synchronised', () => {
  test.each([
    ['timedatectl says yes', 'pass', 'timedatectl yes\nchronyc Normal\nactive chrony\n', 'synchronised (timedatectl NTPSynchronized=yes; chrony active)'],
    ['timedatectl says no, chrony running', 'warn', 'timedatectl no\nchronyc Not synchronised\nactive chronyd\n', 'not synchronised (timedatectl NTPSynchronized=no; chronyd active)'],
    ['timedatectl says no, no daemon', 'warn', 'timedatectl no\nchronyc \n', 'not synchronised (timedatectl NTPSynchronized=no; no time sync daemon active)'],
    ['no timedatectl, chronyc synchronised', 'pass', 'timedatectl \nchronyc Normal\nactive chronyd\n', 'synchronised (chronyc leap status Normal; chronyd active)'],
    ['no timedatectl, chronyc not synchronised', 'warn', 'timedatectl \nchronyc Not synchronised\nactive chrony\n', 'not synchronised (chronyc leap status Not synchronised; chrony active)'],
    ['neither answers', 'skipped', 'timedatectl \nchronyc \n', 'not checked: neither timedatectl nor chronyc answered'],
  ])('GIVEN %s THEN %s', (_name, result, output, detail) => {
    expect(clockVerdict(output)).toEqual({ result, detail });
  });

  test('the command, run by bash with stand-in timedatectl, chronyc and systemctl, gives what the verdict reads', () => {
    const tools = bin({
      timedatectl: '[ "$*" = "show -p NTPSynchronized --value" ] && echo no',
      chronyc: `[ "$*" = "-n tracking" ] && cat <<'OUT'\n${TRACKING('Not synchronised')}\nOUT`,
      systemctl: '[ "$1 $2 $3" = "is-active --quiet chrony" ]',
    });
    const run = spawnSync('bash', ['-c', CLOCK_COMMAND], { encoding: 'utf8', env: { ...process.env, PATH: `${tools}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('timedatectl no\nchronyc Not synchronised\nactive chrony\n');
    expect(clockVerdict(run.stdout).result).toBe('warn');
  });
});

/** The written fixtures of kubeadm's report (test/fixtures/kubeadm/README.md says how they were made). */
const fixture = (name: string) => join(__dirname, 'fixtures', 'kubeadm', `${name}.json`);

describe('verify: control-plane certificates, from kubeadm certs check-expiration -o json', () => {
  test.each([
    ['fresh', 'pass', '14 certificates, the first to expire: admin.conf in 363 d (2027-12-07T18:00:00Z)'],
    ['joined-control-plane', 'pass', '13 certificates, the first to expire: admin.conf in 363 d (2027-12-07T18:00:00Z)'],
    ['expiring-in-20-days', 'warn', 'expire within 30 days: apiserver in 19 d, apiserver-kubelet-client in 19 d; renew: kubeadm certs renew all on the node, then restart the control-plane Pods'],
    ['expired', 'FAIL', 'expire within 7 days: apiserver-etcd-client expired 2026-12-01T18:00:00Z, admin.conf in 4 d; within 30: front-proxy-client in 24 d; '
      + 'renew: kubeadm certs renew all on the node, then restart the control-plane Pods'],
  ])('GIVEN %s THEN %s', (name, result, detail) => {
    expect(certificatesVerdict(readFileSync(fixture(name), 'utf8'))).toEqual({ result, detail });
  });

  test('a CA near its end counts like a certificate, named as a CA', () => {
    const info = JSON.parse(readFileSync(fixture('joined-control-plane'), 'utf8'));
    info.certificateAuthorities[1].residualTime = 10 * 86_400;
    expect(certificatesVerdict(JSON.stringify(info))).toMatchObject({ result: 'warn', detail: expect.stringMatching(/^expire within 30 days: etcd-ca \(CA\) in 10 d;/) });
  });

  test.each([
    ['no JSON at all (a kubeadm without -o)', 'CERTIFICATE   EXPIRES   RESIDUAL TIME\nadmin.conf   Dec 07, 2027 18:00 UTC   364d\n'],
    ['JSON of another kind', '{"kind":"Images","apiVersion":"output.kubeadm.k8s.io/v1alpha3","images":[]}'],
    ['an entry without residualTime', '{"kind":"CertificateExpirationInfo","certificates":[{"name":"apiserver"}],"certificateAuthorities":[]}'],
    ['cut short', readFileSync(fixture('fresh'), 'utf8').slice(0, 700)],
  ])('GIVEN %s THEN a failure saying kubeadm printed no report, never a pass', (_name, output) => {
    expect(certificatesVerdict(output)).toEqual({ result: 'FAIL', detail: 'kubeadm certs check-expiration -o json printed no CertificateExpirationInfo' });
  });
});

/** A synth's cdktf.out of the built-in topology. */
const site = scratchDir('k8s-ha-edge-health-site-');
beforeAll(() => {
  const run = spawnSync('node', [join(repo, 'scripts', 'synth.js'), '--only', 'tf', '--cdktf-out', join(site, 'cdktf.out')], { cwd: site, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
});

/**
 * npm run verify --json with an ssh stand-in: every host answers `true` (reachable) and the clock
 * command with `clock[address]`; a command naming kubeadm is run by bash on the master with a
 * stand-in kubeadm that prints `certificates` (a fixture; none: no kubeadm there); every other command
 * fails, so only the rows asked about are read.
 */
function verify(clock: Record<string, string>, certificates?: string, nodes?: string) {
  const kubeadm = certificates === undefined ? join(dir, 'no-kubeadm') : bin({ kubeadm: `[ "$*" = "certs check-expiration -o json" ] && cat ${JSON.stringify(certificates)}` });
  const ssh = bin({
    ssh: [
      'case "$*" in *" -O exit "*) exit 0 ;; esac',
      'for last; do :; done',
      'host=""; for a in "$@"; do case "$a" in *@*) host=${a#*@} ;; esac; done',
      'case "$last" in',
      '  true|"sudo -n true") exit 0 ;;',
      `  *kubeadm*) [ "$host" = 192.168.10.10 ] && PATH=${kubeadm}:/usr/bin:/bin exec bash -c "$last"; exit 1 ;;`,
      // `nodes`: the master has kubectl, and `kubectl get nodes -o json` prints that fixture.
      ...(nodes === undefined ? [] : [
        '  "command -v kubectl") [ "$host" = 192.168.10.10 ] ;;',
        `  *"kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json") [ "$host" = 192.168.10.10 ] && cat ${JSON.stringify(nodes)} ;;`,
      ]),
      '  *"timedatectl show"*) case "$host" in',
      ...Object.entries(clock).map(([address, answer]) => `    ${address}) printf ${JSON.stringify(answer)} ;;`),
      '    *) printf "timedatectl yes\\nchronyc \\n" ;;',
      '  esac ;;',
      '  *) exit 1 ;;',
      'esac',
    ].join('\n'),
  });
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'verify.ts'), '--ssh-key', __filename, '--json'], {
    cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, INIT_CWD: site, PATH: `${ssh}:${process.env.PATH}` },
  });
  const report = JSON.parse(run.stdout) as { summary: Record<string, number>; checks: Array<{ host: string; check: string; result: string; detail: string }> };
  return {
    status: run.status, report, clocks: report.checks.filter((c) => c.check === 'clock synchronised (NTP)'),
    certificates: report.checks.filter((c) => c.check.startsWith('certificates:')),
    nodes: report.checks.filter((c) => c.check.startsWith('nodes Ready') || c.check === 'no Nodes the topology does not have'),
  };
}

describe('npm run verify: every host\'s clock', () => {
  test('GIVEN node02 not synchronised THEN its row warns, by name, every other host passes, and the warning is counted', () => {
    const { report, clocks } = verify({ '192.168.10.30': 'timedatectl no\nchronyc \nactive chrony\n' });
    expect(clocks.map((c) => c.host).sort()).toEqual(['client', 'gateway', 'lb01', 'lb02', 'master', 'node01', 'node02'].sort());
    expect(clocks.filter((c) => c.result !== 'pass')).toEqual([
      { host: 'node02', check: 'clock synchronised (NTP)', result: 'warn', detail: 'not synchronised (timedatectl NTPSynchronized=no; chrony active)' },
    ]);
    expect(report.summary.warned).toBe(1);
  });
});

describe('npm run verify: the control plane\'s certificates, with a stand-in kubeadm on the master', () => {
  test.each([
    ['fresh', 'pass'],
    ['expiring-in-20-days', 'warn'],
    ['expired', 'FAIL'],
  ])('GIVEN kubeadm reports %s THEN the master\'s row is %s', (name, result) => {
    const { certificates } = verify({}, fixture(name));
    expect(certificates).toEqual([{ host: 'master', check: 'certificates: none expires within 30 days (fails within 7)', result, detail: certificatesVerdict(readFileSync(fixture(name), 'utf8')).detail }]);
  });

  test('GIVEN no kubeadm on the master THEN not checked, never a pass', () => {
    expect(verify({}).certificates).toEqual([{ host: 'master', check: 'certificates: none expires within 30 days (fails within 7)', result: 'skipped', detail: 'not checked: no kubeadm on this host' }]);
  });
});

/** The written fixtures of kubectl's Node list (test/fixtures/kubectl/README.md says how they were made). */
const nodesFixture = (name: string) => join(__dirname, 'fixtures', 'kubectl', `${name}.json`);

describe('verify: Nodes the cluster has that the topology does not, from kubectl get nodes -o json', () => {
  const nodes = (name: string) => nodesOf(readFileSync(nodesFixture(name), 'utf8'))!;

  test('GIVEN the default site\'s Nodes and its topology THEN pass', () => {
    expect(unknownNodesVerdict(nodes('get-nodes-site'), ['master', 'node01', 'node02'])).toEqual({ result: 'pass', detail: '3 Nodes, each a host of the topology' });
  });

  test('GIVEN node02 removed from the topology but its Node left behind, and a Node joined by hand THEN FAIL, naming each with its state', () => {
    expect(unknownNodesVerdict(nodes('get-nodes-left-behind'), ['master', 'node01'])).toEqual({
      result: 'FAIL',
      detail: 'not in the topology: node02 (NotReady), node03 (Ready, cordoned); remove it as docs/runbook.md says (Removing a worker), or add it to the topology',
    });
  });

  test('GIVEN an answer that is not a list of Nodes THEN nodesOf says so (verify fails the row, never passes it)', () => {
    expect(nodesOf('error: You must be logged in to the server (Unauthorized)')).toBeUndefined();
    expect(nodesOf('{"kind":"Status"}')).toBeUndefined();
  });
});

describe('npm run verify: the Nodes, with a stand-in kubectl answer on the master', () => {
  test('GIVEN the site\'s own Nodes THEN both rows pass', () => {
    expect(verify({}, undefined, nodesFixture('get-nodes-site')).nodes.map((c) => [c.check, c.result])).toEqual([
      ['nodes Ready (master, node01, node02)', 'pass'],
      ['no Nodes the topology does not have', 'pass'],
    ]);
  });

  test('GIVEN Nodes the topology does not have THEN that row fails, naming them', () => {
    const { nodes } = verify({}, undefined, nodesFixture('get-nodes-left-behind'));
    expect(nodes.find((c) => c.check === 'no Nodes the topology does not have')).toMatchObject({ host: 'master', result: 'FAIL', detail: expect.stringContaining('not in the topology: node03 (Ready, cordoned)') });
  });
});
