/**
 * npm run backup as a user runs it, under `unshare -n` (no network: nothing can reach a host), with an
 * `ssh` stand-in on PATH that records its calls and plays the control-plane node: it answers the
 * snapshot script with the summary line the script prints, `cat` of the snapshot with a small file,
 * and `tar` of /etc/kubernetes/pki with a tar of placeholder files. What is real here: the flags, the
 * refusals, the directory and file modes, the checksums and what is printed; what the stand-in replaces:
 * SSH, etcd and the node (the script itself is tested in test/etcd-backup.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { operatorSite, synthSite } from './support/synth-site';

const repo = resolve(__dirname, '..');
// A non-root SSH user, so sudo is used; keep 5, which the node's run of the script must be given.
const testSite = operatorSite('k8s-ha-edge-backup-', [
  'controlPlane: { name: cp-a, address: 192.168.10.10, sshUser: ops }',
  'kubernetes: { etcdBackup: { keep: 5 } }',
  '',
].join('\n'));
const { site, cdktfOut, key, home, bin } = testSite;

/** The node's snapshot and its PKI (placeholders: no real key material). */
const snapshotFile = join(site, 'node-snapshot.db');
writeFileSync(snapshotFile, 'etcd snapshot bytes\n');
const pkiRoot = join(site, 'node-etc-kubernetes');
mkdirSync(join(pkiRoot, 'pki', 'etcd'), { recursive: true });
writeFileSync(join(pkiRoot, 'pki', 'ca.crt'), 'placeholder CA\n');
writeFileSync(join(pkiRoot, 'pki', 'etcd', 'ca.crt'), 'placeholder etcd CA\n');

writeFileSync(join(bin, 'ssh'), `#!/usr/bin/env bash
for last; do :; done
case "$*" in *' -O exit '*) exit 0 ;; esac
# The command's first line (the snapshot script is a whole script): what the node was asked to run.
echo "\${last%%$'\\n'*}" >> "$SSH_LOG"
if [ -n "\${SSH_FAIL:-}" ]; then echo "ssh: connect to host 192.168.10.10 port 22: Connection refused" >&2; exit 255; fi
case "$last" in
  'sudo -n bash -c '*'etcdutl snapshot status'*"' etcd-snapshot /var/backups/k8s-ha-edge-etcd 5")
    if [ -n "\${SNAPSHOT_FAIL:-}" ]; then echo "etcd-snapshot: no running etcd container in kube-system (crictl ps)" >&2; exit 1; fi
    echo "snapshot=$SNAPSHOT_NAME sha256=$(sha256sum < "$SNAPSHOT_FILE" | cut -d' ' -f1) hash=3474280108 revision=5012 totalKey=873" ;;
  "sudo -n cat /var/backups/k8s-ha-edge-etcd/$SNAPSHOT_NAME") cat "$SNAPSHOT_FILE"; if [ -n "\${CORRUPT:-}" ]; then echo flipped; fi ;;
  'sudo -n tar -C /etc/kubernetes -cf - pki') tar -C "$PKI_ROOT" -cf - pki ;;
  *) echo "unexpected command" >&2; exit 99 ;;
esac
`, { mode: 0o755 });

beforeAll(() => {
  synthSite(testSite);
});

let runs = 0;
function backup(args: readonly string[], env: Record<string, string> = {}) {
  const log = join(site, `ssh-${runs}.log`);
  const name = `etcd-20261207T2200${String(runs++).padStart(2, '0')}Z.db`;
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'backup.ts'), '--ssh-key', key, ...args], {
    cwd: repo, encoding: 'utf8', timeout: 60_000,
    env: {
      ...process.env, HOME: home, INIT_CWD: site, PATH: `${bin}:${process.env.PATH}`, SSH_LOG: log,
      SNAPSHOT_NAME: name, SNAPSHOT_FILE: snapshotFile, PKI_ROOT: pkiRoot, ...env,
    },
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls, stamp: name.slice(5, -3) };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('npm run backup', () => {
  test('GIVEN a control plane that takes a verified snapshot THEN the snapshot and the PKI are copied into a new 0700 directory, files 0600, with checksums that verify', () => {
    const run = backup(['--out', 'backups']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = join(site, 'backups', `etcd-cp-a-${run.stamp}`);
    expect(mode(out)).toBe(0o700);
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', 'pki.tar', 'snapshot.db', 'status.json']);
    for (const f of readdirSync(out)) expect(mode(join(out, f))).toBe(0o600);
    expect(readFileSync(join(out, 'snapshot.db'), 'utf8')).toBe('etcd snapshot bytes\n');
    expect(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out }).status).toBe(0);
    expect(spawnSync('tar', ['-tf', join(out, 'pki.tar')], { encoding: 'utf8' }).stdout.split('\n')).toEqual(expect.arrayContaining(['pki/ca.crt', 'pki/etcd/ca.crt']));
    expect(JSON.parse(readFileSync(join(out, 'status.json'), 'utf8'))).toEqual({ node: 'cp-a', snapshot: `etcd-${run.stamp}.db`, hash: 3474280108, revision: 5012, totalKey: 873 });
    // The node's three steps, in order, as root through sudo.
    expect(run.calls).toEqual([
      expect.stringMatching(/^sudo -n bash -c '#!\/usr\/bin\/env bash/), `sudo -n cat /var/backups/k8s-ha-edge-etcd/etcd-${run.stamp}.db`, 'sudo -n tar -C /etc/kubernetes -cf - pki',
    ]);
    expect(run.stdout.split('\n')).toEqual(expect.arrayContaining([
      'cp-a: snapshot of etcd into /var/backups/k8s-ha-edge-etcd (ops@192.168.10.10), verified with etcdutl snapshot status',
      `cp-a: etcd-${run.stamp}.db: hash 3474280108, revision 5012, 873 keys`,
      `cp-a: copying etcd-${run.stamp}.db`,
      'cp-a: copying /etc/kubernetes/pki',
      `${out}: written (0700; snapshot.db, pki.tar, status.json, SHA256SUMS: 0600)`,
    ]));
    expect(run.stdout).not.toContain('placeholder');
  });

  test('GIVEN no --out THEN the backup goes under ~/k8s-ha-edge-backups, made 0700', () => {
    const run = backup([]);
    expect(run.status).toBe(0);
    expect(mode(join(home, 'k8s-ha-edge-backups'))).toBe(0o700);
    expect(existsSync(join(home, 'k8s-ha-edge-backups', `etcd-cp-a-${run.stamp}`, 'SHA256SUMS'))).toBe(true);
  });

  test('GIVEN a backup directory of that name already there THEN exit 1, it is left exactly as it was', () => {
    const stamp = backup(['--out', 'again']).stamp;
    runs--;
    const existing = join(site, 'again', `etcd-cp-a-${stamp}`);
    writeFileSync(join(existing, 'notes.txt'), 'mine\n');
    const before = readFileSync(join(existing, 'SHA256SUMS'), 'utf8');
    const second = backup(['--out', 'again'], { SNAPSHOT_FILE: join(site, 'site.yaml') });
    expect(second.stamp).toBe(stamp);
    expect(second.status).toBe(1);
    expect(second.stdout).toContain(`${existing}: exists; a backup is never overwritten`);
    expect(readFileSync(join(existing, 'SHA256SUMS'), 'utf8')).toBe(before);
    expect(readFileSync(join(existing, 'snapshot.db'), 'utf8')).toBe('etcd snapshot bytes\n');
    expect(readFileSync(join(existing, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  test.each([
    ['the node cannot take or verify a snapshot', { SNAPSHOT_FAIL: '1' }, 'cp-a: no verified snapshot: etcd-snapshot: no running etcd container in kube-system (crictl ps)'],
    ['the node is unreachable', { SSH_FAIL: '1' }, 'cp-a: no verified snapshot: ssh: connect to host 192.168.10.10 port 22: Connection refused'],
    ['the copy differs from the node\'s snapshot', { CORRUPT: '1' }, 'has sha256'],
  ])('GIVEN %s THEN exit 1 saying why, and no backup directory is left', (_name, env, message) => {
    const out = join(site, `failed-${runs}`);
    const run = backup(['--out', out], env);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(message);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  test.each([
    ['inside cdktf.out', () => join(cdktfOut, 'backups'), 'the synthesized stacks (cdktf.out)'],
    ['inside dist', () => join(site, 'dist', 'backups'), 'the synthesized files (dist)'],
    ['inside the state directory', () => join(site, 'state'), 'the Terraform state directory'],
    ['terraform\'s logs (in cdktf.out)', () => join(cdktfOut, 'stacks', 'k8s'), 'the synthesized stacks (cdktf.out)'],
  ])('GIVEN --out %s THEN exit 2 naming it, before any SSH', (_name, target, what) => {
    const out = target();
    const run = backup(['--out', out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`error: --out: got ${out}, which is inside ${what}`);
    expect(run.calls).toEqual([]);
  });

  test.each([
    ['a file as --out', ['--out', 'site.yaml'], /^error: --out: got site\.yaml, which is not a directory; expected a directory or a new path$/m],
    ['an unknown flag', ['--force'], /^error: --force: got an unknown flag, expected one of --out, --config/m],
    ['--out without a value', ['--out'], /^error: --out: got nothing, expected a value$/m],
    ['a missing --config', ['--config', 'nope.yaml'], /^error: --config: got nope\.yaml, expected an existing file$/m],
    ['a --connect-timeout out of range', ['--connect-timeout', '0'], /^error: --connect-timeout: got "0", expected an integer in 1-300$/m],
  ])('GIVEN %s THEN exit 2, no SSH, no stack trace', (_name, args, message) => {
    const run = backup(args);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expect(run.calls).toEqual([]);
  });

  test('--help: exit 0 with the usage', () => {
    const run = backup(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run backup -- \[--out DIR\]/);
  });
});
