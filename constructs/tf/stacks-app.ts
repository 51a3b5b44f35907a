import { App } from 'cdktf';
import { resolve } from 'node:path';
import { StackName } from '../../lib/render/bundles';
import { Topology } from '../../lib/topology';
import { bundlesFor } from '../host-files';
import { BundleStack } from './bundle-stack';

/** Builds the cdktf app: one stack per StackName that has bundles. */
export function buildStacksApp(topology: Topology, outdir: string, distDir: string): App {
  // cdktf's synth-time validation of terraform_data runs `terraform version` on the build machine:
  // half a second, and a failed synth where terraform is not installed. Synth stays a pure function of
  // the topology; terraform itself is checked by `terraform validate` (npm run validate) and at apply.
  const app = new App({ outdir, skipValidation: true });
  const bundles = bundlesFor(topology, distDir);
  for (const stack of Object.values(StackName)) {
    const ofStack = bundles.filter((b) => b.stack === stack);
    if (ofStack.length === 0) continue;
    new BundleStack(app, stack, { bundles: ofStack, distDir: resolve(distDir), resource: topology.provisioning.resource });
  }
  return app;
}

/** Synthesizes the stacks into `outdir` (cdktf.out), shipping the bundles from `distDir`. */
export function synthStacks(topology: Topology, outdir: string, distDir: string): void {
  buildStacksApp(topology, outdir, distDir).synth();
}
