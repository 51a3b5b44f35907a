import { spawn } from 'node:child_process';
import { run as runTool } from '../lib/kernel/process';
import { join } from 'node:path';

export const HOSTS_SH = join(__dirname, 'hosts.sh');
const LAB_PREFIX = process.env.LAB_PREFIX ?? 'lab-';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to its end, bounded by `timeoutMs`; never throws. */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const start = Date.now();
  const result = runTool(command, args, { ...options, timeoutMs: options.timeoutMs ?? 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.error ? `${result.stderr}${result.error}\n` : result.stderr, ms: Date.now() - start };
}

/** Like `run`, but a non-zero exit is an error carrying the command's output. */
export function must(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): RunResult {
  const result = run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  }
  return result;
}

/** lab/hosts.sh with its arguments. */
export function hostsSh(args: readonly string[], timeoutMs = 300_000): RunResult {
  return run('bash', [HOSTS_SH, ...args], { timeoutMs });
}

/** A shell command line on a lab host (through nsenter, not the network). */
export function onHost(host: string, command: string, timeoutMs = 60_000): RunResult {
  return hostsSh(['exec', host, command], timeoutMs);
}

export function mustOnHost(host: string, command: string, timeoutMs = 60_000): string {
  const result = onHost(host, command, timeoutMs);
  if (result.code !== 0) throw new Error(`on ${host}: ${command} exited ${result.code}\n${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
  return result.stdout;
}

/** The network namespace of a lab host, for commands that must run there from this machine (terraform). */
export function labNetns(host: string): string {
  return `${LAB_PREFIX}${host}`;
}

/** Starts a shell command on a host in the background; resolves with its output when it ends. */
export function onHostAsync(host: string, command: string, timeoutMs: number): Promise<RunResult> {
  return runAsync('bash', [HOSTS_SH, 'exec', host, command], { timeoutMs });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Like `run`, without blocking: for commands that must run side by side (parallel applies). */
export function runAsync(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}
