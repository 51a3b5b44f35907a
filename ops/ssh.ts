import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integerOf, ParsedFlags, UsageError, userPath, valueOf } from './args';

export interface SshOptions {
  readonly key: string;
  readonly connectTimeoutSeconds: number;
  /** A known_hosts file; new host keys are accepted into it, changed ones refused. @default ~/.ssh/known_hosts */
  readonly knownHosts?: string;
  /**
   * A private directory for connection sharing: one login per host, every later command over it.
   * A login is not free (sshd, PAM, a systemd user session): two dozen at once on a small machine
   * starved keepalived's 1 s health check in the lab. @default no sharing
   */
  readonly controlDir?: string;
}

/**
 * The SSH options of an operator command from its flags: `--ssh-key` (else TF_VAR_ssh_private_key_path),
 * `--known-hosts`, `--connect-timeout`, and a fresh private directory for connection sharing, made last
 * (after every check) and removed by the caller (`controlDir`). A missing key is a UsageError.
 */
export function sshOptionsOf(flags: ParsedFlags): SshOptions & { readonly controlDir: string } {
  const keyFlag = valueOf(flags, '--ssh-key');
  const key = keyFlag !== undefined ? userPath(keyFlag) : process.env.TF_VAR_ssh_private_key_path;
  if (key === undefined) throw new UsageError('--ssh-key: got nothing, expected the path of the SSH private key (or TF_VAR_ssh_private_key_path)');
  if (!existsSync(key)) throw new UsageError(`--ssh-key: got ${key}, expected an existing private key file`);
  const knownHosts = valueOf(flags, '--known-hosts');
  const connectTimeoutSeconds = integerOf(flags, '--connect-timeout', 10, 1, 300);
  // Short: a control socket path must fit in 104 bytes.
  const controlDir = mkdtempSync(join(tmpdir(), 'khe-'));
  return { key, knownHosts: knownHosts === undefined ? undefined : userPath(knownHosts), controlDir, connectTimeoutSeconds };
}

export interface SshResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sshArgs(options: SshOptions, user: string, address: string): string[] {
  return [
    '-i', options.key, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `ConnectTimeout=${options.connectTimeoutSeconds}`,
    '-o', 'StrictHostKeyChecking=accept-new', '-o', 'LogLevel=ERROR',
    ...(options.knownHosts ? ['-o', `UserKnownHostsFile=${options.knownHosts}`] : []),
    ...(options.controlDir ? ['-o', 'ControlMaster=auto', '-o', `ControlPath=${options.controlDir}/%C`, '-o', 'ControlPersist=60'] : []),
    `${user}@${address}`,
  ];
}

/** Runs a shell command on user@address over SSH, read-only by the caller's word; never prompts. */
export function ssh(options: SshOptions, user: string, address: string, command: string, timeoutMs = 60_000): Promise<SshResult> {
  const args = [...sshArgs(options, user, address), '--', command];
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { stderr += `${error.message}\n`; });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ends the shared connection to user@address, if there is one. */
export function closeShared(options: SshOptions, user: string, address: string): Promise<SshResult> {
  if (!options.controlDir) return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  return new Promise((resolve) => {
    const child = spawn('ssh', ['-o', `ControlPath=${options.controlDir}/%C`, '-O', 'exit', `${user}@${address}`], { stdio: 'ignore' });
    child.on('close', (code) => resolve({ code, stdout: '', stderr: '' }));
    child.on('error', () => resolve({ code: 1, stdout: '', stderr: '' }));
  });
}

/**
 * Runs a shell command on user@address over SSH with its output written to the open file `fd` (a
 * snapshot, an archive: bytes, never held in memory as text); stderr is collected for the message.
 */
export function sshToFile(options: SshOptions, user: string, address: string, command: string, fd: number, timeoutMs = 600_000): Promise<Omit<SshResult, 'stdout'>> {
  return new Promise((resolve) => {
    const child = spawn('ssh', [...sshArgs(options, user, address), '--', command], { stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { stderr += `${error.message}\n`; });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
