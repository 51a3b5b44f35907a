/**
 * The generated scripts run by bash, as on a host: with stand-in commands (kubeadm, ssh)
 * on PATH where the real ones would change a machine, and only loopback for the network.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { renderCheckNginx } from '../lib/load-balancer/keepalived';
import { renderApplyWorkload, renderCheckCluster, renderJoinFromMaster, renderJoinWorker } from '../lib/kubernetes/kubeadm';
import { renderPage, renderPushPage } from '../lib/kubernetes/pages';
import { ensurePackages } from '../lib/os-profiles/packages';
import { DEBIAN_PROFILE, osProfile, RHEL_PROFILE } from '../lib/os-profiles';
import { bundleFile, REMOTE_STAGING_DIR, StackName, STAGING_GUARD, withStagingGuard } from '../lib/plan/bundle';
import { buildStacksApp } from '../constructs/tf/stacks-app';
import { SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { renderFirewalldOpenings, renderSelinuxPolicy } from '../lib/load-balancer/host-policy';
import { loadTopology } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { cgroupV2Check, kubeadmVersionCheck } from '../lib/kubernetes/node-prep';
import { renderChronyConf, timeSyncSetup } from '../lib/kubernetes/time-sync';
import { containerdConfigure, containerdVersionCheck, renderContainerdDropIn, renderContainerdMainConfig } from '../lib/kubernetes/containerd';
import { INSTALL_IF_CHANGED, scriptHeader, ShellPart, shellScript } from '../lib/formats/shell';
import { scratchDir } from './support/scratch';
import { fakeBin as fakeBinIn } from './support/fake-bin';

const dir = scratchDir('k8s-ha-edge-scripts-');
let count = 0;

function script(content: string): string {
  const path = join(dir, `script-${count++}.sh`);
  writeFileSync(path, content, { mode: 0o755 });
  return path;
}

/** Stand-in commands in this test's scratch directory (test/support/fake-bin.ts). */
const fakeBin = (commands: Record<string, string>) => fakeBinIn(dir, commands);

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
/** What `kubeadm token create --print-join-command` prints on the master: the endpoint is the VIP by default. */
const ENDPOINT = `${t.loadBalancer.vip}:${t.kubernetes.apiServerPort}`;
const JOIN = `kubeadm join ${ENDPOINT} --token 3xk9qa.b2c4d6e8f0g1h2i3 --discovery-token-ca-cert-hash sha256:${'ab'.repeat(32)}`;

describe('join-worker.sh', () => {
  const path = script(renderJoinWorker(t));
  const fake = () => fakeBin({ kubeadm: 'echo "kubeadm $*" >> "$LOG"' });

  test('joins with the command from stdin, verifying the CA hash, under the node name it is given', () => {
    const { bin, log } = fake();
    const run = bash(path, { input: `${JOIN} \n`, path: bin, args: ['node01'] });
    expect(run.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`${JOIN} --node-name node01\n`);
  });

  test.each([
    ['no CA hash', `kubeadm join ${ENDPOINT} --token 3xk9qa.b2c4d6e8f0g1h2i3 --discovery-token-unsafe-skip-ca-verification`, ['node01']],
    // A master whose kubeconfig still names its own address (a site not moved to the VIP): the worker would depend on that one node.
    ['a join through one control-plane node, not the endpoint', JOIN.replace(ENDPOINT, `${t.controlPlane.address}:${t.kubernetes.apiServerPort}`), ['node01']],
    ['an injected command', `${JOIN}; rm -rf /`, ['node01']],
    ['nothing', '', ['node01']],
    ['no node name', JOIN, []],
    ['a node name that is not a DNS label', JOIN, ['Node01;id']],
  ])('refuses %s and runs nothing', (_name, input, args) => {
    const { bin, log } = fake();
    // A whole line, as ssh delivers it: without the newline `read` alone would fail the script.
    const run = bash(path, { input: `${input}\n`, path: bin, args });
    expect(run.code).not.toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  test('names the endpoint it expected when a join command goes through another address', () => {
    const { bin } = fake();
    const run = bash(path, { input: `${JOIN.replace(ENDPOINT, 'api.elsewhere:6443')}\n`, path: bin, args: ['node01'] });
    expect(run.stderr).toContain(`got a join command through api.elsewhere:6443, expected one through the control-plane endpoint ${ENDPOINT}`);
  });
});

/**
 * The worker's join as terraform runs it: the stacks synthesized, and the local-exec of `worker`'s
 * resource (its command and environment, the key variable set to /dev/null) run in the stack's directory.
 */
function localJoin(fixture: ReturnType<typeof renderFixture>, worker: string, bin: string) {
  const outdir = mkdtempSync(join(dir, 'stacks-'));
  buildStacksApp(fixture.plan, outdir).synth();
  const stackDir = join(outdir, 'stacks', 'k8s');
  const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
  const local = json.resource[fixture.topology.provisioning.resource][worker].provisioner.find((p: any) => p['local-exec'])['local-exec'];
  const env = Object.fromEntries(Object.entries(local.environment as Record<string, string>).map(([k, v]) => [k, v === `\${var.${SSH_KEY_VARIABLE}}` ? '/dev/null' : v]));
  const run = spawnSync('bash', ['-c', local.command], {
    cwd: stackDir, encoding: 'utf8', timeout: 20_000,
    // Nothing of a worker's comes from the test's own environment: only what the resource sets.
    env: { ...process.env, KNOWN_HOSTS_FILE: undefined, PATH: `${bin}:${process.env.PATH}`, ...env },
  });
  return { stackDir, command: local.command as string, env, run: { code: run.status, stdout: run.stdout, stderr: run.stderr } };
}

describe('join-from-master.sh', () => {
  const seed = renderFixture();

  /** ssh stand-in: the worker has not joined; the master prints a join command; the worker logs what it reads. */
  function fakeSsh(joined: boolean) {
    return fakeBin({
      ssh: [
        'while [ "${1#-}" != "$1" ]; do case "$1" in -i|-o) shift 2 ;; *) shift ;; esac; done',
        'host=$1; shift',
        'echo "ssh $host $*" >> "$LOG"',
        'case "$*" in',
        `  *"join-worker.sh node0"?" --joined") exit ${joined ? 0 : 3} ;;`,
        `  *"token create"*) echo '${JOIN}' ;;`,
        '  *join-worker.sh*) echo "stdin: $(cat)" >> "$LOG" ;;',
        'esac',
      ].join('\n'),
    });
  }

  test('one script for every worker: each worker\'s resource runs it with what is the worker\'s own in its environment', () => {
    const { bin } = fakeSsh(true);
    const [one, two] = ['node01', 'node02'].map((w) => localJoin(seed, w, bin));
    expect(one.command).toBe('bash assets/_shared/join/join-from-master.sh');
    expect(two.command).toBe(one.command);
    expect(two.env).toEqual({
      SSH_PRIVATE_KEY_PATH: '/dev/null',
      WORKER_NAME: 'node02',
      WORKER_SSH: 'root@192.168.10.30',
      WORKER_HOST_KEY: 'unknown',
      WORKER_COMMAND: `bash ${REMOTE_STAGING_DIR}/node02/join-worker.sh node02`,
    });
  });

  test('creates a token with the TTL on the master and pipes the join command to the worker', () => {
    const { bin, log } = fakeSsh(false);
    const { run } = localJoin(seed, 'node02', bin);
    expect(run.code).toBe(0);
    const [first, ...rest] = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(first).toBe(`ssh root@192.168.10.30 bash ${REMOTE_STAGING_DIR}/node02/join-worker.sh node02 --joined`);
    // The two ends of the pipe run at the same time: their log lines come in either order.
    expect(rest.sort()).toEqual([
      'ssh root@192.168.10.10 kubeadm token create --ttl 15m --print-join-command',
      `ssh root@192.168.10.30 bash ${REMOTE_STAGING_DIR}/node02/join-worker.sh node02`,
      `stdin: ${JOIN}`,
    ].sort());
  });

  test('does nothing, and creates no token, when the worker has joined', () => {
    const { bin, log } = fakeSsh(true);
    const { run } = localJoin(seed, 'node02', bin);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('node02 has already joined\n');
    expect(readFileSync(log, 'utf8')).not.toContain('token create');
  });

  test('a worker that cannot say whether it has joined (unreachable, API server not answering): no token, exit 1', () => {
    const { bin, log } = fakeBin({ ssh: 'echo "ssh $*" >> "$LOG"; case "$*" in *--joined) exit 1 ;; esac' });
    const { run } = localJoin(seed, 'node02', bin);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('could not tell whether node02 has joined (exit 1); nothing was changed');
    expect(readFileSync(log, 'utf8')).not.toContain('token create');
  });

  const path = script(renderJoinFromMaster(t));
  const worker = { WORKER_NAME: 'node02', WORKER_SSH: 'root@192.168.10.30', WORKER_HOST_KEY: 'unknown', WORKER_COMMAND: 'bash join-worker.sh node02' };

  test.each([
    ['the key variable', { ...worker, SSH_PRIVATE_KEY_PATH: '' }, 'SSH_PRIVATE_KEY_PATH'],
    ['the worker', { SSH_PRIVATE_KEY_PATH: '/dev/null', WORKER_NAME: '' }, 'WORKER_NAME'],
    ['a known_hosts when a host key is known', { ...worker, SSH_PRIVATE_KEY_PATH: '/dev/null', WORKER_HOST_KEY: 'known' }, 'KNOWN_HOSTS_FILE'],
    ['a host key mode it knows', { ...worker, SSH_PRIVATE_KEY_PATH: '/dev/null', WORKER_HOST_KEY: 'yes' }, "got host key mode 'yes'"],
  ])('refuses to run without %s, and reaches no host', (_name, env, message) => {
    const { bin, log } = fakeSsh(false);
    // Nothing of the worker's comes from the test's own environment.
    const unset: NodeJS.ProcessEnv = { WORKER_NAME: '', WORKER_SSH: '', WORKER_COMMAND: '', WORKER_HOST_KEY: '', KNOWN_HOSTS_FILE: '' };
    const run = bash(path, { path: bin, env: { ...unset, ...env } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(message);
    expect(existsSync(log)).toBe(false);
  });
});

describe('push-page.sh', () => {
  test('installs the page into the hostPath, and a second run changes nothing', () => {
    const hostPath = join(dir, 'data');
    const local = loadTopology({ overrides: { workload: { hostPath } } });
    const bundle = mkdtempSync(join(dir, 'page-'));
    writeFileSync(join(bundle, 'index.html'), renderPage(local.workers[0]));
    writeFileSync(join(bundle, 'push-page.sh'), renderPushPage(local));
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

/** A snippet of a generated script as a script of its own, in strict mode like the whole. */
/** A script of the given parts, with the parameter header of the static ones (see shellScript). */
function snippet(...parts: Array<string | ShellPart>): string {
  return script(shellScript('test snippet', ...parts));
}

describe('prepare-node.sh: cgroup v2 is checked first', () => {
  const stat = (fs: string) => fakeBin({ stat: `echo "stat $*" >> "$LOG"; echo ${fs}` });

  test.each([
    ['rhel', RHEL_PROFILE, 'grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1'],
    ['debian', DEBIAN_PROFILE, 'update-grub'],
  ])('on cgroup v1 (%s) it stops with what to do', (_family, profile, remedy) => {
    const { bin, log } = stat('tmpfs');
    const run = bash(snippet(cgroupV2Check(profile), 'echo reached'), { path: bin });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('reached');
    // The same script on every node: it names the host it runs on (bash's $HOSTNAME).
    expect(run.stderr).toContain(`prepare-node.sh: ${hostname()} mounts /sys/fs/cgroup as tmpfs, not cgroup2fs`);
    expect(run.stderr).toContain('failCgroupV1');
    expect(run.stderr).toContain(remedy);
    expect(readFileSync(log, 'utf8')).toBe('stat -fc %T /sys/fs/cgroup\n');
  });

  test('on cgroup v2 it goes on', () => {
    const { bin } = stat('cgroup2fs');
    const run = bash(snippet(cgroupV2Check(RHEL_PROFILE), 'echo reached'), { path: bin });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('reached\n');
  });

  test('the check comes before the script changes anything', () => {
    // The staging guard comes first, and only reads; the parameter header only sets readonly variables, and the
    // parts' guards (`: "${NAME:?}"`) only read them: the first command after them is the cgroup check.
    const prepare = renderFixture().bundles.find((b) => b.id === 'node01')!.files.find((f) => f.name === 'prepare-node.sh')!.content.replace(STAGING_GUARD, '');
    const commands = prepare.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('set ') && !l.startsWith('cd ')
      && !l.startsWith('readonly ') && !l.startsWith(': "${'));
    expect(commands[0]).toBe('cgroup_fs=$(stat -fc %T /sys/fs/cgroup)');
  });
});

describe('prepare-node.sh: containerd must be as new as containerd\'s release table asks for the chosen Kubernetes', () => {
  const containerd = (version: string) => fakeBin({ containerd: `echo '${version}'` });
  const check = (k8s: string, profile = RHEL_PROFILE) =>
    snippet(containerdVersionCheck(loadTopology({ overrides: { kubernetes: { version: k8s } } }).kubernetes, profile), 'echo reached');

  test.each([
    ['1.36', 'containerd containerd.io 2.1.4 05044ec0a9a75232cad458027ca83437aae3f4da', '2.2.0', 'dnf upgrade -y containerd.io'],
    ['1.35', 'containerd github.com/containerd/containerd 1.7.28~ds1 1.7.28~ds1-1', '2.1.5', 'dnf upgrade -y containerd.io'],
    ['1.37', 'containerd github.com/containerd/containerd/v2 v2.1.9 abc', '2.2.0', 'dnf upgrade -y containerd.io'],
  ])('Kubernetes %s with "%s" stops, naming the minimum (%s) and the upgrade', (k8s, version, minimum, upgrade) => {
    const { bin } = containerd(version);
    const run = bash(check(k8s), { path: bin });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('reached');
    expect(run.stderr).toContain(`Kubernetes ${k8s} needs containerd ${minimum} or later`);
    expect(run.stderr).toContain(upgrade);
  });

  test.each([
    ['1.36', 'containerd containerd.io 2.2.0 1c4457e00facac03ce1d75f7b6777a7a851e5c41'],
    ['1.36', 'containerd github.com/containerd/containerd/v2 v2.3.2 abc'],
    ['1.35', 'containerd containerd.io 2.1.5 abc'],
    ['1.36.2', 'containerd containerd.io 2.10.0 abc'],
  ])('Kubernetes %s with "%s" goes on', (k8s, version) => {
    const { bin } = containerd(version);
    const run = bash(check(k8s), { path: bin });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('reached\n');
  });

  test('a version it cannot read stops the script', () => {
    const { bin } = containerd('containerd something unexpected');
    const run = bash(check('1.36', DEBIAN_PROFILE), { path: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read the containerd version');
  });
});

describe('prepare-node.sh: the installed kubeadm must be the topology\'s version', () => {
  const kubeadm = (version: string) => fakeBin({ kubeadm: `echo '${version}'` });
  const check = (k8s: string) => snippet(kubeadmVersionCheck(loadTopology({ overrides: { kubernetes: { version: k8s } } }).kubernetes), 'echo "ok $kubeadm_version"');

  test.each([['1.36', 'v1.36.3'], ['1.36.2', 'v1.36.2'], ['1.35', 'v1.35.0']])('%s with %s installed goes on', (k8s, installed) => {
    const run = bash(check(k8s), { path: kubeadm(installed).bin });
    expect(run.stdout).toBe(`ok ${installed}\n`);
  });

  test.each([['1.37', 'v1.36.3'], ['1.36.3', 'v1.36.2'], ['1.36', 'v1.35.4']])('a changed version (%s, %s installed) stops and names npm run upgrade', (k8s, installed) => {
    const run = bash(check(k8s), { path: kubeadm(installed).bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`kubeadm ${installed} is installed, but kubernetes.version is ${k8s}`);
    expect(run.stderr).toContain('npm run upgrade');
  });
});

describe('prepare-node.sh: containerd\'s config, only what k8s-ha-edge owns', () => {
  const PAUSE = 'registry.k8s.io/pause:3.10.1';
  /**
   * The configure step with /etc/containerd moved under a scratch root (the one change to the
   * generated texts), the bundle's two containerd files beside it, and stand-ins for kubeadm and systemctl.
   */
  function setup(existing?: string) {
    const root = mkdtempSync(join(dir, 'containerd-'));
    const etc = join(root, 'etc', 'containerd');
    mkdirSync(etc, { recursive: true });
    if (existing !== undefined) writeFileSync(join(etc, 'config.toml'), existing);
    writeFileSync(join(root, 'containerd-config.toml'), renderContainerdMainConfig().split('/etc/containerd').join(etc));
    writeFileSync(join(root, 'containerd-k8s.toml'), renderContainerdDropIn());
    const configure = shellScript('test', 'cd "$(dirname "$0")"', INSTALL_IF_CHANGED, 'kubeadm_version=v1.36.3', containerdConfigure());
    const path = join(root, 'configure.sh');
    writeFileSync(path, configure.split('/etc/containerd').join(etc));
    const fake = fakeBin({
      kubeadm: [
        'echo "kubeadm $*" >> "$LOG"',
        'printf "%s\\n" registry.k8s.io/kube-apiserver:v1.36.3 registry.k8s.io/coredns/coredns:v1.12.1 ' + PAUSE + ' registry.k8s.io/etcd:3.6.4-0',
      ].join('\n'),
      systemctl: 'echo "systemctl $*" >> "$LOG"',
    });
    const run = () => bash(path, { path: fake.bin });
    const read = (name: string) => readFileSync(join(etc, name), 'utf8');
    const calls = () => (existsSync(fake.log) ? readFileSync(fake.log, 'utf8') : '');
    return { etc, run, read, calls, log: fake.log };
  }

  test('no config.toml: a minimal one importing conf.d, and the drop-in with kubeadm\'s pause image; a second run restarts nothing', () => {
    const host = setup();
    const first = host.run();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(host.read('config.toml')).toMatch(/^version = 3\nimports = \['\/.*\/conf\.d\/\*\.toml'\]$/m);
    const dropIn = host.read('conf.d/k8s-ha-edge.toml');
    expect(dropIn).toContain(`sandbox = '${PAUSE}'`);
    expect(dropIn).toContain('SystemdCgroup = true');
    expect(host.calls()).toContain('kubeadm config images list --kubernetes-version v1.36.3');
    expect(host.calls()).toContain('systemctl restart containerd');
    writeFileSync(host.log, '');
    expect(host.run().code).toBe(0);
    expect(host.calls()).not.toContain('restart');
  });

  test('the package\'s stock config.toml (it disables CRI) is replaced', () => {
    const host = setup('#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n');
    expect(host.run().code).toBe(0);
    expect(host.read('config.toml')).not.toContain('disabled_plugins');
    expect(host.read('config.toml')).toContain('imports = [');
  });

  test('a config.toml with local settings is kept: only an imports line is added (with a backup), and the drop-in written', () => {
    const local = 'version = 3\n\n[plugins.\'io.containerd.cri.v1.images\'.registry]\n  config_path = \'/etc/containerd/certs.d\'\n';
    const host = setup(local);
    const run = host.run();
    expect(run.stderr).toBe('');
    expect(host.read('config.toml')).toMatch(/^imports = \[.*conf\.d\/\*\.toml'\]\n/);
    expect(host.read('config.toml')).toContain(local);
    expect(host.read('config.toml.k8s-ha-edge.bak')).toBe(local);
    expect(host.read('conf.d/k8s-ha-edge.toml')).toContain(PAUSE);
    // The next run finds its imports and changes nothing.
    writeFileSync(host.log, '');
    const before = host.read('config.toml');
    expect(host.run().code).toBe(0);
    expect(host.read('config.toml')).toBe(before);
    expect(host.calls()).not.toContain('restart');
  });

  test.each([
    ['a config version 2 file', 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"\n', 'config version 2', 'containerd config migrate'],
    ['a file that disables CRI among local settings', 'version = 3\ndisabled_plugins = ["cri", "io.containerd.x"]\nroot = "/data/containerd"\n', 'disables the CRI plugin', 'disabled_plugins'],
    ['imports without conf.d', 'version = 3\nimports = ["/etc/other/*.toml"]\n', 'has its own imports without', 'conf.d/*.toml'],
  ])('%s stops with what to do, and the file is left as it was', (_name, existing, problem, remedy) => {
    const host = setup(existing);
    const run = host.run();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(problem);
    expect(run.stderr).toContain(remedy);
    expect(host.read('config.toml')).toBe(existing);
    expect(existsSync(join(host.etc, 'conf.d', 'k8s-ha-edge.toml'))).toBe(false);
  });
});

describe('prepare-node.sh: time sync (chrony) on every node, at the topology\'s NTP servers', () => {
  const servers = { servers: [{ address: 'ntp1.example.internal' }, { address: '192.168.10.2' }] };
  /**
   * The time sync step with the family's chrony.conf and the restart stamp under a scratch root (the
   * profile's paths are data), chrony.conf (when there are servers) beside it, and stand-ins for
   * dpkg-query, apt-get and systemctl; `failRestart`: the next `systemctl restart` fails once.
   */
  function setup(timeSync: { servers: Array<{ address: string }> }, existing?: string) {
    const root = mkdtempSync(join(dir, 'chrony-'));
    const config = join(root, 'etc', 'chrony', 'chrony.conf');
    mkdirSync(dirname(config), { recursive: true });
    if (existing !== undefined) writeFileSync(config, existing);
    const profile = { ...DEBIAN_PROFILE, timeSync: { ...DEBIAN_PROFILE.timeSync, config } };
    const fake = fakeBin({
      'dpkg-query': 'if [ -e "$(dirname "$LOG")/installed-$3" ]; then printf "install ok installed"; fi',
      'apt-get': 'echo "apt-get $*" >> "$LOG"; for a in "$@"; do case "$a" in -*|install|update) ;; *) touch "$(dirname "$LOG")/installed-$a" ;; esac; done',
      systemctl: 'echo "systemctl $*" >> "$LOG"; if [ "$1" = restart ] && [ -e "$(dirname "$LOG")/fail-restart" ]; then rm "$(dirname "$LOG")/fail-restart"; exit 1; fi',
    });
    const write = (ts: typeof timeSync) => {
      const chrony = renderChronyConf(ts, profile);
      if (chrony === undefined) rmSync(join(root, 'chrony.conf'), { force: true });
      else writeFileSync(join(root, 'chrony.conf'), chrony);
      writeFileSync(join(root, 'time-sync.sh'), shellScript('test', 'cd "$(dirname "$0")"', INSTALL_IF_CHANGED, ...timeSyncSetup(ts, profile, join(root, 'restarted'))));
    };
    write(timeSync);
    const calls = () => (existsSync(fake.log) ? readFileSync(fake.log, 'utf8') : '');
    const run = () => {
      writeFileSync(fake.log, '');
      const result = bash(join(root, 'time-sync.sh'), { path: fake.bin });
      return { ...result, calls: calls() };
    };
    return { config, run, write, failRestart: () => writeFileSync(join(fake.bin, 'fail-restart'), '') };
  }
  const STOCK = '# Use Debian vendor zone.\npool 2.debian.pool.ntp.org iburst\ndriftfile /var/lib/chrony/chrony.drift\n';

  test('GIVEN servers THEN chrony installed, its config replaced (the stock one kept), enabled and restarted; a second run changes nothing', () => {
    const host = setup(servers, STOCK);
    const first = host.run();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.calls).toContain('apt-get install -y -q chrony');
    const conf = readFileSync(host.config, 'utf8');
    expect(conf.split('\n').filter((l) => /^(server|pool) /.test(l))).toEqual(['server ntp1.example.internal iburst', 'server 192.168.10.2 iburst']);
    expect(conf).toContain('driftfile /var/lib/chrony/chrony.drift');
    expect(readFileSync(`${host.config}.k8s-ha-edge.orig`, 'utf8')).toBe(STOCK);
    expect(first.calls).toContain('systemctl enable --now chrony');
    expect(first.calls).toContain('systemctl restart chrony');
    const second = host.run();
    expect(second.code).toBe(0);
    expect(second.calls).not.toContain('apt-get');
    expect(second.calls).not.toContain('restart');
    expect(readFileSync(`${host.config}.k8s-ha-edge.orig`, 'utf8')).toBe(STOCK);
  });

  test('GIVEN the servers removed from the topology THEN the kept file is put back and chrony restarted', () => {
    const host = setup(servers, STOCK);
    expect(host.run().code).toBe(0);
    host.write({ servers: [] });
    const back = host.run();
    expect(back.code).toBe(0);
    expect(readFileSync(host.config, 'utf8')).toBe(STOCK);
    expect(existsSync(`${host.config}.k8s-ha-edge.orig`)).toBe(false);
    expect(back.calls).toContain('systemctl restart chrony');
    expect(host.run().calls).not.toContain('restart');
  });

  test('GIVEN no servers THEN the distribution\'s chrony.conf is left as it is, chrony enabled', () => {
    const host = setup({ servers: [] }, STOCK);
    const run = host.run();
    expect(run.code).toBe(0);
    expect(readFileSync(host.config, 'utf8')).toBe(STOCK);
    expect(existsSync(`${host.config}.k8s-ha-edge.orig`)).toBe(false);
    expect(run.calls).toContain('systemctl enable --now chrony');
  });

  test('GIVEN a run stopped after the config changed but before the restart THEN the next run restarts chrony', () => {
    const host = setup(servers, STOCK);
    host.failRestart();
    expect(host.run().code).not.toBe(0);
    const retry = host.run();
    expect(retry.code).toBe(0);
    expect(retry.calls).toContain('systemctl restart chrony');
  });

  test('each family\'s chrony: Debian\'s unit and paths, RHEL\'s', () => {
    const params = (profile: typeof DEBIAN_PROFILE) => (timeSyncSetup(servers, profile)[1] as ShellPart).params;
    expect(params(DEBIAN_PROFILE)).toMatchObject({ CHRONY_SERVICE: 'chrony', CHRONY_CONFIG: '/etc/chrony/chrony.conf', TIME_SERVERS_SET: 'yes' });
    expect(params(RHEL_PROFILE)).toMatchObject({ CHRONY_SERVICE: 'chronyd', CHRONY_CONFIG: '/etc/chrony.conf' });
    expect(renderChronyConf(servers, RHEL_PROFILE)).toContain('driftfile /var/lib/chrony/drift\n');
    expect(timeSyncSetup(servers, RHEL_PROFILE)[0]).toContain('dnf install -y -q');
    // Both families' node bundles carry chrony.conf only when the topology names servers.
    const names = (overrides: Record<string, unknown>) => renderFixture({ overrides }).bundles.find((b) => b.id === 'node01')!.files.map((f) => f.name);
    expect(names({ timeSync: servers })).toContain('chrony.conf');
    expect(names({})).not.toContain('chrony.conf');
  });
});

describe('prepare-node.sh on Debian and Ubuntu: containerd.io from Docker\'s repository of the distribution', () => {
  /** The repository step with /etc moved under a scratch root, and stand-in curl and apt-get. */
  function run(osRelease: string) {
    const root = mkdtempSync(join(dir, 'apt-'));
    mkdirSync(join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
    writeFileSync(join(root, 'etc', 'os-release'), osRelease);
    const { bin, log } = fakeBin({
      curl: 'echo "curl $*" >> "$LOG"; while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo key > "$2"; fi; shift; done',
      'apt-get': 'echo "apt-get $*" >> "$LOG"',
    });
    const steps = shellScript('test', INSTALL_IF_CHANGED, DEBIAN_PROFILE.containerdRepository).split('/etc/').join(`${root}/etc/`);
    const result = bash(script(steps), { path: bin });
    const list = join(root, 'etc', 'apt', 'sources.list.d', 'docker.list');
    return { result, list: existsSync(list) ? readFileSync(list, 'utf8') : undefined, calls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
  }

  test.each([['ubuntu', 'noble'], ['debian', 'bookworm']])('ID=%s uses linux/%s with its code name', (id, codename) => {
    const { result, list, calls } = run(`ID=${id}\nVERSION_CODENAME=${codename}\n`);
    expect(result.stderr).toBe('');
    expect(list).toContain(`https://download.docker.com/linux/${id} ${codename} stable`);
    expect(calls).toContain(`https://download.docker.com/linux/${id}/gpg`);
  });

  test('a distribution Docker does not publish for stops with a clear message', () => {
    const { result, list } = run('ID=linuxmint\nID_LIKE=ubuntu\nVERSION_CODENAME=wilma\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no containerd.io repository for ID=linuxmint');
    expect(list).toBeUndefined();
  });
});

describe('prepare-node.sh: the pkgs.k8s.io repository of the minor, per family', () => {
  /** The family's repository step with /etc moved under a scratch root, and stand-in curl, gpg and apt-get; run twice. */
  function run(profile: typeof DEBIAN_PROFILE) {
    const root = mkdtempSync(join(dir, 'kube-repo-'));
    mkdirSync(join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
    mkdirSync(join(root, 'etc', 'yum.repos.d'), { recursive: true });
    const { bin, log } = fakeBin({
      curl: 'echo "curl $*" >> "$LOG"; echo key',
      gpg: 'echo "gpg $*" >> "$LOG"; while [ $# -gt 0 ]; do if [ "$1" = -o ]; then cat > "$2"; fi; shift; done',
      'apt-get': 'echo "apt-get $*" >> "$LOG"',
    });
    const spec = loadTopology({ overrides: { kubernetes: { version: '1.36' } } }).kubernetes;
    const steps = shellScript('test', INSTALL_IF_CHANGED, profile.kubernetes.repository(spec)).split('/etc/').join(`${root}/etc/`);
    const path = script(steps);
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    const first = bash(path, { path: bin });
    const afterFirst = calls();
    const second = bash(path, { path: bin });
    return { root, first, second, afterFirst, afterSecond: calls().slice(afterFirst.length) };
  }

  test('Debian: the signed list of the minor; a second run fetches nothing and updates nothing', () => {
    const { root, first, second, afterFirst, afterSecond } = run(DEBIAN_PROFILE);
    expect([first.code, first.stderr, second.code]).toEqual([0, '', 0]);
    expect(readFileSync(join(root, 'etc', 'apt', 'sources.list.d', 'kubernetes.list'), 'utf8'))
      .toBe(`deb [signed-by=${root}/etc/apt/keyrings/kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /\n`);
    expect(afterFirst).toContain('curl -fsSL --retry 5 https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key');
    expect(afterFirst).toContain('apt-get update -q');
    expect(afterSecond).toBe('');
  });

  test('RHEL: the repository file of the minor, excluding the held packages', () => {
    const { root, first, second } = run(RHEL_PROFILE);
    expect([first.code, first.stderr, second.code]).toEqual([0, '', 0]);
    expect(readFileSync(join(root, 'etc', 'yum.repos.d', 'kubernetes.repo'), 'utf8')).toBe([
      '[kubernetes]',
      'name=Kubernetes',
      'baseurl=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/',
      'enabled=1',
      'gpgcheck=1',
      'gpgkey=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/repodata/repomd.xml.key',
      '# Held: only an explicit --disableexcludes=kubernetes may change these.',
      'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
      '',
    ].join('\n'));
    expect(existsSync(join(root, 'etc', 'yum.repos.d', 'kubernetes.repo.new'))).toBe(false);
  });
});

/** A tiny stand-in for a release's kube-flannel.yml, with flannel's default network. */
const FLANNEL_MANIFEST = 'kind: ConfigMap\ndata:\n  net-conf.json: |\n    {\n      "Network": "10.244.0.0/16"\n    }\n';
const sha256 = (text: string) => require('node:crypto').createHash('sha256').update(text).digest('hex') as string;

(existsSync('/etc/kubernetes/admin.conf') ? describe.skip : describe)('init-master.sh and apply-flannel.sh (a machine without a cluster: the init path)', () => {
  /**
   * The master bundle's files in a scratch directory, with stand-ins for kubeadm, kubectl, curl and install;
   * `tamper` changes a file after synth, as a broken copy would.
   */
  function master(kubernetes: Record<string, string>, options: { download?: string; tamper?: (bundle: string) => void } = {}) {
    const files = renderFixture({ overrides: { kubernetes: { podCidr: '10.32.0.0/16', ...kubernetes } } }).bundles.find((b) => b.id === 'master')!.files;
    const bundle = mkdtempSync(join(dir, 'master-'));
    for (const f of files) writeFileSync(join(bundle, f.name), f.content);
    options.tamper?.(bundle);
    const download = options.download ?? FLANNEL_MANIFEST;
    const { bin, log } = fakeBin({
      kubeadm: [
        'echo "kubeadm $*" >> "$LOG"',
        'if [ "$1" = version ]; then echo v1.36.3; fi',
        'if [ "$1" = init ]; then grep "^kubernetesVersion" "$3" >> "$LOG"; fi',
      ].join('\n'),
      kubectl: 'echo "kubectl $*" >> "$LOG"; if [ "$1" = apply ]; then grep Network "$3" >> "$LOG"; fi',
      curl: `echo "curl $*" >> "$LOG"; while [ $# -gt 0 ]; do if [ "$1" = -o ]; then printf '%s' '${download.replace(/'/g, "'\\''")}' > "$2"; fi; shift; done`,
      install: 'echo "install $*" >> "$LOG"',
    });
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    return { bundle, bin, calls };
  }

  test('kubeadm init reads the config with the installed kubeadm\'s version', () => {
    const { bundle, bin, calls } = master({});
    const run = bash(join(bundle, 'init-master.sh'), { path: bin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(calls()).toContain('kubeadm init --config kubeadm-config.applied.yaml --skip-token-print\nkubernetesVersion: "v1.36.3"\n');
    expect(calls()).not.toContain('kubectl apply');
  });

  test('bundled: the shipped manifest is applied with the pod CIDR, and nothing is downloaded', () => {
    const { bundle, bin, calls } = master({});
    const run = bash(join(bundle, 'apply-flannel.sh'), { path: bin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(calls()).toMatch(/^kubectl apply -f kube-flannel\.yml\n {6}"Network": "10\.32\.0\.0\/16",\n/);
    expect(calls()).not.toContain('curl');
  });

  test('bundled: a shipped manifest that is not the one synth wrote is not applied', () => {
    const { bundle, bin, calls } = master({}, { tamper: (b) => writeFileSync(join(b, 'kube-flannel.yml'), `${readFileSync(join(b, 'kube-flannel.yml'), 'utf8')}# changed\n`) });
    const run = bash(join(bundle, 'apply-flannel.sh'), { path: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('kube-flannel.yml is not the file synth wrote (its sha256 differs); nothing was applied');
    expect(calls()).toBe('');
  });

  test('download: the release asset is applied once its sha256 matches, with the pod CIDR', () => {
    const { bundle, bin, calls } = master({ flannelManifestSource: 'download', flannelManifestSha256: sha256(FLANNEL_MANIFEST) });
    const run = bash(join(bundle, 'apply-flannel.sh'), { path: bin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(calls()).toContain('kubectl apply -f kube-flannel.yml\n      "Network": "10.32.0.0/16"\n');
  });

  test('download: a release asset that does not match the digest is not applied', () => {
    const { bundle, bin, calls } = master({ flannelManifestSource: 'download', flannelManifestSha256: sha256(FLANNEL_MANIFEST) }, { download: `${FLANNEL_MANIFEST}# tampered\n` });
    const run = bash(join(bundle, 'apply-flannel.sh'), { path: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not have the sha256 that kubernetes.flannelManifestSha256 gives; nothing was applied');
    expect(calls()).not.toContain('kubectl apply');
  });
});

describe('check-cluster.sh: a change kubeadm would not make fails loudly, naming the field and the remedy', () => {
  const CLUSTER = {
    kubernetesVersion: 'v1.36.3', controlPlaneEndpoint: ENDPOINT, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12',
  };
  /** The ConfigMaps and nodes of a running cluster, as kubectl prints them. */
  function cluster(over: Partial<typeof CLUSTER> & { mode?: string; nodes?: string } = {}) {
    const c = { ...CLUSTER, ...over };
    const clusterConfiguration = [
      'apiServer: {}', 'apiVersion: kubeadm.k8s.io/v1beta4', `controlPlaneEndpoint: ${c.controlPlaneEndpoint}`, 'kind: ClusterConfiguration',
      `kubernetesVersion: ${c.kubernetesVersion}`, 'networking:', '  dnsDomain: cluster.local', `  podSubnet: ${c.podSubnet}`, `  serviceSubnet: ${c.serviceSubnet}`,
    ].join('\n');
    const proxy = ['apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'ipvs:', '  scheduler: ""', 'kind: KubeProxyConfiguration', `mode: ${over.mode ?? 'nftables'}`, 'nftables:', '  syncPeriod: 0s'].join('\n');
    const nodes = over.nodes ?? 'master 10.244.0.0/24\nnode01 10.244.1.0/24\nnode02 10.244.2.0/24\n';
    const { bin } = fakeBin({
      kubectl: [
        'case "$*" in',
        `  *"configmap kubeadm-config"*) printf '%s' '${clusterConfiguration}' ;;`,
        `  *"configmap kube-proxy"*) printf '%s' '${proxy}' ;;`,
        `  *"get nodes"*) printf '%s' '${nodes}' ;;`,
        '  *) exit 1 ;;',
        'esac',
      ].join('\n'),
    });
    return bash(script(renderCheckCluster(t)), { path: bin });
  }

  test('a cluster as the topology wants passes', () => {
    const run = cluster();
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('check-cluster.sh: the running cluster matches the topology\n');
  });

  test.each([
    ['kubernetes.version', { kubernetesVersion: 'v1.35.4' }, 'kubeadm upgrade apply'],
    ['kubernetes.serviceCidr', { serviceSubnet: '10.112.0.0/12' }, 'rebuild the cluster'],
    ['kubernetes.podCidr', { podSubnet: '10.32.0.0/16' }, 'rebuild the cluster'],
    ['kubernetes.podCidr', { nodes: 'master 10.244.0.0/24\nnode01 10.32.1.0/24\n' }, 'on node node01'],
    ['kubernetes.controlPlaneEndpoint', { controlPlaneEndpoint: 'old-api:6443' }, 'certificates'],
    // A site built when the endpoint was the master's own address: told how to move, or how to keep it.
    ['kubernetes.controlPlaneEndpoint', { controlPlaneEndpoint: `${t.controlPlane.address}:6443` }, 'docs/runbook.md, "Moving a site to the VIP endpoint"'],
    ['kubernetes.kubeProxyMode', { mode: 'ipvs' }, 'rollout restart daemonset kube-proxy'],
    ['kubernetes.kubeProxyMode', { mode: '""' }, 'has iptables'],
  ])('%s (%j)', (field, over, remedy) => {
    const run = cluster(over);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`check-cluster.sh: ${field}: the topology wants`);
    expect(run.stderr).toContain(remedy);
    expect(run.stderr).toContain('were NOT applied');
    expect(run.stdout).not.toContain('matches');
  });

  test('every difference is named, not only the first', () => {
    const run = cluster({ kubernetesVersion: 'v1.37.0', serviceSubnet: '10.112.0.0/12', mode: 'iptables' });
    expect(run.stderr.match(/^check-cluster\.sh: kubernetes\./gm)).toHaveLength(3);
    expect(run.stderr).toContain('3 setting(s)');
  });

  test('init-master.sh runs the check whenever the cluster exists, before anything else is applied', () => {
    const init = renderFixture().bundles.find((b) => b.id === 'master')!.files.find((f) => f.name === 'init-master.sh')!.content;
    expect(init).toMatch(/^if \[ "\$state" = running \]; then\n( {2}#.*\n)* {2}bash \.\/check-cluster\.sh\n/m);
  });
});

(spawnSync('ssh-keygen', ['-?']).error === undefined ? describe : describe.skip)('join-from-master.sh with host keys in the topology', () => {
  const { hostKeyLine } = require('./host-keys') as typeof import('./host-keys');
  const masterKey = hostKeyLine('root@master');
  const workerKey = hostKeyLine('root@node01');

  /** The join of node01 as terraform runs it, with an ssh stand-in that logs every argument (`joined`: the worker has joined). */
  function joinWith(overrides: object, joined = true) {
    const { bin, log } = fakeBin({ ssh: `echo "ssh $*" >> "$LOG"; case "$*" in *--joined) exit ${joined ? 0 : 3} ;; esac` });
    const { stackDir, run } = localJoin(renderFixture({ overrides }), 'node01', bin);
    return { bundle: join(stackDir, 'assets', 'node01'), run, calls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
  }

  test('both keys given: a known_hosts in the worker\'s bundle, and ssh checks strictly against it alone', () => {
    const { bundle, run, calls } = joinWith({ controlPlane: { hostKey: masterKey }, workers: [{ name: 'node01', address: '192.168.10.20', hostKey: workerKey }] });
    expect(run.code).toBe(0);
    const knownHosts = join(bundle, 'known_hosts');
    expect(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toEqual([
      `192.168.10.10 ${masterKey.split(' ').slice(0, 2).join(' ')}`,
      `192.168.10.20 ${workerKey.split(' ').slice(0, 2).join(' ')}`,
    ]);
    expect(calls).toContain(`-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts} -o GlobalKnownHostsFile=/dev/null root@192.168.10.20 bash ${REMOTE_STAGING_DIR}/node01/join-worker.sh node01 --joined`);
    expect(calls).not.toContain('accept-new');
    // OpenSSH itself reads the file and finds each host's key in it.
    for (const address of ['192.168.10.10', '192.168.10.20']) {
      const found = spawnSync('ssh-keygen', ['-F', address, '-f', knownHosts], { encoding: 'utf8' });
      expect(found.status).toBe(0);
    }
  });

  test('no keys: no known_hosts, and trust on first use as before', () => {
    const { bundle, calls } = joinWith({});
    expect(existsSync(join(bundle, 'known_hosts'))).toBe(false);
    expect(calls).toContain(`-o StrictHostKeyChecking=accept-new root@192.168.10.20 bash ${REMOTE_STAGING_DIR}/node01/join-worker.sh node01 --joined`);
  });

  test('the master\'s key given, the worker\'s not: strict for the master only', () => {
    // The ssh stand-in says the worker has not joined, so both hosts are reached.
    const { bundle, run, calls } = joinWith({ controlPlane: { hostKey: masterKey } }, false);
    expect(run.code).toBe(0);
    expect(calls).toContain(`-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${join(bundle, 'known_hosts')} -o GlobalKnownHostsFile=/dev/null root@192.168.10.10 kubeadm token create`);
    expect(calls).toContain(`-o StrictHostKeyChecking=accept-new root@192.168.10.20 bash ${REMOTE_STAGING_DIR}/node01/join-worker.sh node01 --joined`);
    expect(calls).not.toMatch(/accept-new root@192\.168\.10\.10|StrictHostKeyChecking=yes.* root@192\.168\.10\.20/);
  });
});

describe('the staging guard', () => {
  const { plan } = renderFixture();
  const guarded = (content: string) => content.includes(STAGING_GUARD);

  test('every script run from the staging directory has it; keepalived\'s check and the local join script do not', () => {
    const scripts = plan.bundles.flatMap((b) => b.files.filter((f) => f.executable).map((f) => ({ b, f })));
    for (const { b, f } of scripts) {
      // Installed into /etc/keepalived or /usr/local/sbin and run there (by keepalived or systemd), run by hand, or run locally: no guard.
      const expected = !['check_nginx.sh', 'nginx-stopping.sh', 'in-flight.sh', 'etcd-snapshot.sh', 'etcd-restore.sh'].includes(f.name) && f.name !== b.runLocally;
      expect([`${b.id}/${f.name}`, guarded(f.content)]).toEqual([`${b.id}/${f.name}`, expected]);
    }
    for (const b of plan.bundles.filter((b) => b.run)) expect(guarded(b.files.find((f) => f.name === b.run)!.content)).toBe(true);
  });

  const probe = withStagingGuard({
    id: 'probe', stack: StackName.LB, target: { hostName: 'h', address: '1.2.3.4', user: 'root', sudoPrefix: '', hostKey: '' }, dependsOn: [], description: '',
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

describe('load balancer host policy, with stand-in SELinux and firewalld tools', () => {
  const rhel = loadTopology({ overrides: { hostDefaults: { osFamily: 'rhel' } } });
  const lb01 = rhel.loadBalancer.hosts[0];

  /** getenforce prints $SELINUX_MODE; semanage and getsebool answer from state files; every call is logged. */
  function selinuxTools(state: { labelled: boolean; booleansOn: boolean; portDefinedByPolicy?: boolean }) {
    return fakeBin({
      getenforce: 'echo "$SELINUX_MODE"',
      rpm: 'echo "rpm $*" >> "$LOG"',
      dnf: 'echo "dnf $*" >> "$LOG"',
      semanage: [
        'echo "semanage $*" >> "$LOG"',
        `if [ "$1 $2" = "port -l" ]; then echo 'http_port_t                    tcp      80, 81, 443${state.labelled ? ', 3344' : ''}, 8008, 8009${state.labelled ? ', 6443' : ''}'; exit 0; fi`,
        `if [ "$2" = -a ] && ${state.portDefinedByPolicy ? 'true' : 'false'}; then echo 'ValueError: Port tcp/3344 already defined' >&2; exit 1; fi`,
      ].join('\n'),
      getsebool: `echo "$1 --> ${state.booleansOn ? 'on' : 'off'}"`,
      setsebool: 'echo "setsebool $*" >> "$LOG"',
      setenforce: 'echo "setenforce $*" >> "$LOG"',
    });
  }

  const selinuxScript = snippet(renderSelinuxPolicy(rhel, osProfile(lb01)) as ShellPart);
  const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  test('enforcing: labels the LB port and the API port http_port_t and sets both booleans persistently, never touching SELinux itself', () => {
    const { bin, log } = selinuxTools({ labelled: false, booleansOn: false });
    expect(bash(selinuxScript, { path: bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(log).filter((c) => !c.startsWith('rpm '))).toEqual([
      'semanage port -l',
      'semanage port -a -t http_port_t -p tcp 3344',
      'semanage port -l',
      `semanage port -a -t http_port_t -p tcp ${rhel.kubernetes.apiServerPort}`,
      'setsebool -P httpd_can_network_connect on',
      'setsebool -P keepalived_connect_any on',
    ]);
  });

  test('a port the policy already types otherwise is modified (-m), not added', () => {
    const { bin, log } = selinuxTools({ labelled: false, booleansOn: true, portDefinedByPolicy: true });
    expect(bash(selinuxScript, { path: bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(log).filter((c) => c.startsWith('semanage'))).toEqual([
      'semanage port -l', 'semanage port -a -t http_port_t -p tcp 3344', 'semanage port -m -t http_port_t -p tcp 3344',
      'semanage port -l', 'semanage port -a -t http_port_t -p tcp 6443', 'semanage port -m -t http_port_t -p tcp 6443',
    ]);
  });

  test('a second run (port labelled, booleans on) changes nothing; SELinux disabled: nothing at all', () => {
    const done = selinuxTools({ labelled: true, booleansOn: true });
    expect(bash(selinuxScript, { path: done.bin, env: { SELINUX_MODE: 'Enforcing' } }).code).toBe(0);
    expect(calls(done.log).filter((c) => !c.startsWith('rpm '))).toEqual(['semanage port -l', 'semanage port -l']);
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

  test('firewalld running: exactly VRRP from the peer to the VRRP group, the LB port and the API port, runtime and permanent; a re-run adds nothing', () => {
    const path = snippet(renderFirewalldOpenings(rhel, lb01));
    const { bin, log } = firewalld();
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    const vrrp = 'rich-rule=rule family="ipv4" source address="192.168.10.50" destination address="224.0.0.18" protocol value="vrrp" accept';
    expect(readFileSync(join(bin, 'state'), 'utf8').trim().split('\n')).toEqual([
      `runtime ${vrrp}`, 'runtime port=3344/tcp', 'runtime port=6443/tcp', `permanent ${vrrp}`, 'permanent port=3344/tcp', 'permanent port=6443/tcp',
    ]);
    expect(calls(log).filter((c) => c.includes('--add-')).every((c) => c.includes('--zone=public'))).toBe(true);
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    expect(readFileSync(join(bin, 'state'), 'utf8').trim().split('\n')).toHaveLength(6);
    expect(calls(log).filter((c) => c.includes('--add-'))).toHaveLength(6);
  });

  test('unicast: VRRP from each peer to this host\'s address; firewalld not running: not called', () => {
    const custom = loadTopology({ configPath: join(__dirname, '..', 'examples', 'custom-three-workers.yaml') });
    const [a, ...peers] = custom.loadBalancer.hosts;
    const path = snippet(renderFirewalldOpenings(custom, a));
    const { bin } = firewalld();
    expect(bash(path, { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    expect(readFileSync(join(bin, 'state'), 'utf8').split('\n').filter((l) => l.startsWith('runtime rich-rule'))).toEqual(peers.map((p) =>
      `runtime rich-rule=rule family="ipv4" source address="${p.address}" destination address="${a.address}" protocol value="vrrp" accept`));
    const idle = firewalld();
    expect(bash(path, { path: idle.bin, env: { FIREWALLD: 'inactive' } }).code).toBe(0);
    expect(calls(idle.log)).toEqual([]);
  });

  test('a single load balancer (no peer): only the LB port and the API port, runtime and permanent', () => {
    const single = loadTopology({ overrides: { hostDefaults: { osFamily: 'rhel' }, loadBalancer: { hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }] } } });
    const { bin } = firewalld();
    expect(bash(snippet(renderFirewalldOpenings(single, single.loadBalancer.hosts[0])), { path: bin, env: { FIREWALLD: 'active' } }).code).toBe(0);
    expect(readFileSync(join(bin, 'state'), 'utf8').trim().split('\n')).toEqual(['runtime port=3344/tcp', 'runtime port=6443/tcp', 'permanent port=3344/tcp', 'permanent port=6443/tcp']);
  });
});

describe('setup-gateway.sh: forwarding only once the ruleset is loaded', () => {
  /**
   * The gateway bundle in a scratch directory, with stand-ins that only log: the restores, sysctl,
   * systemctl, install (so nothing under /etc is written) and package queries (all installed); `cat` of
   * /proc's ip_forward says 0 (forwarding off, as on a new host), any other cat is the real one.
   */
  function gateway(restoreFails: boolean) {
    const files = renderFixture().bundles.find((b) => b.id === 'gateway')!.files;
    const bundle = mkdtempSync(join(dir, 'gateway-'));
    for (const f of files) writeFileSync(join(bundle, f.name), f.content);
    const { bin, log } = fakeBin({
      'iptables-restore': `echo "iptables-restore $*" >> "$LOG"; ${restoreFails ? 'if [ "$1" != --test ]; then exit 1; fi' : ''}`,
      'ip6tables-restore': 'echo "ip6tables-restore $*" >> "$LOG"',
      sysctl: 'echo "sysctl $*" >> "$LOG"',
      systemctl: 'echo "systemctl $*" >> "$LOG"; if [ "$1" = is-enabled ]; then exit 1; fi',
      install: 'echo "install $*" >> "$LOG"',
      'dpkg-query': "printf 'install ok installed'",
      cat: 'if [ "$1" = /proc/sys/net/ipv4/ip_forward ]; then echo 0; else exec /bin/cat "$@"; fi',
    });
    const run = bash(join(bundle, 'setup-gateway.sh'), { path: bin });
    return { run, calls: (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter((line) => line !== '') };
  }

  test('the rules are restored before ip_forward is turned on, now and in the boot-time sysctl file', () => {
    const { run, calls } = gateway(false);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const restored = calls.indexOf('iptables-restore ');
    const forwardingOn = calls.indexOf('sysctl --quiet -w net.ipv4.ip_forward=1');
    const sysctlFile = calls.findIndex((c) => c.startsWith('install ') && c.includes('forwarding.conf'));
    expect(restored).toBeGreaterThanOrEqual(0);
    expect(forwardingOn).toBeGreaterThan(restored);
    expect(sysctlFile).toBeGreaterThan(restored);
  });

  test('a ruleset that fails to load leaves forwarding off', () => {
    const { run, calls } = gateway(true);
    expect(run.code).not.toBe(0);
    expect(calls).toContain('iptables-restore ');
    expect(calls.filter((c) => c.startsWith('sysctl') || c.includes('forwarding.conf'))).toEqual([]);
  });
});

describe('containerd.io held at its version, per family', () => {
  /** The family's hold of containerd.io, with a stand-in package tool that logs; `locked`: its lock list already names it. */
  function hold(profile: typeof RHEL_PROFILE, tool: string, locked: string) {
    const { bin, log } = fakeBin({
      [tool]: `echo "${tool} $*" >> "$LOG"; if [ "$2" = versionlock ] && [ "$3" = list ]; then printf '%s' '${locked}'; fi`,
    });
    const run = bash(script(`set -euo pipefail\n${profile.packageManager.hold(['containerd.io'])}\n`), { path: bin });
    return { run, calls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
  }

  test('RHEL: locked with the versionlock plugin when not yet locked, and left alone when it is', () => {
    const first = hold(RHEL_PROFILE, 'dnf', 'kubelet-0:1.36.3-150500.1.1.*\n');
    expect(first.run.code).toBe(0);
    expect(first.calls).toBe('dnf -q versionlock list\ndnf -q versionlock add containerd.io\n');
    const again = hold(RHEL_PROFILE, 'dnf', 'containerd.io-0:2.1.4-1.el9.*\n');
    expect(again.run.code).toBe(0);
    expect(again.calls).toBe('dnf -q versionlock list\n');
  });

  test('Debian: apt-mark hold, and the upgrade the error messages name releases the hold first', () => {
    const { run, calls } = hold(DEBIAN_PROFILE, 'apt-mark', '');
    expect(run.code).toBe(0);
    expect(calls).toBe('apt-mark hold containerd.io\n');
    expect(DEBIAN_PROFILE.packageManager.upgrade('containerd.io')).toMatch(/^apt-mark unhold containerd\.io && /);
    expect(RHEL_PROFILE.packageManager.upgrade('containerd.io')).toMatch(/^dnf versionlock delete containerd\.io && /);
  });
});

/**
 * A failed step can be retried: init-master.sh and join-worker.sh as rendered, with every path under
 * /etc/kubernetes and /var/lib/kubelet moved into a scratch "host" directory, and stand-ins for kubeadm,
 * kubectl and curl that act on that directory as the real ones act on a host: kubeadm writes its files
 * before the control plane is up (and may fail right then), its preflight refuses what an earlier run
 * left, kubeadm reset removes it, curl answers /readyz only while the stand-in API server "runs".
 */
describe('a failed kubeadm step can be retried: init-master.sh and join-worker.sh decide by the cluster\'s health', () => {
  /** The bundle's script with the host's paths moved under `host`, in its own directory (with `extra` files). */
  function onHost(content: string, name: string, extra: Record<string, string> = {}) {
    const host = mkdtempSync(join(dir, 'host-'));
    mkdirSync(join(host, 'manifests'));
    const bundle = mkdtempSync(join(dir, 'bundle-'));
    writeFileSync(join(bundle, name), content.split('/etc/kubernetes/').join(`${host}/`).split('/var/lib/kubelet/').join(`${host}/`));
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(bundle, file), text);
    return { host, path: join(bundle, name) };
  }

  const standIns = (host: string) => fakeBin({
    kubeadm: [
      `H=${host}`,
      'echo "kubeadm $*" >> "$LOG"',
      'case "$1" in',
      '  version) echo v1.36.3 ;;',
      // Preflight, as kubeadm's: what an earlier run left is an error.
      '  init) if [ -f "$H/admin.conf" ] || [ -n "$(ls -A "$H/manifests")" ]; then echo "[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]" >&2; exit 1; fi',
      '        touch "$H/admin.conf" "$H/manifests/kube-apiserver.yaml"',
      '        if [ -f "$H/fail-once" ]; then rm "$H/fail-once"; echo "[wait-control-plane] timed out" >&2; exit 1; fi',
      '        touch "$H/api-up" "$H/configmap" ;;',
      '  join) if [ -f "$H/pki/ca.crt" ] || [ -f "$H/config.yaml" ]; then echo "[ERROR FileAvailable--etc-kubernetes-pki-ca.crt]" >&2; exit 1; fi',
      '        mkdir -p "$H/pki"; touch "$H/pki/ca.crt" "$H/config.yaml"',
      '        if [ -f "$H/fail-once" ]; then rm "$H/fail-once"; echo "[kubelet-start] timed out" >&2; exit 1; fi',
      '        touch "$H/kubelet.conf" "$H/registered" ;;',
      '  reset) rm -rf "$H/admin.conf" "$H/manifests/"* "$H/api-up" "$H/configmap" "$H/pki" "$H/config.yaml" "$H/kubelet.conf" "$H/registered" ;;',
      'esac',
    ].join('\n'),
    kubectl: [
      `H=${host}`,
      'echo "kubectl $*" >> "$LOG"',
      'if [ -f "$H/kubectl-fails" ]; then echo "Unable to connect to the server" >&2; exit 1; fi',
      'case "$*" in',
      '  *"get configmap kubeadm-config"*) if [ -f "$H/configmap" ]; then echo configmap/kubeadm-config; fi ;;',
      '  *"get node"*) if [ -f "$H/registered" ]; then echo "node/$5"; fi ;;',
      'esac',
    ].join('\n'),
    curl: `echo "curl $*" >> "$LOG"; [ -f ${host}/api-up ] || exit 7`,
    sleep: 'echo "sleep $*" >> "$LOG"',
    // The marker is written for real (inside the scratch host); the kubeconfig copies for root are only logged.
    install: `echo "install $*" >> "$LOG"; case "\${!#}" in ${host}/*) exec /usr/bin/install "$@" ;; esac`,
  });

  describe('init-master.sh', () => {
    const rendered = renderFixture().bundles.find((b) => b.id === 'master')!.files;
    const fileOfMaster = (name: string) => rendered.find((f) => f.name === name)!.content;
    function master(...state: string[]) {
      const { host, path } = onHost(fileOfMaster('init-master.sh'), 'init-master.sh', {
        'kubeadm-config.yaml': fileOfMaster('kubeadm-config.yaml'),
        // The real check asks the running cluster; here it only says it ran.
        'check-cluster.sh': 'echo "check-cluster.sh" >> "$LOG"',
      });
      for (const file of state) writeFileSync(join(host, file), '');
      const { bin, log } = standIns(host);
      const run = () => {
        if (existsSync(log)) writeFileSync(log, '');
        const result = bash(path, { path: bin, env: { LOG: log } });
        return { ...result, calls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [] };
      };
      return { host, run };
    }
    const kubeadmCalls = (calls: string[]) => calls.filter((c) => c.startsWith('kubeadm ') && !c.startsWith('kubeadm version'));

    test('an init that failed half-way (admin.conf written, control plane never up) is reset and run again on the next apply', () => {
      const { host, run } = master('fail-once');
      const first = run();
      expect(first.code).not.toBe(0);
      expect(existsSync(join(host, 'admin.conf'))).toBe(true);
      expect(existsSync(join(host, 'k8s-ha-edge-initialized'))).toBe(false);
      const second = run();
      expect(second.stderr).toContain('an earlier kubeadm init did not finish');
      expect(second.code).toBe(0);
      expect(kubeadmCalls(second.calls)).toEqual(['kubeadm reset -f', 'kubeadm init --config kubeadm-config.applied.yaml --skip-token-print']);
      expect(existsSync(join(host, 'configmap'))).toBe(true);
      expect(existsSync(join(host, 'k8s-ha-edge-initialized'))).toBe(true);
      // The API server of a failed init never answered: it was given READYZ_ATTEMPTS tries before the reset.
      expect(second.calls.filter((c) => c.startsWith('curl ')).length).toBe(24);
    });

    test('a healthy control plane is never reset: the check runs, kubeadm changes nothing, and a second apply does the same', () => {
      const { host, run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'api-up', 'configmap', 'k8s-ha-edge-initialized');
      for (const again of [run(), run()]) {
        expect(again.stderr).toBe('');
        expect(again.code).toBe(0);
        expect(kubeadmCalls(again.calls)).toEqual([]);
        expect(again.calls).toContain('check-cluster.sh');
        expect(again.calls.filter((c) => c.startsWith('curl '))).toEqual(['curl -fsk --max-time 5 https://127.0.0.1:6443/readyz']);
        expect(again.calls.filter((c) => c.includes('k8s-ha-edge-initialized'))).toEqual([]);
      }
      expect(existsSync(join(host, 'configmap'))).toBe(true);
    });

    test('a running cluster made before the marker existed is recognised by its health, and marked', () => {
      const { host, run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'api-up', 'configmap');
      const result = run();
      expect(result.code).toBe(0);
      expect(kubeadmCalls(result.calls)).toEqual([]);
      expect(existsSync(join(host, 'k8s-ha-edge-initialized'))).toBe(true);
    });

    test('a finished control plane whose API server does not answer is reported, not reset', () => {
      const { host, run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'configmap', 'k8s-ha-edge-initialized');
      const result = run();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('does not answer https://127.0.0.1:6443/readyz; nothing was changed (a reset would delete the cluster)');
      expect(kubeadmCalls(result.calls)).toEqual([]);
      expect(result.calls.filter((c) => c.startsWith('sleep '))).toHaveLength(23);
      expect(existsSync(join(host, 'configmap'))).toBe(true);
    });

    test('leftovers no init of this script started (no marker at all) and no API server: refused, nothing reset', () => {
      // A control plane made by hand, or by a version before the markers, whose API server is down right now.
      const { host, run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'configmap');
      const result = run();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no init of this script was started here');
      expect(result.stderr).toContain("run 'kubeadm reset -f' on this host and apply again");
      expect(kubeadmCalls(result.calls)).toEqual([]);
      expect(existsSync(join(host, 'admin.conf'))).toBe(true);
      expect(existsSync(join(host, 'configmap'))).toBe(true);
    });

    test('an API server without kubeadm\'s ConfigMap that no init of this script started: refused, nothing reset', () => {
      const { run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'api-up');
      const result = run();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("without kubeadm's kubeadm-config ConfigMap, and no init of this script was started here");
      expect(kubeadmCalls(result.calls)).toEqual([]);
    });

    test('the init-started marker is there only while an init runs: gone after a finished one, kept after a failed one', () => {
      const { host, run } = master('fail-once');
      run();
      expect(existsSync(join(host, 'k8s-ha-edge-init-started'))).toBe(true);
      expect(run().code).toBe(0);
      expect(existsSync(join(host, 'k8s-ha-edge-init-started'))).toBe(false);
    });

    test('an API server that answers while its ConfigMap cannot be read: nothing is reset', () => {
      const { run } = master('admin.conf', 'manifests/kube-apiserver.yaml', 'api-up', 'configmap', 'kubectl-fails');
      const result = run();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('cannot be read with');
      expect(kubeadmCalls(result.calls)).toEqual([]);
    });
  });

  describe('join-worker.sh', () => {
    function worker(...state: string[]) {
      const { host, path } = onHost(renderJoinWorker(t), 'join-worker.sh');
      mkdirSync(join(host, 'pki'));
      for (const file of state) writeFileSync(join(host, file), '');
      const { bin, log } = standIns(host);
      const run = (args: string[] = ['node01'], input = `${JOIN}\n`) => {
        if (existsSync(log)) writeFileSync(log, '');
        const result = bash(path, { path: bin, env: { LOG: log }, args, input });
        return { ...result, calls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [] };
      };
      return { host, run };
    }
    const kubeadmCalls = (calls: string[]) => calls.filter((c) => c.startsWith('kubeadm '));

    test('a join that failed half-way (CA written, kubelet started) is reset and joined again on the next apply', () => {
      const { host, run } = worker('fail-once');
      const first = run();
      expect(first.code).not.toBe(0);
      expect(existsSync(join(host, 'pki', 'ca.crt'))).toBe(true);
      const second = run();
      expect(second.stderr).toContain('an earlier join of node01 did not finish');
      expect(second.code).toBe(0);
      expect(kubeadmCalls(second.calls)).toEqual(['kubeadm reset -f', `${JOIN} --node-name node01`]);
      expect(existsSync(join(host, 'registered'))).toBe(true);
    });

    test('credentials of a node the cluster does not know: reset and join again', () => {
      const { run } = worker('kubelet.conf', 'config.yaml');
      const result = run();
      expect(result.code).toBe(0);
      expect(kubeadmCalls(result.calls)).toEqual(['kubeadm reset -f', `${JOIN} --node-name node01`]);
    });

    test('when the API server cannot be asked, a node with credentials is not reset (exit 1, after three tries)', () => {
      const { run } = worker('kubelet.conf', 'config.yaml', 'pki/ca.crt', 'registered', 'kubectl-fails');
      for (const args of [['node01'], ['node01', '--joined']]) {
        const result = run(args);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('could not be asked whether it knows the node; nothing was changed');
        expect(kubeadmCalls(result.calls)).toEqual([]);
        expect(result.calls.filter((c) => c.startsWith('kubectl '))).toHaveLength(3);
      }
    });

    test('a joined node the API server knows is left alone (--joined: 0); one that needs a join answers 3, nothing read or changed', () => {
      const joined = worker('kubelet.conf', 'config.yaml', 'pki/ca.crt', 'registered');
      const result = joined.run();
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('node01 has already joined\n');
      expect(kubeadmCalls(result.calls)).toEqual([]);
      expect(joined.run(['node01', '--joined'], '').code).toBe(0);
      const { run } = worker('config.yaml');
      const needsJoin = run(['node01', '--joined'], '');
      expect(needsJoin.code).toBe(3);
      expect(needsJoin.calls).toEqual([]);
    });
  });
});
