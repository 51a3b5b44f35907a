import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { run } from '../lib/kernel/process';

export interface TerraformResult {
  readonly code: number | null;
  readonly output: string;
  readonly ms: number;
}

/** terraform's environment for an unattended run: no prompts, no call home, no colour codes in logs. */
function terraformEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_INPUT: '0' };
  if (env.TF_CLI_CONFIG_FILE && !existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  return env;
}

/** Starts a log file with a header. */
export function startLog(path: string, title: string): void {
  writeFileSync(path, `# ${title} (${new Date().toISOString()})\n`);
}

/** Runs `terraform -chdir=<dir> <args>` without blocking, appending its output to `logFile`. */
export function terraformAsync(dir: string, args: readonly string[], logFile: string, timeoutMs = 3_600_000): Promise<TerraformResult> {
  const start = Date.now();
  appendFileSync(logFile, `\n$ terraform ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn('terraform', [`-chdir=${dir}`, ...args], { env: terraformEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      appendFileSync(logFile, chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', (error) => take(Buffer.from(`${error.message}\n`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - start });
    });
  });
}

/** `terraform show -json` of a saved plan: the resources it changes, as "address: action[+action]". */
export function planChanges(dir: string, planFile: string): string[] {
  const shown = run('terraform', [`-chdir=${dir}`, 'show', '-json', planFile], { env: terraformEnv(), timeoutMs: 120_000 });
  if (shown.status !== 0) throw new Error(`terraform show ${planFile} failed: ${shown.stderr.slice(-500)}`);
  const plan = JSON.parse(shown.stdout) as { resource_changes?: Array<{ address: string; change: { actions: string[] } }> };
  return (plan.resource_changes ?? [])
    .filter((c) => !c.change.actions.every((a) => a === 'no-op' || a === 'read'))
    .map((c) => `${c.address}: ${c.change.actions.join('+')}`);
}

/** The installed terraform's version, or undefined when there is none. */
export function terraformVersion(): string | undefined {
  const result = run('terraform', ['version', '-json'], { env: terraformEnv(), timeoutMs: 30_000 });
  if (result.status !== 0) return undefined;
  try {
    return (JSON.parse(result.stdout) as { terraform_version: string }).terraform_version;
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a text. */
export function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The SSH key path the stack's state recorded (each host's teardown resource keeps the path it was
 * applied with), from `terraform show -json` of the state; undefined when the state holds none.
 */
export function keyPathInState(showJson: string, variable: string): string | undefined {
  type Module = { resources?: Array<{ values?: Record<string, unknown> }>; child_modules?: Module[] };
  let state: { values?: { root_module?: Module } };
  try {
    state = JSON.parse(showJson) as typeof state;
  } catch {
    return undefined;
  }
  const modules: Module[] = state.values?.root_module ? [state.values.root_module] : [];
  for (const module of modules) {
    modules.push(...(module.child_modules ?? []));
    for (const resource of module.resources ?? []) {
      // terraform_data keeps it in input, null_resource in triggers.
      for (const holder of [resource.values?.input, resource.values?.triggers]) {
        const value = (holder as Record<string, unknown> | undefined)?.[variable];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  }
  return undefined;
}

/** `terraform show -json` of the stack's state (after init): the key path it recorded, if any. */
export function stateKeyPath(dir: string, variable: string): string | undefined {
  const shown = run('terraform', [`-chdir=${dir}`, 'show', '-json', '-no-color'], { env: terraformEnv(), timeoutMs: 120_000 });
  return shown.status === 0 ? keyPathInState(shown.stdout, variable) : undefined;
}
