import { spawn } from 'node:child_process';

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

export interface SshResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell command on user@address over SSH, read-only by the caller's word; never prompts. */
export function ssh(options: SshOptions, user: string, address: string, command: string, timeoutMs = 60_000): Promise<SshResult> {
  const args = [
    '-i', options.key, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `ConnectTimeout=${options.connectTimeoutSeconds}`,
    '-o', 'StrictHostKeyChecking=accept-new', '-o', 'LogLevel=ERROR',
    ...(options.knownHosts ? ['-o', `UserKnownHostsFile=${options.knownHosts}`] : []),
    ...(options.controlDir ? ['-o', 'ControlMaster=auto', '-o', `ControlPath=${options.controlDir}/%C`, '-o', 'ControlPersist=60'] : []),
    `${user}@${address}`, '--', command,
  ];
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
