/**
 * The generated scripts run by bash, as on a host: with stand-in commands (kubeadm, ssh)
 * on PATH where the real ones would change a machine, and only loopback for the network.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCheckNginx } from '../lib/load-balancer/keepalived';
import { renderApplyWorkload, renderJoinFromMaster, renderJoinWorker } from '../lib/kubernetes/kubeadm';
import { renderPage, renderPushPage } from '../lib/kubernetes/pages';
import { ensurePackages } from '../lib/os-profiles/packages';
import { DEBIAN_PROFILE, osProfile } from '../lib/os-profiles';
import { loadTopology } from '../lib/topology';
import { bundleFile, StackName, STAGING_GUARD, withStagingGuard } from '../lib/plan/bundle';
import { lines, scriptHeader } from '../lib/formats/shell';
import { renderFirewalldOpenings, renderSelinuxPolicy } from '../lib/load-balancer/host-policy';
import { renderFixture } from './render-fixture';

const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-scripts-'));
let count = 0;

function script(content: string): string {
  const path = join(dir, `script-${count++}.sh`);
  writeFileSync(path, content, { mode: 0o755 });
  return path;
}

/** A directory of stand-in commands that log their arguments (and stdin) to `log`. */
function fakeBin(commands: Record<string, string>): { bin: string; log: string } {
  const bin = mkdtempSync(join(dir, 'bin-'));
  const log = join(bin, 'calls.log');
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\nLOG=${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { bin, log };
}

function bash(path: string, options: { input?: string; path?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {}) {
  const result = spawnSync('bash', [path, ...(options.args ?? [])], {
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ...options.env, PATH: `${options.path ? `${options.path}:` : ''}${process.env.PATH}` },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const t = loadTopology();
const JOIN = 'kubeadm join 192.168.10.10:6443 --token 3xk9qa.b2c4d6e8f0g1h2i3 --discovery-token-ca-cert-hash sha256:' + 'ab'.repeat(32);

describe('join-worker.sh', () => {
  const worker = t.workers[0];
  const path = script(renderJoinWorker(worker));
  const fake = () => fakeBin({ kubeadm: 'echo "kubeadm $*" >> "$LOG"' });

  test('joins with the command from stdin, verifying the CA hash, under the worker\'s node name', () => {
    const { bin, log } = fake();
    const run = bash(path, { input: `${JOIN} \n`, path: bin });
    expect(run.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`${JOIN} --node-name node01\n`);
  });

  test.each([
    ['no CA hash', 'kubeadm join 192.168.10.10:6443 --token 3xk9qa.b2c4d6e8f0g1h2i3 --discovery-token-unsafe-skip-ca-verification'],
    ['an injected command', `${JOIN}; rm -rf /`],
    ['nothing', ''],
  ])('refuses %s and runs nothing', (_name, input) => {
    const { bin, log } = fake();
    const run = bash(path, { input, path: bin });
    expect(run.code).not.toBe(0);
    expect(existsSync(log)).toBe(false);
  });
});

describe('join-from-master.sh', () => {
  const worker = t.workers[1];
  const path = script(renderJoinFromMaster(t, worker, '/var/tmp/k8s-ha-edge/node02/join-worker.sh'));

  /** ssh stand-in: the worker has not joined; the master prints a join command; the worker logs what it reads. */
  function fakeSsh(joined: boolean) {
    return fakeBin({
      ssh: [
        'while [ "${1#-}" != "$1" ]; do case "$1" in -i|-o) shift 2 ;; *) shift ;; esac; done',
        'host=$1; shift',
        'echo "ssh $host $*" >> "$LOG"',
        'case "$*" in',
        `  "test -f /etc/kubernetes/kubelet.conf") exit ${joined ? 0 : 1} ;;`,
        `  *"token create"*) echo '${JOIN}' ;;`,
        '  *join-worker.sh*) echo "stdin: $(cat)" >> "$LOG" ;;',
        'esac',
      ].join('\n'),
    });
  }

  test('creates a token with the TTL on the master and pipes the join command to the worker', () => {
    const { bin, log } = fakeSsh(false);
    const run = bash(path, { path: bin, env: { SSH_PRIVATE_KEY_PATH: '/dev/null' } });
    expect(run.code).toBe(0);
    const [first, ...rest] = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(first).toBe('ssh root@192.168.10.30 test -f /etc/kubernetes/kubelet.conf');
    // The two ends of the pipe run at the same time: their log lines come in either order.
    expect(rest.sort()).toEqual([
      'ssh root@192.168.10.10 kubeadm token create --ttl 15m --print-join-command',
      'ssh root@192.168.10.30 bash /var/tmp/k8s-ha-edge/node02/join-worker.sh',
      `stdin: ${JOIN}`,
    ].sort());
  });

  test('does nothing, and creates no token, when the worker has joined', () => {
    const { bin, log } = fakeSsh(true);
    const run = bash(path, { path: bin, env: { SSH_PRIVATE_KEY_PATH: '/dev/null' } });
    expect(run.code).toBe(0);
    expect(readFileSync(log, 'utf8')).not.toContain('token create');
  });

  test('refuses to run without the key variable', () => {
    const run = bash(path, { env: { SSH_PRIVATE_KEY_PATH: '' } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('SSH_PRIVATE_KEY_PATH');
  });
});

describe('push-page.sh', () => {
  test('installs the page into the hostPath, and a second run changes nothing', () => {
    const hostPath = join(dir, 'data');
    const local = loadTopology({ overrides: { workload: { hostPath } } });
    const bundle = mkdtempSync(join(dir, 'page-'));
    writeFileSync(join(bundle, 'index.html'), renderPage(local.workers[0]));
    writeFileSync(join(bundle, 'push-page.sh'), renderPushPage(local, local.workers[0]));
    expect(bash(join(bundle, 'push-page.sh')).code).toBe(0);
    const first = readFileSync(join(hostPath, 'index.html'), 'utf8');
    expect(bash(join(bundle, 'push-page.sh')).code).toBe(0);
    expect(readFileSync(join(hostPath, 'index.html'), 'utf8')).toBe(first);
    expect(first).toBe('this is node01\n');
  });
});

describe('check_nginx.sh', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('passes while the LB port accepts connections on 127.0.0.1 and fails once it does not', async () => {
    const path = script(renderCheckNginx(loadTopology({ overrides: { loadBalancer: { listenPort: port } } })));
    expect(bash(path).code).toBe(0);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(bash(path).code).not.toBe(0);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
});

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
(hasDpkg ? describe : describe.skip)('ensurePackages on Debian (the real dpkg-query of this machine, a stand-in apt-get)', () => {
  const fakeApt = () => fakeBin({ 'apt-get': 'echo "apt-get $*" >> "$LOG"', 'debconf-set-selections': 'cat >> "$LOG"' });

  test('installs nothing, and does not even update, when every package is installed', () => {
    const { bin, log } = fakeApt();
    const run = bash(script(`set -euo pipefail\n${ensurePackages(DEBIAN_PROFILE.packageManager, ['bash', 'coreutils', 'dpkg'])}\n`), { path: bin });
    expect(run.code).toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  test('installs only the missing packages, with their pinned spec and flags, after the debconf answers', () => {
    const { bin, log } = fakeApt();
    const missing = 'k8s-ha-edge-not-a-package';
    const snippet = ensurePackages(DEBIAN_PROFILE.packageManager, ['bash', missing], {
      installSpec: (p) => `${p}=1.35.3-*`, installFlags: ['--allow-change-held-packages'], answers: ['pkg question/x boolean false'],
    });
    const run = bash(script(`set -euo pipefail\n${snippet}\n`), { path: bin });
    expect(run.code).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n')).toEqual([
      'pkg question/x boolean false',
      'apt-get update -q',
      `apt-get install -y -q --allow-change-held-packages ${missing}=1.35.3-*`,
      '',
    ]);
  });
});

describe('apply-workload.sh', () => {
  const bundle = mkdtempSync(join(dir, 'workload-'));
  writeFileSync(join(bundle, 'apply-workload.sh'), renderApplyWorkload(t, 'workload.k8s.yaml'));
  writeFileSync(join(bundle, 'workload.k8s.yaml'), 'kind: Pod\n');

  test('waits for every worker to register and be Ready, then applies', () => {
    const { bin, log } = fakeBin({ kubectl: 'echo "kubectl $*" >> "$LOG"' });
    expect(bash(join(bundle, 'apply-workload.sh'), { path: bin }).code).toBe(0);
    expect(readFileSync(log, 'utf8').trimEnd().split('\n')).toEqual([
      'kubectl get node/node01',
      'kubectl wait --for=condition=Ready node/node01 --timeout=600s',
      'kubectl get node/node02',
      'kubectl wait --for=condition=Ready node/node02 --timeout=600s',
      'kubectl apply -f workload.k8s.yaml',
    ]);
  });

  test('replaces the Pods when apply is refused (Pods are immutable)', () => {
    const { bin, log } = fakeBin({ kubectl: 'echo "kubectl $*" >> "$LOG"; [ "$1" != apply ]' });
    expect(bash(join(bundle, 'apply-workload.sh'), { path: bin }).code).toBe(0);
    expect(readFileSync(log, 'utf8').trimEnd().split('\n').slice(-2)).toEqual([
      'kubectl apply -f workload.k8s.yaml',
      'kubectl replace --force -f workload.k8s.yaml',
    ]);
  });

  test('fails when a node never becomes Ready', () => {
    const { bin } = fakeBin({ kubectl: '[ "$1" != wait ]' });
    expect(bash(join(bundle, 'apply-workload.sh'), { path: bin }).code).not.toBe(0);
  });
});

describe('the staging guard (issue 8, point 12)', () => {
  const { plan } = renderFixture();
  const guarded = (content: string) => content.includes(STAGING_GUARD);

  test('every script run from the staging directory has it; keepalived\'s check and the local join script do not', () => {
    const scripts = plan.bundles.flatMap((b) => b.files.filter((f) => f.executable).map((f) => ({ b, f })));
    for (const { b, f } of scripts) {
      const expected = f.name !== 'check_nginx.sh' && f.name !== b.runLocally;
      expect([`${b.id}/${f.name}`, guarded(f.content)]).toEqual([`${b.id}/${f.name}`, expected]);
    }
    for (const b of plan.bundles.filter((b) => b.run)) expect(guarded(b.files.find((f) => f.name === b.run)!.content)).toBe(true);
  });

  const probe = withStagingGuard({
    id: 'probe', stack: StackName.LB, target: { hostName: 'h', address: '1.2.3.4', user: 'root', sudoPrefix: '' }, dependsOn: [], description: '',
    files: [bundleFile('run.sh', `${scriptHeader('probe')}echo ran\n`)],
  }).files[0].content;

  function staged(rootMode: number, bundleMode: number, bundleOwner = 0): string {
    const root = mkdtempSync(join(dir, 'staging-'));
    const bundle = join(root, 'probe');
    mkdirSync(bundle);
    const path = join(bundle, 'run.sh');
    writeFileSync(path, probe);
    chmodSync(root, rootMode);
    chmodSync(bundle, bundleMode);
    chownSync(bundle, bundleOwner, bundleOwner);
    return path;
  }

  const asRoot = process.getuid?.() === 0 ? test : test.skip;

  asRoot('runs from a root-owned 0700 directory under a root-owned 0700 staging root', () => {
    expect(bash(staged(0o700, 0o700))).toEqual(expect.objectContaining({ code: 0, stdout: 'ran\n' }));
  });

  asRoot('refuses a directory others can enter or write, one owned by another user, and a shared staging root', () => {
    for (const [path, why] of [
      [staged(0o700, 0o755), /probe must be owned by root with mode 0700, got root 755/],
      [staged(0o700, 0o700, 65534), /probe must be owned by root with mode 0700, got nobody 700/],
      [staged(0o1777, 0o700), /staging-\w+ must be owned by root with mode 0700, got root 1777/],
    ] as const) {
      const result = bash(path);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(why);
    }
  });
});

describe('load balancer host policy, with stand-in SELinux and firewalld tools (issue 8, point 1)', () => {
  const rhel = loadTopology({ overrides: { hostDefaults: { osFamily: 'rhel' } } });
  const lb01 = rhel.loadBalancer.hosts[0];
  const header = scriptHeader('stand-in run');

  /** getenforce prints $SELINUX_MODE; semanage and getsebool answer from state files; every call is logged. */
  function selinuxTools(state: { labelled: boolean; booleansOn: boolean; portDefinedByPolicy?: boolean }) {
    return fakeBin({
      getenforce: 'echo "$SELINUX_MODE"',
      rpm: 'echo "rpm $*" >> "$LOG"',
      dnf: 'echo "dnf $*" >> "$LOG"',
      semanage: [
        'echo "semanage $*" >> "$LOG"',
        `if [ "$1 $2" = "port -l" ]; then echo 'http_port_t                    tcp      80, 81, 443${state.labelled ? ', 3344' : ''}, 8008, 8009'; exit 0; fi`,
        `if [ "$2" = -a ] && ${state.portDefinedByPolicy ? 'true' : 'false'}; then echo 'ValueError: Port tcp/3344 already defined' >&2; exit 1; fi`,
      ].join('\n'),
      getsebool: `echo "$1 --> ${state.booleansOn ? 'on' : 'off'}"`,
      setsebool: 'echo "setsebool $*" >> "$LOG"',
      setenforce: 'echo "setenforce $*" >> "$LOG"',
    });
  }

  const selinuxScript = script(lines(header, renderSelinuxPolicy(rhel, osProfile(lb01)) as string));
  const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  test('enforcing: labels the LB port http_port_t and sets both booleans persistently, never touching SELinux itself', () => {
    const { bin, log } = selinuxTools({ labelled: false, booleansOn: false });
    expect(bash(selinuxScript, { path: bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(log).filter((c) => !c.startsWith('rpm '))).toEqual([
      'semanage port -l',
      'semanage port -a -t http_port_t -p tcp 3344',
      'setsebool -P httpd_can_network_connect on',
      'setsebool -P keepalived_connect_any on',
    ]);
  });

  test('a port the policy already types otherwise is modified (-m), not added', () => {
    const { bin, log } = selinuxTools({ labelled: false, booleansOn: true, portDefinedByPolicy: true });
    expect(bash(selinuxScript, { path: bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(log).filter((c) => c.startsWith('semanage'))).toEqual([
      'semanage port -l', 'semanage port -a -t http_port_t -p tcp 3344', 'semanage port -m -t http_port_t -p tcp 3344',
    ]);
  });

  test('a second run (port labelled, booleans on) changes nothing; SELinux disabled: nothing at all', () => {
    const done = selinuxTools({ labelled: true, booleansOn: true });
    expect(bash(selinuxScript, { path: done.bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(done.log).filter((c) => !c.startsWith('rpm '))).toEqual(['semanage port -l']);
    const off = selinuxTools({ labelled: false, booleansOn: false });
    expect(bash(selinuxScript, { path: off.bin, env: { SELINUX_MODE: 'Disabled' } }).code).toBe(0);
    expect(calls(off.log)).toEqual([]);
  });

  test('the Debian profile has no SELinux step', () => {
    expect(renderSelinuxPolicy(t, DEBIAN_PROFILE)).toBe(false);
  });

  /** systemctl is-active firewalld answers $FIREWALLD; firewall-cmd keeps the zone's runtime and permanent entries in a file. */
  function firewalld() {
    return fakeBin({
      systemctl: '[ "$*" = "is-active --quiet firewalld" ] && [ "$FIREWALLD" = active ]',
      'firewall-cmd': [
        'echo "firewall-cmd $*" >> "$LOG"',
        'state="$(dirname "$LOG")/state"; touch "$state"',
        'case "$1" in --get-zone-of-interface=*) echo "no zone" >&2; exit 2;; --get-default-zone) echo public; exit 0;; esac',
        'scope=runtime; for a in "$@"; do [ "$a" = --permanent ] && scope=permanent; done',
        'for a in "$@"; do case "$a" in',
        '  --query-*) grep -qxF "$scope ${a#--query-}" "$state"; exit;;',
        '  --add-*) echo "$scope ${a#--add-}" >> "$state"; exit 0;;',
        'esac; done',
      ].join('\n'),
    });
  }

  test('firewalld running: exactly VRRP from the peer to the VRRP group, and the LB port, runtime and permanent; a re-run adds nothing', () => {
    const path = script(lines(header, renderFirewalldOpenings(rhel, lb01)));
    const { bin, log } = firewalld();
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    const vrrp = 'rich-rule=rule family="ipv4" source address="192.168.10.50" destination address="224.0.0.18" protocol value="vrrp" accept';
    expect(readFileSync(join(bin, 'state'), 'utf8').trim().split('\n')).toEqual([
      `runtime ${vrrp}`, 'runtime port=3344/tcp', `permanent ${vrrp}`, 'permanent port=3344/tcp',
    ]);
    expect(calls(log).filter((c) => c.includes('--add-')).every((c) => c.includes('--zone=public'))).toBe(true);
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    expect(readFileSync(join(bin, 'state'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(calls(log).filter((c) => c.includes('--add-'))).toHaveLength(4);
  });

  test('unicast: VRRP from each peer to this host\'s address; firewalld not running: not called', () => {
    const custom = loadTopology({ configPath: join(__dirname, '..', 'examples', 'custom-three-workers.yaml') });
    const [a, ...peers] = custom.loadBalancer.hosts;
    const path = script(lines(header, renderFirewalldOpenings(custom, a)));
    const { bin } = firewalld();
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    expect(readFileSync(join(bin, 'state'), 'utf8').split('\n').filter((l) => l.startsWith('runtime rich-rule'))).toEqual(peers.map((p) =>
      `runtime rich-rule=rule family="ipv4" source address="${p.address}" destination address="${a.address}" protocol value="vrrp" accept`));
    const idle = firewalld();
    expect(bash(path, { path: idle.bin, env: { FIREWALLD: 'inactive' } }).code).toBe(0);
    expect(calls(idle.log)).toEqual([]);
  });
});
