import { clientBundles } from './client/bundles';
import { gatewayBundles } from './gateway/bundles';
import { kubernetesBundles } from './kubernetes/bundles';
import { loadBalancerBundles } from './load-balancer/bundles';
import { Topology } from './topology';
import { Bundle, sharedSets, withStagingGuard } from './plan/bundle';
import { PlannedFile, SynthPlan } from './plan/synth-plan';

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
