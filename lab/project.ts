import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { deepMerge, loadTopology, Topology } from '../lib/topology';
import { labNetns, must, runAsync, RunResult } from './exec';
import { StackName } from '../lib/plan/bundle';
import { MGMT_HOST } from './lab-hosts';

const repo = resolve(__dirname, '..');
/** The lab's synth output and Terraform state; removed by `down`. */
export const PROJECT_DIR = process.env.LAB_PROJECT_DIR ?? '/run/k8s-ha-edge-lab-project';

/**
 * The lab's containers are Debian; the registry is unreachable, so terraform_data, not
 * null_resource; a host that is down is reported after 20 s, not terraform's 2 min. SSH users are
 * the topology's own: the lab creates each in its container (passwordless sudo for a non-root one).
 */
const LAB_OVERLAY = { hostDefaults: { osFamily: 'debian' }, provisioning: { resource: 'terraform_data', backend: 'local', stateDir: 'state', sshTimeoutSeconds: 20 } };

/** Config paths of single hosts and host lists, where a host may set its own osFamily. */
const HOST_OBJECTS = ['controlPlane', 'gateway', 'client'] as const;
const HOST_LISTS = [['workers'], ['loadBalancer', 'hosts']] as const;

/**
 * The user's config with every host that sets its own osFamily set to debian (lists replace whole
 * in a merge, so the overlay cannot reach into them); returns the hosts that were changed.
 */
export function debianOnly(userConfig: any): { config: any; changed: string[] } {
  const config = JSON.parse(JSON.stringify(userConfig ?? {}));
  const changed: string[] = [];
  const fix = (host: any, path: string) => {
    if (host && typeof host === 'object' && host.osFamily !== undefined && host.osFamily !== 'debian') {
      changed.push(`${host.name ?? path} (${host.osFamily})`);
      host.osFamily = 'debian';
    }
  };
  for (const key of HOST_OBJECTS) fix(config[key], key);
  for (const [a, b] of HOST_LISTS) {
    const list = b === undefined ? config[a] : config[a]?.[b];
    if (Array.isArray(list)) list.forEach((h: any, i: number) => fix(h, `${a}[${i}]`));
  }
  const defaults = config.hostDefaults?.osFamily;
  if (defaults !== undefined && defaults !== 'debian') changed.unshift(`hostDefaults (${defaults})`);
  return { config, changed };
}

export interface LabProject {
  readonly topology: Topology;
  readonly dir: string;
  readonly configPath: string;
  readonly cdktfDir: string;
  readonly sshKey: string;
  /** The --firewalld variant: firewalld runs on the load balancers before anything is applied. */
  readonly firewalld: boolean;
  /** known_hosts with every lab host's key (from hosts.sh up). */
  readonly knownHosts: string;
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
  writeFileSync(path, stringify(deepMerge(debianOnly(userConfig).config, LAB_OVERLAY)));
  return { path, topology: loadTopology({ configPath: path }) };
}

/** Page bundles of the k8s stack (and their teardowns): the only part of it the stand-in workers can take. */
export function pageTargets(topology: Topology): string[] {
  return topology.workers.flatMap((w) => [`-target=terraform_data.${w.name}-page`, `-target=terraform_data.${w.name}-page-teardown`]);
}

/** The same, as flags of npm run apply. */
export function applyTargets(topology: Topology): string[] {
  return pageTargets(topology).flatMap((t) => ['--target', `${StackName.K8S}:${t.slice('-target='.length)}`]);
}

export interface NpmResult extends RunResult {
  /** stdout and stderr together, for messages. */
  readonly output: string;
}

/**
 * `npm run <script> -- <args>` of this repository, from the management host's network namespace,
 * in the lab's project directory: apply, verify and destroy exactly as an operator runs them.
 */
export function npmRun(project: LabProject, script: 'apply' | 'verify' | 'destroy' | 'drain', args: readonly string[], timeoutMs = 600_000): Promise<NpmResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1' };
  if (env.TF_CLI_CONFIG_FILE && !existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  delete env.INIT_CWD;
  return runAsync('ip', ['netns', 'exec', labNetns(MGMT_HOST), 'npm', '--prefix', repo, 'run', '-s', script, '--', ...args],
    { timeoutMs, env, cwd: project.dir }).then((r) => ({ ...r, output: `${r.stdout}\n${r.stderr}` }));
}
