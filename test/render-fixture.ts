import { join } from 'node:path';
import { synthWorkloadManifest } from '../constructs/k8s/workload-app';
import { Bundle } from '../lib/plan/bundle';
import { planSynth, SynthPlan } from '../lib/plan/synth-plan';
import { formatWarning, loadTopology, LoadTopologyOptions, Topology, topologyWarnings } from '../lib/topology';

/**
 * What a synth of the default topology prints on stderr: its warnings (today none), and nothing else.
 */
export const DEFAULT_SYNTH_STDERR = topologyWarnings(loadTopology()).map((w) => `${formatWarning(w)}\n`).join('');

export const CUSTOM_CONFIG = join(__dirname, '..', 'examples', 'custom-three-workers.yaml');

/** A topology and its synth plan, as synth computes them (in memory: nothing is written). */
export function renderFixture(options: LoadTopologyOptions = {}): { topology: Topology; plan: SynthPlan; bundles: readonly Bundle[] } {
  const topology = loadTopology(options);
  const plan = planSynth(topology, synthWorkloadManifest(topology));
  return { topology, plan, bundles: plan.bundles };
}

export function fileOf(bundles: readonly Bundle[], bundleId: string, name: string): string {
  const bundle = bundles.find((b) => b.id === bundleId);
  const file = bundle?.files.find((f) => f.name === name);
  if (!file) throw new Error(`no ${name} in bundle ${bundleId}`);
  return file.content;
}
