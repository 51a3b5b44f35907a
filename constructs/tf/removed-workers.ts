import { removedWorkerBundles } from '../../lib/kubernetes/bundles';
import type { RemovedWorker } from '../../lib/output/recorded-topology';
import { bundleResourceIds, InternalHost, Topology, TopologyWarning } from '../../lib/topology';
import { StackName } from '../../lib/plan/bundle';
import { SSH_KEY_VARIABLE } from './bundle-stack';
import { hostResources } from './host-provisioner';

/** What the previous synth of the same cdktf.out recorded (see lib/output/recorded-topology.ts). */
export interface PreviousSite {
  /** Its topology.json, for the messages. */
  readonly path: string;
  readonly topology: Topology;
  readonly removedWorkers: readonly RemovedWorker[];
}

/**
 * The workers whose teardown the k8s stack carries as `removed` blocks: those the previous synth's
 * topology had and `current` has not, with the teardown their resources had (the drain on the
 * control plane, then the worker's reset; its page's removal), and those an earlier synth found
 * removed, kept so that a second synth before the apply does not lose them. A block whose resource
 * is not (or no longer) in state does nothing (terraform plans no change for it), so an entry is kept
 * until its resources are in the configuration again: a worker of the same name added back (a
 * resource and a removed block for one address are an error), or any other host whose resource ids
 * are the same. `currentResourceIds`: every resource id of the current plan's bundles.
 *
 * Only workers leave this way: a control plane, load balancer or gateway missing from `current` is
 * warned about (hostsLeftBehind), not torn down.
 */
export function removedWorkers(current: Topology, previous: PreviousSite | undefined, currentResourceIds: ReadonlySet<string>): RemovedWorker[] {
  if (previous === undefined) return [];
  const currentWorkers = new Set(current.workers.map((w) => w.name));
  // A worker added back, or another host with its resource ids: its resources are in the configuration again.
  const kept = (w: RemovedWorker) => w.removed.every((r) => !currentResourceIds.has(r.from.slice(r.from.indexOf('.') + 1)));
  const found = previous.topology.workers.filter((w) => !currentWorkers.has(w.name)).map((w) => removalOf(current, w));
  const foundNames = new Set(found.map((w) => w.name));
  return [...previous.removedWorkers.filter((w) => !foundNames.has(w.name)), ...found].filter(kept).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A worker's teardown resources as `removed` blocks: destroyed, with the destroy-time provisioners they had (read from `self`, which is their state). */
function removalOf(current: Topology, worker: InternalHost): RemovedWorker {
  const resource = current.provisioning.resource;
  const removed = removedWorkerBundles(current, worker).map((bundle) => {
    const id = bundleResourceIds(bundle.id).teardown;
    const generated = hostResources({ stack: StackName.K8S, bundle, resource, sshKeyVariable: SSH_KEY_VARIABLE, sshTimeoutSeconds: current.provisioning.sshTimeoutSeconds });
    return { from: `${resource}.${id}`, lifecycle: { destroy: true }, provisioner: generated[id].provisioner };
  });
  return { name: worker.name, removed };
}

/**
 * Hosts other than workers that the previous synth of this output had and `current` has not: warnings,
 * not refusals. Their removal has its own order (the cluster, the VRRP pair, the site's way out: moving a
 * single gateway to a pair drops the host "gateway" on purpose) that a teardown alone does not keep, and a
 * synth into an output of another, never applied, site must still work: so synth says what the next apply
 * will do (forget the host without tearing it down) and where the runbook is, and goes on.
 */
export function hostsLeftBehind(current: Topology, previous: PreviousSite | undefined): TopologyWarning[] {
  if (previous === undefined) return [];
  const had = previous.topology;
  const consequence = (name: string) => `"${name}" is in the site ${previous.path} records but not in this topology: the next apply forgets it without `
    + 'tearing it down (terraform runs no teardown for a host deleted from the configuration; only a deleted worker gets one). '
    + 'If it runs, take it out first as docs/runbook.md says for its role; if that site was never applied, this is harmless (or synthesize into another --cdktf-out)';
  const warnings: TopologyWarning[] = [];
  if (had.controlPlane.name !== current.controlPlane.name) warnings.push({ path: 'controlPlane.name', message: consequence(had.controlPlane.name) });
  const roles: Array<[string, readonly { name: string }[], readonly { name: string }[]]> = [
    ['loadBalancer.hosts', had.loadBalancer.hosts, current.loadBalancer.hosts],
    ['gateway.hosts', had.gateway.hosts, current.gateway.hosts],
  ];
  for (const [path, before, now] of roles) {
    const names = new Set(now.map((h) => h.name));
    for (const host of before) if (!names.has(host.name)) warnings.push({ path, message: consequence(host.name) });
  }
  return warnings;
}
