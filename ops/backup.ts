/**
 * npm run backup -- [--out DIR] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout N]
 *
 * An etcd backup of the cluster on the operator's machine. On the control-plane node (over SSH, with
 * sudo for a user other than root) the snapshot script of the backup timer (lib/kubernetes/etcd-backup.ts)
 * takes a snapshot with etcdctl inside the etcd container and verifies it with etcdutl (hash, revision,
 * keys); it stays there among the timer's newest kubernetes.etcdBackup.keep. The snapshot and
 * /etc/kubernetes/pki (as a tar: a restore needs the cluster's CAs and service-account keys) are then
 * copied into a new directory DIR/etcd-<node>-<UTC time>, mode 0700, each file 0600, with their sha256
 * in SHA256SUMS (`sha256sum -c SHA256SUMS`), written last: a directory without it is not a backup.
 * The files hold every Secret of the cluster and its private keys: never printed, never put inside
 * the synthesized output or the Terraform state (shared, reviewed or kept for years), never over an
 * existing backup. docs/runbook.md, "Restoring the control plane from an etcd backup", uses them.
 * Exit codes: 0 written, 1 the node could not take, verify or send the backup, 2 bad flags (or --out refused).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix } from 'node:path';
import { ETCD_BACKUP_PATHS, KUBEADM_ETCD, renderEtcdSnapshot } from '../lib/kubernetes/etcd-backup';
import { shq } from '../lib/formats/shell';
import { Topology } from '../lib/topology';
import { parseFlags, usageExit, UsageError, userPath, valueOf } from './args';
import { refuseSecretPath } from './secret-paths';
import { SITE_FLAGS_USAGE, siteOfFlags } from './site';
import { closeShared, ssh, SshOptions, sshOptionsOf, sshToFile } from './ssh';

/** Where backups go without --out: outside any project directory, so they are not committed with it. */
const DEFAULT_OUT = join(homedir(), 'k8s-ha-edge-backups');

const USAGE = `usage: npm run backup -- [--out DIR] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE]
                        [--connect-timeout SECONDS]

  --out DIR              where the backup directory is created (default ~/k8s-ha-edge-backups; made mode 0700
                         when missing); not inside dist/, cdktf.out/ or the Terraform state directory
${SITE_FLAGS_USAGE}
  --connect-timeout N    seconds to wait for the SSH connection (default 10)`;

/** What etcd-snapshot.sh says of the snapshot it kept, on its last line. */
interface Snapshot {
  readonly snapshot: string;
  readonly sha256: string;
  readonly hash: string;
  readonly revision: string;
  readonly totalKey: string;
}

const SNAPSHOT_LINE = /^snapshot=(etcd-[0-9]{8}T[0-9]{6}Z\.db) sha256=([0-9a-f]{64}) hash=([0-9]+) revision=([0-9]+) totalKey=([0-9]+)$/;

function parseSnapshotLine(stdout: string): Snapshot | undefined {
  const match = SNAPSHOT_LINE.exec(stdout.trim().split('\n').pop() ?? '');
  return match ? { snapshot: match[1], sha256: match[2], hash: match[3], revision: match[4], totalKey: match[5] } : undefined;
}

/** --out checked: a directory (or nothing yet), outside the directories secrets must not go into. */
function checkedOut(raw: string, t: Topology, cdktfOut: string): string {
  const out = userPath(raw);
  refuseSecretPath(raw, out, t, cdktfOut, 'an etcd backup holds every Secret of the cluster and its private keys');
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: got ${raw}, which is not a directory; expected a directory or a new path`);
  return out;
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (d) => hash.update(d)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

/** The last line of a failed command's stderr (ssh's, sudo's or the script's own message). */
function lastLine(result: { code: number | null; stderr: string }): string {
  return result.stderr.trim().split('\n').pop() || `exit ${result.code}`;
}

interface Job {
  readonly t: Topology;
  readonly out: string;
  readonly options: SshOptions;
}

/** Copies a file the node prints on stdout into `path`, created mode 0600 (never an existing file). */
async function fetchInto(job: Job, command: string, path: string): Promise<{ code: number | null; stderr: string }> {
  const node = job.t.controlPlane;
  const fd = openSync(path, 'wx', 0o600);
  try {
    return await sshToFile(job.options, node.sshUser, node.address, `${node.sudoPrefix}${command}`, fd);
  } finally {
    closeSync(fd);
  }
}

async function backup(job: Job, say: (line: string) => void): Promise<number> {
  const { t } = job;
  const node = t.controlPlane;
  const remoteDir = ETCD_BACKUP_PATHS.backupDir;
  say(`${node.name}: snapshot of etcd into ${remoteDir} (${node.sshUser}@${node.address}), verified with etcdutl snapshot status`);
  const taken = await ssh(job.options, node.sshUser, node.address,
    `${node.sudoPrefix}bash -c ${shq(renderEtcdSnapshot())} etcd-snapshot ${shq(remoteDir)} ${t.kubernetes.etcdBackup.keep}`, 900_000);
  const snapshot = taken.code === 0 ? parseSnapshotLine(taken.stdout) : undefined;
  if (!snapshot) {
    say(`${node.name}: no verified snapshot: ${taken.code === 0 ? `got "${taken.stdout.trim().split('\n').pop() ?? ''}", expected the snapshot script's summary` : lastLine(taken)}`);
    return 1;
  }
  say(`${node.name}: ${snapshot.snapshot}: hash ${snapshot.hash}, revision ${snapshot.revision}, ${snapshot.totalKey} keys`);

  mkdirSync(job.out, { recursive: true, mode: 0o700 });
  const stamp = snapshot.snapshot.slice('etcd-'.length, -'.db'.length);
  const dir = join(job.out, `etcd-${node.name}-${stamp}`);
  // Not recursive: an existing backup directory is an error, never written into.
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    say(`${dir}: exists; a backup is never overwritten`);
    return 1;
  }
  let done = false;
  try {
    say(`${node.name}: copying ${snapshot.snapshot}`);
    const snapshotFile = join(dir, 'snapshot.db');
    const copied = await fetchInto(job, `cat ${shq(`${remoteDir}/${snapshot.snapshot}`)}`, snapshotFile);
    if (copied.code !== 0) {
      say(`${node.name}: could not copy ${snapshot.snapshot}: ${lastLine(copied)}`);
      return 1;
    }
    const snapshotSum = await sha256Of(snapshotFile);
    if (snapshotSum !== snapshot.sha256) {
      say(`${node.name}: the copy of ${snapshot.snapshot} has sha256 ${snapshotSum}, the node's has ${snapshot.sha256}; not kept`);
      return 1;
    }
    say(`${node.name}: copying ${KUBEADM_ETCD.pki}`);
    const pkiFile = join(dir, 'pki.tar');
    const archived = await fetchInto(job, `tar -C ${shq(posix.dirname(KUBEADM_ETCD.pki))} -cf - ${shq(posix.basename(KUBEADM_ETCD.pki))}`, pkiFile);
    if (archived.code !== 0) {
      say(`${node.name}: could not copy ${KUBEADM_ETCD.pki}: ${lastLine(archived)}`);
      return 1;
    }
    const status = { node: node.name, snapshot: snapshot.snapshot, hash: Number(snapshot.hash), revision: Number(snapshot.revision), totalKey: Number(snapshot.totalKey) };
    writeFileSync(join(dir, 'status.json'), `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    const sums = [`${snapshotSum}  snapshot.db`, `${await sha256Of(pkiFile)}  pki.tar`, `${await sha256Of(join(dir, 'status.json'))}  status.json`];
    // Written last, through a temporary name: its presence says the backup is whole.
    writeFileSync(join(dir, '.SHA256SUMS.tmp'), `${sums.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(join(dir, '.SHA256SUMS.tmp'), join(dir, 'SHA256SUMS'));
    done = true;
    say(`${dir}: written (0700; snapshot.db, pki.tar, status.json, SHA256SUMS: 0600)`);
    return 0;
  } finally {
    // The directory is this run's own: a half-copied backup is not left to be mistaken for one.
    if (!done && existsSync(dir) && lstatSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
    await closeShared(job.options, node.sshUser, node.address);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let job: Job;
  let controlDir: string | undefined;
  try {
    const flags = parseFlags(argv, { values: ['--out', '--config', '--cdktf-out', '--ssh-key', '--known-hosts', '--connect-timeout'], switches: [] });
    if (flags.switches.has('--help')) {
      console.log(USAGE);
      return 0;
    }
    const rawOut = valueOf(flags, '--out') ?? DEFAULT_OUT;
    const { topology: t, cdktfOut } = siteOfFlags(flags);
    const out = checkedOut(rawOut, t, cdktfOut);
    const options = sshOptionsOf(flags);
    controlDir = options.controlDir;
    job = { t, out, options };
  } catch (error) {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
    return usageExit(error);
  }
  try {
    return await backup(job, (line) => console.log(line));
  } catch (error) {
    // Writing under --out refused by the system (a read-only directory, one not ours).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    console.error(`error: --out: got ${job.out}, where the backup could not be written (${code}); expected a directory this user can write`);
    return 2;
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
