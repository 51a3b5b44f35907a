/**
 * npm run apply / npm run destroy: terraform init, plan and apply (or destroy) of every stack of
 * cdktf.out, in the order manifest.json gives (cdktf's stack dependencies), independent stacks side
 * by side. It does what `cdktf deploy '*'` / `cdktf destroy '*'` do, on the already synthesized
 * stacks, with one approval for all of them, a live line per stack, fail-fast and a summary.
 * Exit codes: 0 done (or nothing to do), 1 a stack failed, 2 bad flags or refused, 130 interrupted.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { integerOf, parseFlags, ParsedFlags, UsageError, userDir, userPath, valueOf } from './args';
import { TopologyError } from '../lib/topology';
import { Progress } from './progress';
import { siteTopology } from './site';
import { checkFresh, prerequisites, readStacks, selectStacks, StackEntry } from './stacks';
import { planChanges, startLog, stateKeyPath, tail, terraformAsync, terraformVersion } from './terraform';

export type Mode = 'apply' | 'destroy';

const PLAN_FILE = '.k8s-ha-edge.tfplan';
const LOG_FILE = 'terraform.log';
const SSH_KEY_VARIABLE = 'ssh_private_key_path';
/** The key variable's value in a plan made without a key on a stack with no state: never read (a plan connects to no host). */
const PLAN_WITHOUT_KEY = '(no key: plan only)';

const usage = (mode: Mode) => `usage: npm run ${mode} -- [--config FILE] [--stacks LIST] [--plan] [--auto-approve] [--ssh-key PATH]
                         [--cdktf-out DIR] [--target STACK:ADDRESS]... [--lock-timeout SECONDS]

  --config FILE       the config synth used: ${mode} refuses stacks older than it (or than the code)
  --stacks LIST       only these stacks, e.g. lb,client (default: every stack in cdktf.out)
  --plan              plan only: print each stack's changes, change nothing (needs no SSH key)
  --auto-approve      no question (required when stdin is not a terminal)
  --ssh-key PATH      the SSH private key (default: $TF_VAR_${SSH_KEY_VARIABLE}; not needed with --plan)
  --cdktf-out DIR     the synthesized stacks (default cdktf.out)
  --target S:ADDR     pass -target=ADDR to stack S's plan (repeatable), e.g. k8s:terraform_data.node01-page
  --lock-timeout N    seconds to wait for a state lock held by someone else (default 0: fail at once)`;

interface Options {
  readonly mode: Mode;
  readonly cdktfOut: string;
  readonly stacks: StackEntry[];
  readonly planOnly: boolean;
  readonly autoApprove: boolean;
  /** Undefined only with --plan: the plan then uses the path each stack's state recorded (a plan reads no key). */
  readonly sshKey: string | undefined;
  readonly targets: ReadonlyMap<string, string[]>;
  readonly lockTimeoutSeconds: number;
}

function options(mode: Mode, flags: ParsedFlags): Options {
  const cdktfOut = userPath(valueOf(flags, '--cdktf-out') ?? 'cdktf.out');
  const config = valueOf(flags, '--config');
  if (config !== undefined && !existsSync(userPath(config))) throw new UsageError(`--config: got ${config}, expected an existing file`);
  checkFresh(cdktfOut, config === undefined ? undefined : userPath(config));
  // --config given: it must be the topology cdktf.out was synthesized from (a fresh but different file is refused too).
  if (config !== undefined) siteTopology({ cdktfOut, configPath: userPath(config) });
  const stacks = selectStacks(readStacks(cdktfOut), valueOf(flags, '--stacks'));
  const planOnly = flags.switches.has('--plan');
  const keyFlag = valueOf(flags, '--ssh-key');
  const sshKey = keyFlag !== undefined ? userPath(keyFlag) : process.env[`TF_VAR_${SSH_KEY_VARIABLE}`];
  if (sshKey === undefined && !planOnly) throw new UsageError(`--ssh-key: got nothing, expected the path of the SSH private key (or TF_VAR_${SSH_KEY_VARIABLE}; --plan needs none)`);
  if (sshKey !== undefined && !existsSync(sshKey)) throw new UsageError(`--ssh-key: got ${sshKey}, expected an existing private key file`);
  const targets = new Map<string, string[]>();
  for (const target of flags.values.get('--target') ?? []) {
    const [stack, address] = target.split(':', 2);
    if (!address || !stacks.some((s) => s.name === stack)) {
      throw new UsageError(`--target: got ${JSON.stringify(target)}, expected STACK:ADDRESS with STACK one of ${stacks.map((s) => s.name).join(', ')}`);
    }
    targets.set(stack, [...(targets.get(stack) ?? []), address]);
  }
  const autoApprove = flags.switches.has('--auto-approve');
  if (!planOnly && !autoApprove && !process.stdin.isTTY) {
    throw new UsageError('--auto-approve: got nothing, expected it when stdin is not a terminal (there is no one to answer the question)');
  }
  return { mode, cdktfOut, stacks, planOnly, autoApprove, sshKey, targets, lockTimeoutSeconds: integerOf(flags, '--lock-timeout', 0, 0, 3600) };
}

interface StackOutcome {
  result: 'done' | 'no changes' | 'FAILED' | 'not run' | 'planned';
  changes: string[];
  ms: number;
  detail?: string;
}

function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => rl.question(question, (answer) => {
    rl.close();
    resolve(/^y(es)?$/i.test(answer.trim()));
  }));
}

let interrupted = false;

export async function deploy(mode: Mode, argv: readonly string[]): Promise<number> {
  let opts: Options;
  try {
    const flags = parseFlags(argv, {
      values: ['--config', '--stacks', '--ssh-key', '--cdktf-out', '--target', '--lock-timeout'],
      repeatable: ['--target'],
      switches: ['--plan', '--auto-approve'],
    });
    if (flags.switches.has('--help')) {
      console.log(usage(mode));
      return 0;
    }
    opts = options(mode, flags);
    if (terraformVersion() === undefined) throw new UsageError('terraform: got nothing on PATH, expected terraform >= 1.4');
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TopologyError)) throw error;
    console.error(`error: ${error.message}`);
    return 2;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { interrupted = true; });

  const names = opts.stacks.map((s) => s.name);
  const outcomes = new Map<string, StackOutcome>(names.map((n) => [n, { result: 'not run', changes: [], ms: 0 }]));
  const where = relative(userDir(), opts.cdktfOut) || '.';
  console.error(`${mode === 'apply' ? 'planning' : 'planning the destruction of'} ${names.join(', ')} (${where}; logs in ${where}/stacks/<stack>/${LOG_FILE})`);
  const progress = new Progress(names);
  progress.start();

  // 1. init and plan every stack, side by side: plans of different stacks do not depend on each other.
  const failures: string[] = [];
  await Promise.all(opts.stacks.map(async (stack) => {
    const log = join(stack.dir, LOG_FILE);
    startLog(log, `npm run ${mode}: ${stack.name}`);
    const started = Date.now();
    progress.set(stack.name, 'init');
    const init = await terraformAsync(stack.dir, ['init', '-input=false', '-no-color'], log);
    if (init.code !== 0 || interrupted) return fail(stack.name, init.output, started);
    progress.set(stack.name, 'plan');
    // No key (plan only): the path the state recorded, so the plan shows no change of it; a stack with no
    // state creates everything anyway. Terraform reads the key only when a provisioner connects, at apply.
    const keyPath = opts.sshKey ?? stateKeyPath(stack.dir, SSH_KEY_VARIABLE) ?? PLAN_WITHOUT_KEY;
    const plan = await terraformAsync(stack.dir, [
      'plan', '-input=false', '-no-color', `-out=${PLAN_FILE}`, `-lock-timeout=${opts.lockTimeoutSeconds}s`,
      '-var', `${SSH_KEY_VARIABLE}=${keyPath}`,
      ...(mode === 'destroy' ? ['-destroy'] : []),
      ...(opts.targets.get(stack.name) ?? []).map((t) => `-target=${t}`),
    ], log);
    if (plan.code !== 0 || interrupted) return fail(stack.name, plan.output, started);
    const changes = planChanges(stack.dir, PLAN_FILE);
    outcomes.set(stack.name, { result: 'planned', changes, ms: Date.now() - started });
    progress.set(stack.name, changes.length === 0 ? 'no changes' : 'planned');
  }));

  function fail(stack: string, output: string, started: number): void {
    outcomes.set(stack, { result: 'FAILED', changes: outcomes.get(stack)?.changes ?? [], ms: Date.now() - started, detail: tail(output) });
    failures.push(stack);
    progress.set(stack, 'FAILED');
  }

  const pending = names.filter((n) => outcomes.get(n)!.result === 'planned' && outcomes.get(n)!.changes.length > 0);
  if (failures.length > 0 || interrupted || opts.planOnly || pending.length === 0) {
    for (const n of names) if (outcomes.get(n)!.result === 'planned' && !opts.planOnly) outcomes.set(n, { ...outcomes.get(n)!, result: 'no changes' });
    if (failures.length > 0 || interrupted) for (const n of pending) { outcomes.set(n, { ...outcomes.get(n)!, result: 'not run' }); progress.set(n, 'not run'); }
    progress.stop();
    cleanPlans(opts.stacks);
    return report(opts, outcomes, failures);
  }

  if (!opts.autoApprove) {
    progress.stop();
    printChanges(opts, outcomes);
    const yes = await ask(`${mode} these changes to ${pending.join(', ')}? only 'yes' goes on: `);
    if (!yes) {
      cleanPlans(opts.stacks);
      console.error('nothing was changed');
      return 1;
    }
    progress.start();
  }

  // 2. apply the saved plans in dependency order (reverse for destroy), independent stacks side by side.
  const before = prerequisites(opts.stacks, mode);
  const finished = new Set(names.filter((n) => !pending.includes(n)));
  const running = new Map<string, Promise<void>>();
  const applyOne = async (name: string) => {
    const stack = opts.stacks.find((s) => s.name === name)!;
    const started = Date.now();
    progress.set(name, mode);
    const applied = await terraformAsync(stack.dir, ['apply', '-input=false', '-no-color', `-lock-timeout=${opts.lockTimeoutSeconds}s`, PLAN_FILE], join(stack.dir, LOG_FILE));
    if (applied.code !== 0) return fail(name, applied.output, started);
    outcomes.set(name, { ...outcomes.get(name)!, result: 'done', ms: Date.now() - started });
    progress.set(name, 'done');
    finished.add(name);
  };
  while (true) {
    if (failures.length === 0 && !interrupted) {
      for (const name of pending) {
        if (running.has(name) || finished.has(name)) continue;
        if (before.get(name)!.every((dep) => finished.has(dep))) running.set(name, applyOne(name).finally(() => running.delete(name)));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const name of pending) {
    if (!finished.has(name) && outcomes.get(name)!.result !== 'FAILED') {
      outcomes.set(name, { ...outcomes.get(name)!, result: 'not run' });
      progress.set(name, 'not run');
    }
  }
  for (const name of names) if (outcomes.get(name)!.result === 'planned') outcomes.set(name, { ...outcomes.get(name)!, result: 'no changes' });
  progress.stop();
  cleanPlans(opts.stacks);
  return report(opts, outcomes, failures);
}

function cleanPlans(stacks: readonly StackEntry[]): void {
  for (const stack of stacks) rmSync(join(stack.dir, PLAN_FILE), { force: true });
}

function printChanges(opts: Options, outcomes: ReadonlyMap<string, StackOutcome>): void {
  for (const stack of opts.stacks) {
    const { changes, result } = outcomes.get(stack.name)!;
    if (result === 'FAILED') continue;
    console.log(`${stack.name}: ${changes.length === 0 ? 'no changes' : `${changes.length} to ${opts.mode === 'destroy' ? 'destroy' : 'change'}`}`);
    for (const change of changes) console.log(`  ${change}`);
  }
}

function report(opts: Options, outcomes: ReadonlyMap<string, StackOutcome>, failures: readonly string[]): number {
  if (opts.planOnly && failures.length === 0) {
    printChanges(opts, outcomes);
    return interrupted ? 130 : 0;
  }
  console.log(`\n${'stack'.padEnd(10)} ${'result'.padEnd(11)} ${'changed'.padEnd(8)} time`);
  for (const stack of opts.stacks) {
    const o = outcomes.get(stack.name)!;
    const changed = o.result === 'done' ? String(o.changes.length) : o.result === 'no changes' ? '0' : '-';
    console.log(`${stack.name.padEnd(10)} ${o.result.padEnd(11)} ${changed.padEnd(8)} ${o.result === 'not run' ? '-' : `${(o.ms / 1000).toFixed(1)} s`}`);
  }
  for (const name of failures) {
    const stack = opts.stacks.find((s) => s.name === name)!;
    console.error(`\n${name} failed; the end of ${relative(userDir(), join(stack.dir, LOG_FILE))}:\n${outcomes.get(name)!.detail}`);
  }
  if (interrupted) return 130;
  return failures.length === 0 ? 0 : 1;
}
