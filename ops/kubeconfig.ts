/**
 * npm run kubeconfig -- --out FILE [--force] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout N]
 *
 * The cluster's admin kubeconfig on the operator's machine: /etc/kubernetes/admin.conf read from the
 * control-plane node over SSH (with sudo for a user other than root), its `server:` set to the
 * control-plane endpoint (the address every kubeconfig of the cluster is meant to use), written mode 0600
 * to --out. The file holds the cluster's admin credentials: it is written with mode 0600 from its
 * creation (a temporary file beside it, renamed over it), never printed, never put inside the
 * synthesized output or the Terraform state (both are shared, reviewed or kept for years), and a
 * different file already there is replaced only with --force.
 * Exit codes: 0 written (or already equal), 1 the host could not be read or its file is not a
 * kubeconfig, 2 bad flags (or --out refused).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { controlPlaneEndpoint } from '../lib/kubernetes/kubeadm';
import { Topology } from '../lib/topology';
import { parseFlags, usageExit, UsageError, userPath, valueOf } from './args';
import { refuseSecretPath } from './secret-paths';
import { SITE_FLAGS_USAGE, siteOfFlags } from './site';
import { closeShared, ssh, SshOptions, sshOptionsOf } from './ssh';

/** Where kubeadm init writes the admin kubeconfig on a control-plane node. */
const ADMIN_CONF = '/etc/kubernetes/admin.conf';

const USAGE = `usage: npm run kubeconfig -- --out FILE [--force] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH]
                            [--known-hosts FILE] [--connect-timeout SECONDS]

  --out FILE             where to write the admin kubeconfig (mode 0600); not inside dist/, cdktf.out/ or
                         the Terraform state directory
  --force                replace FILE when it exists with other content
${SITE_FLAGS_USAGE}
  --connect-timeout N    seconds to wait for the SSH connection (default 10)`;

/** A kubeconfig that cannot be used: said without its content (it holds credentials). */
class NotAKubeconfig extends Error {}

/**
 * The kubeconfig with every cluster's `server:` set to `server`; comments and the rest of the document
 * kept as kubeadm wrote them.
 */
function pointedAt(text: string, server: string): string {
  const doc = parseDocument(text);
  // The parser's messages quote the offending line, which may be a key: only their count is said.
  if (doc.errors.length > 0) throw new NotAKubeconfig(`not YAML (${doc.errors.length} parse error(s))`);
  if (doc.get('kind') !== 'Config') throw new NotAKubeconfig('kind is not Config');
  const clusters = doc.get('clusters');
  if (!isSeq(clusters) || clusters.items.length === 0) throw new NotAKubeconfig('no clusters');
  for (const entry of clusters.items) {
    const cluster = isMap(entry) ? entry.get('cluster') : undefined;
    if (!isMap(cluster)) throw new NotAKubeconfig('a cluster without a cluster: section');
    cluster.set('server', server);
  }
  return doc.toString();
}

/** --out checked: a regular file (or nothing yet) in an existing directory, outside the forbidden ones. */
function checkedOut(raw: string, t: Topology, cdktfOut: string): string {
  const out = userPath(raw);
  refuseSecretPath(raw, out, t, cdktfOut, 'the kubeconfig holds the cluster\'s admin credentials');
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new UsageError(`--out: got ${raw}, whose directory ${dirname(out)} does not exist; expected a file in an existing directory`);
  // lstat: a symbolic link would be replaced by the rename, not the file it points to.
  if (existsSync(out) || isDanglingLink(out)) {
    if (!lstatSync(out).isFile()) throw new UsageError(`--out: got ${raw}, which is not a regular file (a directory, a symbolic link or a device); expected a regular file or a new path`);
  }
  return out;
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Writes `content` to `path` through a 0600 file beside it, renamed over it: never half-written, never readable by others. */
function writeAtomically(path: string, content: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': a new file, created with mode 0600 (the umask can only narrow it).
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

interface Job {
  readonly t: Topology;
  readonly out: string;
  readonly rawOut: string;
  readonly force: boolean;
  readonly options: SshOptions;
}

async function fetchKubeconfig({ t, out, rawOut, force, options }: Job, say: (line: string) => void): Promise<number> {
  const node = t.controlPlane;
  const server = `https://${controlPlaneEndpoint(t)}`;
  say(`${node.name}: reading ${ADMIN_CONF} (${node.sshUser}@${node.address})`);
  const read = await ssh(options, node.sshUser, node.address, `${node.sudoPrefix}cat ${ADMIN_CONF}`, 60_000);
  await closeShared(options, node.sshUser, node.address);
  if (read.code !== 0) {
    // ssh's and cat's own messages: the file's content is on stdout, which is never printed.
    say(`${node.name}: could not read ${ADMIN_CONF}: ${read.stderr.trim().split('\n').pop() || `exit ${read.code}`}`);
    return 1;
  }
  let content: string;
  try {
    content = pointedAt(read.stdout, server);
  } catch (error) {
    if (!(error instanceof NotAKubeconfig)) throw error;
    say(`${node.name}: ${ADMIN_CONF} is not a usable kubeconfig: ${error.message}; has kubeadm init run there?`);
    return 1;
  }
  say(`${node.name}: server set to ${server}`);
  if (existsSync(out)) {
    const existing = readFileSync(out, 'utf8');
    if (existing === content) {
      // The same credentials: only a mode wider than 0600 is put right (the content is what this command writes).
      if ((statSync(out).mode & 0o777) !== 0o600) {
        writeAtomically(out, content);
        say(`${out}: unchanged, mode set to 0600`);
      } else say(`${out}: unchanged (0600)`);
      return 0;
    }
    if (!force) {
      say(`error: --out: got ${rawOut}, which exists with other content; expected --force to replace it (or another path)`);
      return 2;
    }
  }
  writeAtomically(out, content);
  say(`${out}: written (0600)${force ? ', replacing the file that was there' : ''}`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let job: Job;
  let controlDir: string | undefined;
  try {
    const flags = parseFlags(argv, { values: ['--out', '--config', '--cdktf-out', '--ssh-key', '--known-hosts', '--connect-timeout'], switches: ['--force'] });
    if (flags.switches.has('--help')) {
      console.log(USAGE);
      return 0;
    }
    const rawOut = valueOf(flags, '--out');
    if (rawOut === undefined) throw new UsageError('--out: got nothing, expected the file to write the kubeconfig to');
    const { topology: t, cdktfOut } = siteOfFlags(flags);
    const out = checkedOut(rawOut, t, cdktfOut);
    const options = sshOptionsOf(flags);
    controlDir = options.controlDir;
    job = {
      t, out, rawOut, force: flags.switches.has('--force'),
      options,
    };
  } catch (error) {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
    return usageExit(error);
  }
  try {
    return await fetchKubeconfig(job, (line) => (line.startsWith('error: ') ? console.error(line) : console.log(line)));
  } catch (error) {
    // Reading or writing --out refused by the system (a read-only directory, a file not ours to read).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    console.error(`error: --out: got ${job.rawOut}, which could not be ${(error as NodeJS.ErrnoException).syscall === 'open' && existsSync(job.out) ? 'read or replaced' : 'written'} (${code}); expected a file this user can write in a directory it can write`);
    return 2;
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
