import { spawn } from 'node:child_process';

export interface SshOptions {
  readonly key: string;
  readonly connectTimeoutSeconds: number;
  /** A known_hosts file; new host keys are accepted into it, changed ones refused. @default ~/.ssh/known_hosts */
  readonly knownHosts?: string;
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
