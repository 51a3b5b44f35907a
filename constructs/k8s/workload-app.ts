import { App } from 'cdk8s';
import { PlannedFile } from '../../lib/plan/synth-plan';
import { Topology } from '../../lib/topology';
import { NginxPagesChart } from './nginx-pages-chart';

/** File name of the workload manifests inside dist/; the master applies this file. */
const WORKLOAD_MANIFEST = 'workload.k8s.yaml';

/**
 * The workload's manifests (the Pods and their NodePort Service), synthesized in memory:
 * the plan ships the same bytes to the master and into dist/, so nothing is read back from disk.
 */
export function synthWorkloadManifest(topology: Topology): PlannedFile {
  // cdk8s's outdir is never written: synthYaml() only renders.
  const app = new App({ outdir: '.' });
  new NginxPagesChart(app, 'workload', { workload: topology.workload, workers: topology.workers });
  return { name: WORKLOAD_MANIFEST, content: app.synthYaml() };
}
