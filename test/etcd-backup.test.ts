/**
 * The etcd backup on the control-plane node: the snapshot script, the timer's install and removal, and
 * the units' meaning. The scripts run in bash as on a host, with stand-ins on PATH that record their
 * calls: `crictl` plays the etcd static Pod's container (its `etcdctl snapshot save` writes a small file,
 * its `etcdutl snapshot status` prints etcd's JSON status) and `systemctl` plays systemd. No real etcd
 * runs here: what is real is the script's order, its checks, its file handling and its retention.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ETCD_BACKUP_UNIT, EtcdBackupPaths, EtcdRestorePaths, renderEtcdBackupService, renderEtcdBackupTimer, renderEtcdRestore, renderEtcdSnapshot, renderSetupEtcdBackup,
  renderTeardownEtcdBackup,
} from '../lib/kubernetes/etcd-backup';
import { kubernetesBundles } from '../lib/kubernetes/bundles';
import { loadTopology } from '../lib/topology';
import { errorFor } from './support/topology-errors';
import { scratchDir } from './support/scratch';
import { fakeBin as fakeBinIn } from './support/fake-bin';

const dir = scratchDir('k8s-ha-edge-etcd-backup-');

/** Stand-in commands in this test's scratch directory (test/support/fake-bin.ts). */
const fakeBin = (commands: Record<string, string>) => fakeBinIn(dir, commands);

function bash(path: string, options: { bin: string; args?: string[]; env?: NodeJS.ProcessEnv }) {
  const result = spawnSync('bash', [path, ...(options.args ?? [])], {
    encoding: 'utf8', timeout: 30_000,
    env: { ...process.env, ...options.env, PATH: `${options.bin}:${process.env.PATH}` },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
const mode = (path: string) => statSync(path).mode & 0o777;

/** etcd's JSON status of a snapshot (etcdutl snapshot status -w json) of a small live cluster. */
const GOOD_STATUS = '{"hash":3474280108,"revision":5012,"totalKey":873,"totalSize":4096000,"version":"3.6.0"}';

/**
 * crictl as on a control-plane node: `ps` finds the etcd container (unless $NO_ETCD), `exec … etcdctl
 * snapshot save P` writes P, `exec … etcdutl snapshot status P` prints $STATUS (or fails with $STATUS_FAILS).
 */
const CRICTL = `echo "crictl $*" >> "$LOG"
[ "$1" = --runtime-endpoint ] && shift 2
case "$1" in
  ps) [ -n "\${NO_ETCD:-}" ] || echo 0f1e2d3c4b5a ;;
  exec)
    for last; do :; done
    case "$*" in
      *'/usr/local/bin/etcdctl '*'snapshot save '*) printf 'etcd snapshot bytes %s\\n' "$RANDOM" > "$last" ;;
      *'/usr/local/bin/etcdutl snapshot status '*)
        if [ -n "\${STATUS_FAILS:-}" ]; then echo "Error: snapshot file integrity check failed" >&2; exit 1; fi
        echo "$STATUS" ;;
      *) echo "unexpected: $*" >&2; exit 99 ;;
    esac ;;
  *) echo "unexpected: $*" >&2; exit 99 ;;
esac`;

/** A fresh node: etcd's data directory, the backup directory, the script. */
function node() {
  const root = mkdtempSync(join(dir, 'node-'));
  const dataDir = join(root, 'var-lib-etcd');
  mkdirSync(dataDir);
  const dest = join(root, 'backups');
  const script = join(root, 'etcd-snapshot.sh');
  writeFileSync(script, renderEtcdSnapshot(dataDir), { mode: 0o755 });
  const { bin, log } = fakeBin({ crictl: CRICTL });
  const run = (keep: number, env: NodeJS.ProcessEnv = {}) => bash(script, { bin, args: [dest, String(keep)], env: { STATUS: GOOD_STATUS, ...env } });
  return { dataDir, dest, log, run };
}

const own = (dest: string) => readdirSync(dest).filter((f) => /^etcd-[0-9]{8}T[0-9]{6}Z\.db$/.test(f)).sort();

describe('etcd-snapshot.sh: a verified snapshot of the control plane\'s etcd', () => {
  test('finds the etcd container, saves a snapshot inside it over TLS on 127.0.0.1, checks it with etcdutl, then claims its name with a sha256', () => {
    const n = node();
    const run = n.run(7);
    expect(run.stderr).not.toContain('unexpected');
    expect(run.code).toBe(0);
    const [ps, save, status, ...rest] = calls(n.log);
    expect(rest).toEqual([]);
    expect(ps).toBe('crictl --runtime-endpoint unix:///run/containerd/containerd.sock ps --label io.kubernetes.container.name=etcd --label io.kubernetes.pod.namespace=kube-system --state running -q');
    const temp = join(n.dataDir, 'k8s-ha-edge-snapshot.db');
    expect(save).toBe('crictl --runtime-endpoint unix:///run/containerd/containerd.sock exec 0f1e2d3c4b5a /usr/local/bin/etcdctl --endpoints=https://127.0.0.1:2379 '
      + '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key '
      + `snapshot save ${temp}`);
    expect(status).toBe(`crictl --runtime-endpoint unix:///run/containerd/containerd.sock exec 0f1e2d3c4b5a /usr/local/bin/etcdutl snapshot status ${temp} --write-out=json`);

    const [name] = own(n.dest);
    expect(readdirSync(n.dest).filter((f) => !f.startsWith('.')).sort()).toEqual([name, `${name}.sha256`, `${name}.status.json`]);
    expect(mode(n.dest)).toBe(0o700);
    for (const f of [name, `${name}.sha256`, `${name}.status.json`]) expect(mode(join(n.dest, f))).toBe(0o600);
    expect(spawnSync('sha256sum', ['-c', `${name}.sha256`], { cwd: n.dest }).status).toBe(0);
    expect(JSON.parse(readFileSync(join(n.dest, `${name}.status.json`), 'utf8'))).toMatchObject({ revision: 5012, totalKey: 873 });
    expect(run.stdout.trim()).toMatch(new RegExp(`^snapshot=${name.replace(/\./g, '\\.')} sha256=[0-9a-f]{64} hash=3474280108 revision=5012 totalKey=873$`));
    // Nothing left in etcd's data directory.
    expect(readdirSync(n.dataDir)).toEqual([]);
  });

  test.each([
    ['etcdutl refuses the file', { STATUS_FAILS: '1' }],
    ['a status without keys', { STATUS: '{"hash":1,"revision":5012,"totalKey":0,"totalSize":0}' }],
    ['a status at revision 1 (an empty store)', { STATUS: '{"hash":1,"revision":1,"totalKey":3,"totalSize":0}' }],
    ['no status at all', { STATUS: '' }],
  ])('GIVEN %s THEN the backup fails and no file is claimed good (none named, none in the data directory)', (_, env) => {
    const n = node();
    const run = n.run(7, env);
    expect(run.code).not.toBe(0);
    expect(readdirSync(n.dest).filter((f) => f !== '.etcd-snapshot.lock')).toEqual([]);
    expect(readdirSync(n.dataDir)).toEqual([]);
  });

  test('no running etcd container: exit 1 with what to check, and no snapshot is attempted', () => {
    const n = node();
    const run = n.run(7, { NO_ETCD: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no running etcd container in kube-system');
    expect(calls(n.log)).toHaveLength(1);
  });

  test('KEEP that is not a positive integer: exit 2 before anything is done', () => {
    const n = node();
    expect(n.run(0).code).toBe(2);
    expect(calls(n.log)).toEqual([]);
  });

  test('retention keeps exactly the newest KEEP of its own snapshots (with their .sha256 and .status.json) and leaves every other file alone', () => {
    const n = node();
    mkdirSync(n.dest, { mode: 0o700 });
    const older = ['20260101T000000Z', '20260102T000000Z', '20260103T000000Z', '20260104T000000Z'].map((s) => `etcd-${s}.db`);
    for (const f of older) for (const suffix of ['', '.sha256', '.status.json']) writeFileSync(join(n.dest, f + suffix), 'old\n');
    // Not this script's names: a snapshot someone saved by hand, notes, a name that only starts the same.
    const foreign = ['etcd-before-upgrade.db', 'notes.txt', 'etcd-20260101T000000Z.db.bak', 'etcd-20250101T000000Z.db.orig'];
    for (const f of foreign) writeFileSync(join(n.dest, f), 'theirs\n');

    const run = n.run(3);
    expect(run.code).toBe(0);
    const kept = own(n.dest);
    expect(kept).toHaveLength(3);
    expect(kept.slice(0, 2)).toEqual(older.slice(2));
    for (const gone of older.slice(0, 2)) for (const suffix of ['', '.sha256', '.status.json']) expect(existsSync(join(n.dest, gone + suffix))).toBe(false);
    for (const f of foreign) expect(readFileSync(join(n.dest, f), 'utf8')).toBe('theirs\n');
  });

  test('runs again: each run adds one snapshot under a new name and the count stays at KEEP', () => {
    const n = node();
    for (let i = 0; i < 3; i++) expect(n.run(2).code).toBe(0);
    const kept = own(n.dest);
    expect(kept).toHaveLength(2);
    expect(new Set(kept).size).toBe(2);
    for (const f of kept) expect(spawnSync('sha256sum', ['-c', `${f}.sha256`], { cwd: n.dest }).status).toBe(0);
  });
});

/** Sections of a unit file: `[Section]` → key → values (a key may repeat). */
function unitSections(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    current!.set(line.slice(0, eq), [...(current!.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

describe('the etcd backup timer and service', () => {
  const t = loadTopology({ overrides: { kubernetes: { etcdBackup: { schedule: '*-*-* 03:30:00', keep: 4 } } } });

  test('the timer fires at kubernetes.etcdBackup.schedule, catches up a run missed while the node was off, and is enabled by timers.target', () => {
    const timer = unitSections(renderEtcdBackupTimer(t));
    expect(timer.get('Timer')?.get('OnCalendar')).toEqual(['*-*-* 03:30:00']);
    expect(timer.get('Timer')?.get('Persistent')).toEqual(['true']);
    expect(timer.get('Install')?.get('WantedBy')).toEqual(['timers.target']);
    // A timer starts the service of its own name: the two names must agree.
    expect(timer.get('Timer')?.get('Unit')).toBeUndefined();
  });

  test('the service runs the installed snapshot script once into the backup directory with keep, files private', () => {
    const service = unitSections(renderEtcdBackupService(t));
    expect(service.get('Service')?.get('Type')).toEqual(['oneshot']);
    expect(service.get('Service')?.get('ExecStart')).toEqual(['/usr/local/sbin/k8s-ha-edge-etcd-snapshot /var/backups/k8s-ha-edge-etcd 4']);
    expect(service.get('Service')?.get('UMask')).toEqual(['0077']);
    expect(service.get('Unit')?.get('After')?.[0]).toContain('kubelet.service');
  });

  test('the defaults: daily, the newest 7, on', () => {
    const d = loadTopology();
    expect(d.kubernetes.etcdBackup).toEqual({ enabled: true, schedule: 'daily', keep: 7 });
    expect(unitSections(renderEtcdBackupTimer(d)).get('Timer')?.get('OnCalendar')).toEqual(['daily']);
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  (analyze ? test : test.skip)('systemd-analyze verify accepts both units, and calendar accepts the default schedule', () => {
    const units = mkdtempSync(join(dir, 'units-'));
    const paths: EtcdBackupPaths = { backupDir: join(units, 'backups'), snapshotCommand: join(units, 'etcd-snapshot'), unitDir: units };
    writeFileSync(paths.snapshotCommand, renderEtcdSnapshot(), { mode: 0o755 });
    writeFileSync(join(units, `${ETCD_BACKUP_UNIT}.service`), renderEtcdBackupService(t, paths));
    writeFileSync(join(units, `${ETCD_BACKUP_UNIT}.timer`), renderEtcdBackupTimer(t));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', join(units, `${ETCD_BACKUP_UNIT}.service`), join(units, `${ETCD_BACKUP_UNIT}.timer`)], { encoding: 'utf8' });
    // Only what is about these units: verify also reports on the host's own units it loads as dependencies.
    const ours = verify.stderr.split('\n').filter((l) => l.includes(ETCD_BACKUP_UNIT));
    expect(ours).toEqual([]);
    expect(spawnSync('systemd-analyze', ['calendar', loadTopology().kubernetes.etcdBackup.schedule]).status).toBe(0);
  });
});

describe('setup-etcd-backup.sh and teardown-etcd-backup.sh on the control-plane node', () => {
  function host(overrides: unknown) {
    const t = loadTopology({ overrides });
    const root = mkdtempSync(join(dir, 'host-'));
    const paths: EtcdBackupPaths = { backupDir: join(root, 'backups'), snapshotCommand: join(root, 'sbin', 'k8s-ha-edge-etcd-snapshot'), unitDir: join(root, 'units') };
    const bundle = join(root, 'bundle');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'etcd-snapshot.sh'), renderEtcdSnapshot());
    writeFileSync(join(bundle, `${ETCD_BACKUP_UNIT}.service`), renderEtcdBackupService(t, paths));
    writeFileSync(join(bundle, `${ETCD_BACKUP_UNIT}.timer`), renderEtcdBackupTimer(t));
    writeFileSync(join(bundle, 'setup-etcd-backup.sh'), renderSetupEtcdBackup(t, paths));
    writeFileSync(join(bundle, 'teardown-etcd-backup.sh'), renderTeardownEtcdBackup(paths));
    const { bin, log } = fakeBin({ systemctl: 'echo "systemctl $*" >> "$LOG"' });
    const installed = [paths.snapshotCommand, join(paths.unitDir, `${ETCD_BACKUP_UNIT}.service`), join(paths.unitDir, `${ETCD_BACKUP_UNIT}.timer`)];
    return { root, paths, bundle, bin, log, installed };
  }

  test('enabled: the script and both units installed, systemd reloaded, the timer enabled and started; a second run only re-enables', () => {
    const h = host({});
    expect(bash(join(h.bundle, 'setup-etcd-backup.sh'), { bin: h.bin }).code).toBe(0);
    for (const f of h.installed) expect(existsSync(f)).toBe(true);
    expect(mode(h.paths.snapshotCommand)).toBe(0o755);
    expect(calls(h.log)).toEqual(['systemctl daemon-reload', `systemctl enable --now ${ETCD_BACKUP_UNIT}.timer`, `systemctl restart ${ETCD_BACKUP_UNIT}.timer`]);
    writeFileSync(h.log, '');
    expect(bash(join(h.bundle, 'setup-etcd-backup.sh'), { bin: h.bin }).code).toBe(0);
    expect(calls(h.log).filter((c) => c !== '')).toEqual([`systemctl enable --now ${ETCD_BACKUP_UNIT}.timer`]);
  });

  test('enabled: false removes what an earlier apply installed, and on a node without it does nothing', () => {
    const on = host({});
    expect(bash(join(on.bundle, 'setup-etcd-backup.sh'), { bin: on.bin }).code).toBe(0);
    const t = loadTopology({ overrides: { kubernetes: { etcdBackup: { enabled: false } } } });
    writeFileSync(join(on.bundle, 'setup-etcd-backup.sh'), renderSetupEtcdBackup(t, on.paths));
    writeFileSync(on.log, '');
    expect(bash(join(on.bundle, 'setup-etcd-backup.sh'), { bin: on.bin }).code).toBe(0);
    for (const f of on.installed) expect(existsSync(f)).toBe(false);
    expect(calls(on.log).filter((c) => c !== '')).toEqual([`systemctl disable --now ${ETCD_BACKUP_UNIT}.timer`, 'systemctl daemon-reload']);

    const never = host({ kubernetes: { etcdBackup: { enabled: false } } });
    expect(bash(join(never.bundle, 'setup-etcd-backup.sh'), { bin: never.bin }).code).toBe(0);
    expect(calls(never.log)).toEqual([]);
  });

  test('teardown: the timer stopped and its files removed; the snapshots kept', () => {
    const h = host({});
    expect(bash(join(h.bundle, 'setup-etcd-backup.sh'), { bin: h.bin }).code).toBe(0);
    mkdirSync(h.paths.backupDir);
    writeFileSync(join(h.paths.backupDir, 'etcd-20260101T000000Z.db'), 'snapshot\n');
    writeFileSync(h.log, '');
    const run = bash(join(h.bundle, 'teardown-etcd-backup.sh'), { bin: h.bin });
    expect(run.code).toBe(0);
    for (const f of h.installed) expect(existsSync(f)).toBe(false);
    expect(readFileSync(join(h.paths.backupDir, 'etcd-20260101T000000Z.db'), 'utf8')).toBe('snapshot\n');
    expect(run.stderr).toContain('are kept');
  });
});

describe('kubernetes.etcdBackup in the topology and the master\'s bundle', () => {
  const manifest = { name: 'workload.yaml', content: 'kind: List\n' };
  const masterOf = (overrides: unknown) => {
    const t = loadTopology({ overrides });
    return kubernetesBundles(t, manifest).find((b) => b.id === t.controlPlane.name)!;
  };

  test('on: the master\'s setup installs the timer after flannel, and its teardown finds the timer\'s own', () => {
    const master = masterOf({});
    const names = master.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['etcd-snapshot.sh', `${ETCD_BACKUP_UNIT}.service`, `${ETCD_BACKUP_UNIT}.timer`, 'setup-etcd-backup.sh', 'teardown-etcd-backup.sh', 'etcd-restore.sh']));
    const setup = master.files.find((f) => f.name === 'setup.sh')!.content;
    expect(setup.split('\n').filter((l) => l.startsWith('bash ./'))).toEqual(['bash ./prepare-node.sh', 'bash ./init-master.sh', 'bash ./apply-flannel.sh', 'bash ./setup-etcd-backup.sh']);
    expect(master.teardown).toBe('teardown-node.sh');
    expect(master.files.find((f) => f.name === 'teardown-node.sh')!.content).toContain('teardown-etcd-backup.sh');
  });

  test('off: no timer files in the bundle, and its setup removes them', () => {
    const master = masterOf({ kubernetes: { etcdBackup: { enabled: false } } });
    expect(master.files.map((f) => f.name)).not.toContain(`${ETCD_BACKUP_UNIT}.timer`);
    expect(master.files.find((f) => f.name === 'setup-etcd-backup.sh')!.content).toContain('readonly ETCD_BACKUP_ENABLED=no');
  });

  test('no worker gets the timer', () => {
    const t = loadTopology();
    for (const b of kubernetesBundles(t, manifest).filter((x) => x.id !== t.controlPlane.name)) {
      expect(b.files.map((f) => f.name)).not.toContain('setup-etcd-backup.sh');
    }
  });

  test.each([
    ['a schedule with a newline (a second directive in the unit)', { schedule: 'daily\nExecStart=/bin/sh' }, /kubernetes\.etcdBackup\.schedule: got "daily\\nExecStart=\/bin\/sh", expected a systemd OnCalendar expression/],
    ['an empty schedule', { schedule: '' }, /kubernetes\.etcdBackup\.schedule: got "", expected a systemd OnCalendar expression/],
    ['keep 0', { keep: 0 }, /kubernetes\.etcdBackup\.keep: got 0, expected a number of snapshots in 1-365/],
    ['keep 1000', { keep: 1000 }, /kubernetes\.etcdBackup\.keep: got 1000, expected a number of snapshots in 1-365/],
    ['enabled as text', { enabled: 'no' }, /kubernetes\.etcdBackup\.enabled/],
  ])('%s is refused, naming the field, the value and what is expected', (_, etcdBackup, message) => {
    expect(errorFor({ kubernetes: { etcdBackup } })).toMatch(message);
  });
});

/** kubeadm's etcd manifest, the lines etcd-restore.sh reads (the rest as kubeadm writes it, shortened). */
const ETCD_MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://192.168.10.10:2379
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://192.168.10.10:2380
    - --initial-cluster=master=https://192.168.10.10:2380
    - --name=master
    image: registry.k8s.io/etcd:3.6.5-0
    name: etcd
`;

describe('etcd-restore.sh: the control plane put back to a snapshot', () => {
  /**
   * A control-plane node in a scratch directory. crictl lists etcd while its manifest is in manifests/;
   * ctr has the image and its `run … etcdutl snapshot restore` makes the data directory (or fails with
   * $RESTORE_FAILS); systemctl records.
   */
  function controlPlane() {
    const root = mkdtempSync(join(dir, 'cp-'));
    const paths: EtcdRestorePaths = {
      kubernetesDir: join(root, 'etc-kubernetes'), manifestsDir: join(root, 'etc-kubernetes', 'manifests'),
      stoppedDir: join(root, 'etc-kubernetes', 'manifests.k8s-ha-edge-stopped'), etcdDataDir: join(root, 'var-lib', 'etcd'),
    };
    mkdirSync(paths.manifestsDir, { recursive: true });
    for (const m of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      writeFileSync(join(paths.manifestsDir, `${m}.yaml`), m === 'etcd' ? ETCD_MANIFEST : `kind: Pod # ${m}\n`);
    }
    mkdirSync(join(paths.etcdDataDir, 'member'), { recursive: true });
    writeFileSync(join(paths.etcdDataDir, 'member', 'db'), 'the data before\n');
    const snapshot = join(root, 'snapshot.db');
    writeFileSync(snapshot, 'snapshot\n');
    const script = join(root, 'etcd-restore.sh');
    writeFileSync(script, renderEtcdRestore(paths), { mode: 0o755 });
    const { bin, log } = fakeBin({
      crictl: `echo "crictl $*" >> "$LOG"\nif [ -e ${paths.manifestsDir}/etcd.yaml ]; then echo 0f1e2d3c4b5a; fi`,
      ctr: `echo "ctr $*" >> "$LOG"
case "$*" in
  *' image ls -q') echo registry.k8s.io/etcd:3.6.5-0 ;;
  *' run '*)
    if [ -n "\${RESTORE_FAILS:-}" ]; then mkdir -p ${paths.etcdDataDir}/member; echo "Error: half-way" >&2; exit 1; fi
    mkdir -p ${paths.etcdDataDir}/member; echo "restored from $(grep -o 'src=[^,]*snapshot.db' <<< "$*")" > ${paths.etcdDataDir}/member/db ;;
esac`,
      systemctl: 'echo "systemctl $*" >> "$LOG"',
    });
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => bash(script, { bin, args, env });
    return { root, paths, snapshot, log, run };
  }

  test('stops the control plane, keeps the old data, restores in the manifest\'s etcd image with its name and peers, then starts it again', () => {
    const cp = controlPlane();
    const run = cp.run([cp.snapshot]);
    expect(run.stderr).not.toContain('unexpected');
    expect(run.code).toBe(0);
    const log = calls(cp.log);
    // The control plane was gone before the restore, and the kubelet restarted after it.
    expect(log[0]).toBe('crictl --runtime-endpoint unix:///run/containerd/containerd.sock ps --name ^(etcd|kube-apiserver)$ -q');
    const restore = log.find((c) => c.includes(' run '))!;
    expect(restore).toBe(`ctr --address /run/containerd/containerd.sock --namespace k8s.io run --rm --mount type=bind,src=${join(cp.root, 'var-lib')},dst=${join(cp.root, 'var-lib')},options=rbind:rw `
      + `--mount type=bind,src=${cp.snapshot},dst=/restore/snapshot.db,options=rbind:ro registry.k8s.io/etcd:3.6.5-0 k8s-ha-edge-etcd-restore `
      + `/usr/local/bin/etcdutl snapshot restore /restore/snapshot.db --data-dir ${cp.paths.etcdDataDir} --name master `
      + '--initial-cluster master=https://192.168.10.10:2380 --initial-advertise-peer-urls https://192.168.10.10:2380');
    expect(log.indexOf(restore)).toBeLessThan(log.indexOf('systemctl restart kubelet'));
    expect(log).not.toContain('ctr --address /run/containerd/containerd.sock --namespace k8s.io image pull registry.k8s.io/etcd:3.6.5-0');
    expect(readdirSync(cp.paths.manifestsDir).sort()).toEqual(['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
    expect(existsSync(cp.paths.stoppedDir)).toBe(false);
    expect(readFileSync(join(cp.paths.etcdDataDir, 'member', 'db'), 'utf8')).toContain('snapshot.db');
    expect(mode(cp.paths.etcdDataDir)).toBe(0o700);
    const kept = readdirSync(join(cp.root, 'var-lib')).filter((d) => d.startsWith('etcd.before-restore-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(cp.root, 'var-lib', kept[0], 'member', 'db'), 'utf8')).toBe('the data before\n');
  });

  test('a restore that fails half-way leaves the control plane stopped; the retry drops only its own half-restored directory', () => {
    const cp = controlPlane();
    expect(cp.run([cp.snapshot], { RESTORE_FAILS: '1' }).code).not.toBe(0);
    expect(readdirSync(cp.paths.manifestsDir)).toEqual([]);
    expect(calls(cp.log)).not.toContain('systemctl restart kubelet');
    const retry = cp.run([cp.snapshot]);
    expect(retry.code).toBe(0);
    // The data from before the first run is kept once, not replaced by the half-restored directory.
    const kept = readdirSync(join(cp.root, 'var-lib')).filter((d) => d.startsWith('etcd.before-restore-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(cp.root, 'var-lib', kept[0], 'member', 'db'), 'utf8')).toBe('the data before\n');
    expect(readdirSync(cp.paths.manifestsDir)).toHaveLength(4);
  });

  test('the backup\'s PKI is extracted only on a node without one; the node\'s own is never written over', () => {
    const cp = controlPlane();
    const src = join(cp.root, 'backup');
    mkdirSync(join(src, 'pki', 'etcd'), { recursive: true });
    writeFileSync(join(src, 'pki', 'ca.crt'), 'backup CA\n');
    const tar = join(cp.root, 'pki.tar');
    expect(spawnSync('tar', ['-C', src, '-cf', tar, 'pki']).status).toBe(0);
    expect(cp.run([cp.snapshot, tar]).code).toBe(0);
    expect(readFileSync(join(cp.paths.kubernetesDir, 'pki', 'ca.crt'), 'utf8')).toBe('backup CA\n');

    const own = controlPlane();
    mkdirSync(join(own.paths.kubernetesDir, 'pki'));
    writeFileSync(join(own.paths.kubernetesDir, 'pki', 'ca.crt'), 'the node\'s CA\n');
    const run = own.run([own.snapshot, tar]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(own.paths.kubernetesDir, 'pki', 'ca.crt'), 'utf8')).toBe('the node\'s CA\n');
    expect(run.stderr).toContain('the node\'s own PKI is kept');
  });

  test.each([
    ['no snapshot', []],
    ['a snapshot that is not there', ['/nonexistent/snapshot.db']],
  ])('%s: exit 2, the control plane untouched', (_, args) => {
    const cp = controlPlane();
    expect(cp.run(args).code).toBe(2);
    expect(readdirSync(cp.paths.manifestsDir)).toHaveLength(4);
    expect(calls(cp.log)).toEqual([]);
  });
});
