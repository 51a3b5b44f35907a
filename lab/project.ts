import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { deepMerge, loadTopology, Topology } from '../lib/topology';
import { labNetns, must, run, runAsync, RunResult } from './exec';
import { MGMT_HOST } from './lab-hosts';

const repo = resolve(__dirname, '..');
/** The lab's synth output and Terraform state; removed by `down`. */
export const PROJECT_DIR = process.env.LAB_PROJECT_DIR ?? '/run/k8s-ha-edge-lab-project';

/**
 * The lab's containers are Debian and authorize the lab's key for root only; the registry is
 * unreachable, so terraform_data, not null_resource. (Hosts that set their own sshUser keep it.)
 */
const LAB_OVERLAY = { hostDefaults: { osFamily: 'debian', sshUser: 'root' }, provisioning: { resource: 'terraform_data' } };

export interface LabProject {
  readonly topology: Topology;
  readonly dir: string;
  readonly configPath: string;
  readonly cdktfDir: string;
  readonly sshKey: string;
  /** The --firewalld variant: firewalld runs on the load balancers before anything is applied. */
  readonly firewalld: boolean;
}

/** Synthesizes with the project's own CLI, exactly as a user runs it. */
export function synth(project: Pick<LabProject, 'dir' | 'configPath'>): RunResult {
  return must(join(repo, 'node_modules', '.bin', 'tsx'), [
    join(repo, 'main.ts'), '--config', project.configPath,
    '--dist', join(project.dir, 'dist'), '--cdktf-out', join(project.dir, 'cdktf.out'),
  ], { cwd: project.dir, env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' } });
}

/** Writes the lab's config (the user's, plus the lab overlay) and returns the topology it gives. */
export function writeLabConfig(dir: string, name: string, userConfig: unknown): { path: string; topology: Topology } {
  const path = join(dir, name);
  writeFileSync(path, stringify(deepMerge(userConfig ?? {}, LAB_OVERLAY)));
  return { path, topology: loadTopology({ configPath: path }) };
}

function terraformInvocation(project: LabProject, stack: string, args: readonly string[]): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_INPUT: '0' };
  if (env.TF_CLI_CONFIG_FILE && !existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  // Run from the management host's network namespace: terraform reaches the hosts as an operator would.
  return { args: ['netns', 'exec', labNetns(MGMT_HOST), 'terraform', `-chdir=${join(project.cdktfDir, 'stacks', stack)}`, ...args], env };
}

export function terraform(project: LabProject, stack: string, args: readonly string[], timeoutMs = 300_000): RunResult {
  const call = terraformInvocation(project, stack, args);
  return run('ip', call.args, { timeoutMs, env: call.env });
}

export function terraformAsync(project: LabProject, stack: string, args: readonly string[], timeoutMs = 300_000): Promise<RunResult> {
  const call = terraformInvocation(project, stack, args);
  return runAsync('ip', call.args, { timeoutMs, env: call.env });
}

export function varArgs(project: LabProject): string[] {
  return ['-no-color', '-var', `ssh_private_key_path=${project.sshKey}`];
}

/** Page bundles of the k8s stack: the only part of it the stand-in workers can take. */
export function pageTargets(topology: Topology): string[] {
  return topology.workers.map((w) => `-target=terraform_data.${w.name}-page`);
}
