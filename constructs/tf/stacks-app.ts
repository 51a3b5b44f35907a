import { App } from 'cdktf';
import { mkdirSync } from 'node:fs';
import { StackName } from '../../lib/plan/bundle';
import { SynthPlan } from '../../lib/plan/synth-plan';
import { BundleStack } from './bundle-stack';

/** Builds the cdktf app from the plan: one stack per StackName that has bundles. */
export function buildStacksApp(plan: SynthPlan, outdir: string): App {
  // cdktf's synth-time validation of terraform_data runs `terraform version` on the build machine:
  // half a second, and a failed synth where terraform is not installed. Synth stays a pure function of
  // the topology; terraform itself is checked by `terraform validate` (npm run validate) and at apply.
  const app = new App({ outdir, skipValidation: true });
  for (const stack of Object.values(StackName)) {
    const ofStack = plan.bundles.filter((b) => b.stack === stack);
    if (ofStack.length === 0) continue;
    new BundleStack(app, stack, { bundles: ofStack, resource: plan.topology.provisioning.resource });
  }
  return app;
}

/** Synthesizes the stacks into `outdir` (cdktf.out), with every bundle's files from the plan. */
export function synthStacks(plan: SynthPlan, outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  buildStacksApp(plan, outdir).synth();
}
