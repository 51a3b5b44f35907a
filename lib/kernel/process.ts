import { spawnSync } from 'node:child_process';

/** The shared kernel's process runner: synth's tests, validate, the lab and the bench all use it. */
export interface RunResult {
  /** Exit status; null when the process was killed by a signal or never started. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started or timed out. */
  readonly error?: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** spawnSync with a timeout (SIGKILL when it expires); never throws. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = spawnSync(command, [...args], {
    input: options.input,
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let error: string | undefined;
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    error = code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : `${command}: ${result.error.message}`;
  }
  return { status: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error };
}
