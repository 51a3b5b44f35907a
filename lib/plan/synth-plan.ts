import { Topology } from '../topology';
import { Bundle, BundleFile } from './bundle';

/** A file that synth writes, with its content already rendered. */
export interface PlannedFile {
  /** Path relative to the directory it is written into. */
  readonly name: string;
  readonly content: string;
}

/**
 * Everything one synth writes, computed once and in memory (by `planSynth`, lib/site-plan.ts, which
 * sits above the components it gathers): the files at the top of dist/
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
