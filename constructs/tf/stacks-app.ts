import { App } from 'cdktf';
import { mkdirSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { listFiles } from '../../lib/kernel/files';
import { STACK_DEPENDENCIES, StackName } from '../../lib/plan/bundle';
import type { RemovedWorker } from '../../lib/output/recorded-topology';
import { SynthPlan } from '../../lib/plan/synth-plan';
import { ProvisioningSpec, StateBackend } from '../../lib/topology';
import { BundleStack, StackBackend } from './bundle-stack';

// For synth, which loads this module only when it writes stacks.
export { hostsLeftBehind, removedWorkers } from './removed-workers';

export interface StacksAppOptions {
  /**
   * The path of a stack's local state file relative to its directory (cdktf.out/stacks/<stack>/).
   * @default `<stateDir>/<stack>.tfstate` with cdktf.out in the directory that stateDir is relative to
   */
  readonly localStatePath?: (stack: StackName, stateFile: string) => string;
  /** Workers removed from the topology whose teardown the k8s stack runs (see removed-workers.ts). @default none */
  readonly removedWorkers?: readonly RemovedWorker[];
}

/** Where stack `stack` keeps its state, from the topology's provisioning section. */
export function stackBackend(provisioning: ProvisioningSpec, stack: StackName, options: StacksAppOptions = {}): StackBackend {
  if (provisioning.backend === StateBackend.HTTP) {
    return { kind: 'http', address: `${provisioning.httpAddress.replace(/\/+$/, '')}/${stack}` };
  }
  const stateFile = posix.join(provisioning.stateDir, `${stack}.tfstate`);
  // cdktf.out/stacks/<stack>/ is three levels below the directory stateDir is relative to.
  const locate = options.localStatePath ?? ((_: StackName, file: string) => (posix.isAbsolute(file) ? file : posix.join('../../..', file)));
  return { kind: 'local', path: locate(stack, stateFile), workspaceDir: locate(stack, `${stateFile}.d`) };
}

/** Builds the cdktf app from the plan: one stack per StackName that has bundles, in dependency order. */
export function buildStacksApp(plan: SynthPlan, outdir: string, options: StacksAppOptions = {}): App {
  // cdktf's synth-time validation of terraform_data runs `terraform version` on the build machine:
  // half a second, and a failed synth where terraform is not installed. Synth stays a pure function of
  // the topology; terraform itself is checked by `terraform validate` (npm run validate) and at apply.
  const app = new App({ outdir, skipValidation: true });
  const stacks = new Map<StackName, BundleStack>();
  for (const stack of Object.values(StackName)) {
    const ofStack = plan.bundles.filter((b) => b.stack === stack);
    if (ofStack.length === 0) continue;
    stacks.set(stack, new BundleStack(app, stack, {
      bundles: ofStack,
      resource: plan.topology.provisioning.resource,
      backend: stackBackend(plan.topology.provisioning, stack, options),
      sshTimeoutSeconds: plan.topology.provisioning.sshTimeoutSeconds,
      removedWorkers: stack === StackName.K8S ? options.removedWorkers : undefined,
    }));
  }
  for (const [name, stack] of stacks) {
    for (const dependency of STACK_DEPENDENCIES[name]) {
      const first = stacks.get(dependency);
      if (first) stack.addDependency(first);
    }
  }
  return app;
}

/**
 * Synthesizes the stacks into `outdir` (cdktf.out), with every bundle's files from the plan, and
 * returns the files written (relative to `outdir`, sorted): what cdktf wrote, listed from disk,
 * and the stacks' assets as they were written (thousands for a large topology: not listed again).
 */
export function synthStacks(plan: SynthPlan, outdir: string, options: StacksAppOptions = {}): string[] {
  mkdirSync(outdir, { recursive: true });
  const app = buildStacksApp(plan, outdir, options);
  app.synth();
  const stacks = app.node.children.filter((c): c is BundleStack => c instanceof BundleStack);
  const assetDirs = new Set(stacks.map((stack) => posix.join(posix.dirname(app.manifest.forStack(stack).synthesizedStackPath), 'assets')));
  return [...listFiles(outdir, (dir) => assetDirs.has(dir.split(sep).join('/'))), ...stacks.flatMap((stack) => stack.assetFiles)].sort();
}
