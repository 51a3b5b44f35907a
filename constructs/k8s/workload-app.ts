import { App, YamlOutputType } from 'cdk8s';
import { Topology } from '../../lib/topology';
import { NginxPagesChart } from './nginx-pages-chart';

/** File name of the workload manifests inside dist/; the master applies this file. */
export const WORKLOAD_MANIFEST = 'workload.k8s.yaml';

/** Synthesizes the Kubernetes manifests into `outdir` as one file per chart. */
export function synthWorkloadManifests(topology: Topology, outdir: string): void {
  const app = new App({ outdir, outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  // The chart id is the file name: "workload" → workload.k8s.yaml.
  new NginxPagesChart(app, 'workload', { workload: topology.workload, workers: topology.workers });
  app.synth();
}
