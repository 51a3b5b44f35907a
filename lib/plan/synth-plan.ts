import { clientBundles } from '../client/bundles';
import { gatewayBundles } from '../gateway/bundles';
import { kubernetesBundles } from '../kubernetes/bundles';
import { loadBalancerBundles } from '../load-balancer/bundles';
import { Topology } from '../topology';
import { Bundle, BundleFile, sharedSets, withStagingGuard } from './bundle';

/** A file that synth writes, with its content already rendered. */
export interface PlannedFile {
  /** Path relative to the directory it is written into. */
  readonly name: string;
  readonly content: string;
}

/**
 * Everything one synth writes, computed once and in memory: the files at the top of dist/
 * (the Kubernetes manifests, the topology picture), and the bundles every host gets. The dist/ writer and the Terraform stacks
 * both take this plan; neither renders nor reads back what the other wrote.
 */
export interface SynthPlan {
  readonly topology: Topology;
  /** Files at the top of dist/, for review: the workload manifests and the topology diagram. */
  readonly manifests: readonly PlannedFile[];
  readonly bundles: readonly Bundle[];
  /** The shared file sets the bundles use, each once, by name (see `BundleFile.shared`). */
  readonly shared: ReadonlyArray<{ readonly set: string; readonly files: readonly BundleFile[] }>;
}

/**
 * The whole provisioning plan: every file every host gets, grouped into bundles, each
 * component contributing its own. A pure function of the topology; the constructs only
 * turn it into resources. The order is the order of resources in each stack.
 */
function planBundles(t: Topology, workloadManifest: PlannedFile): Bundle[] {
  return [...kubernetesBundles(t, workloadManifest), ...loadBalancerBundles(t), ...gatewayBundles(t), ...clientBundles(t)]
    .map(withStagingGuard);
}

/**
 * Plans a synth from a topology, its synthesized workload manifest and, when given, the
 * picture of the site (`topology.dot` and its rendering `topology.svg`).
 */
export function planSynth(topology: Topology, workloadManifest: PlannedFile, diagram: readonly PlannedFile[] = []): SynthPlan {
  const bundles = planBundles(topology, workloadManifest);
  return { topology, manifests: [workloadManifest, ...diagram], bundles, shared: sharedSets(bundles) };
}
