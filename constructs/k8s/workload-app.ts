import { App, Yaml } from 'cdk8s';
import { PlannedFile } from '../../lib/plan/synth-plan';
import { podName, Topology, WorkerHost, WorkloadSpec } from '../../lib/topology';
import { NginxPagesChart } from './nginx-pages-chart';

/** File name of the workload manifests inside dist/; the master applies this file. */
const WORKLOAD_MANIFEST = 'workload.k8s.yaml';

/**
 * The workload's manifests (the Pods and their NodePort Service), synthesized in memory:
 * the plan ships the same bytes to the master and into dist/, so nothing is read back from disk.
 */
export function synthWorkloadManifest(topology: Topology): PlannedFile {
  return { name: WORKLOAD_MANIFEST, content: workloadYaml(topology.workload, topology.workers) };
}

/** The chart synthesized by cdk8s as it is, one Pod construct per worker: what workloadYaml must equal. */
export function chartYaml(workload: WorkloadSpec, workers: readonly WorkerHost[]): string {
  // cdk8s's outdir is never written: synthYaml() only renders.
  const app = new App({ outdir: '.' });
  new NginxPagesChart(app, 'workload', { workload, workers });
  return app.synthYaml();
}

/**
 * A worker name no config can hold (host names are at most 63 characters): it stands for each
 * worker in the one Pod cdk8s synthesizes.
 */
const STAND_IN = 'k8s-ha-edge-stand-in-for-each-worker-of-the-topology-x7q2v9k4w8z3';

/**
 * The chart's YAML, byte for byte what `chartYaml` gives, without synthesizing a Pod construct per
 * worker (cdk8s-plus resolves, patches and sorts each Pod, and the YAML library prints each: about
 * 2 ms per worker). The Pods differ only in the worker's name (the Pod's name and its nodeName): cdk8s
 * synthesizes the chart once, with a stand-in worker, and each worker's Pod is that text with the
 * stand-in replaced by the worker's name. Only where the YAML printer writes both names as they are
 * (no quotes: a name such as `123` is quoted) is that exact; otherwise the chart is synthesized whole.
 */
export function workloadYaml(workload: WorkloadSpec, workers: readonly WorkerHost[]): string {
  const [first] = workers;
  if (first === undefined || !printedAsIs([STAND_IN, podName(workload, STAND_IN), ...workers.flatMap((w) => [w.name, podName(workload, w.name)])])) {
    return chartYaml(workload, workers);
  }
  const standIn: WorkerHost = { ...first, name: STAND_IN };
  const docs = chartYaml(workload, [standIn]).split(/^---\n/m);
  const podDocs = docs.filter((doc) => /^kind: Pod$/m.test(doc));
  // The stand-in must be in exactly the Pod, as its name and its nodeName, and nowhere else.
  const occurrences = (text: string) => text.split(STAND_IN).length - 1;
  if (podDocs.length !== 1 || occurrences(podDocs[0]) !== 2 || docs.reduce((n, doc) => n + occurrences(doc), 0) !== 2) {
    return chartYaml(workload, workers);
  }
  const [pod] = podDocs;
  const at = docs.indexOf(pod);
  const pods = workers.map((w) => pod.split(STAND_IN).join(w.name));
  return [...docs.slice(0, at), ...pods, ...docs.slice(at + 1)].join('---\n');
}

/** Whether cdk8s's YAML printer writes every one of these strings as it is (plain, unquoted); one print for all of them. */
function printedAsIs(values: readonly string[]): boolean {
  return Yaml.stringify({ v: values }) === `v:\n${values.map((value) => `  - ${value}\n`).join('')}`;
}
