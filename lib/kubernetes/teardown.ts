import { shellBody, shellScript } from '../formats/shell';
import { Topology } from '../topology';
import { ADMIN_KUBECONFIG, INIT_MARKER, INIT_STARTED_MARKER } from './kubeadm';
import { MODULES_FILE, SYSCTL_FILE } from './node-prep';

/** teardown-node.sh, run at destroy: the node leaves the cluster (`kubeadm reset -f`) and loses our settings. The same on every node. */
export function renderTeardownNode(): string {
  return shellScript(
    'Undoes the node setup on this node: kubeadm reset, our modules-load and sysctl files removed.',
    shellBody('kubernetes/teardown-node.sh', { MODULES_FILE, SYSCTL_FILE, INIT_MARKER, INIT_STARTED_MARKER }),
  );
}

/** teardown-page.sh, run at destroy: the worker's test page is removed. The same on every worker. */
export function renderTeardownPage(t: Topology): string {
  return shellScript('Removes this worker\'s test page.', shellBody('kubernetes/teardown-page.sh', { PAGE_DIR: t.workload.hostPath }));
}

/** teardown-workload.sh, run at destroy: the Pods and the Service are deleted while the cluster is still there. */
export function renderTeardownWorkload(manifest: string): string {
  return shellScript(
    'Deletes the workload from the cluster.',
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/teardown-workload.sh', { ADMIN_KUBECONFIG, WORKLOAD_MANIFEST: manifest }),
  );
}

/** How long the drain of a removed worker may wait for its Pods' evictions (PodDisruptionBudgets) before it fails. */
export const DRAIN_TIMEOUT_SECONDS = 300;

/** How long each other kubectl request of the removal waits for the API server. */
const REQUEST_TIMEOUT_SECONDS = 30;

/** The file name of remove-worker.sh in the control plane's bundle. */
export const REMOVE_WORKER_SCRIPT = 'remove-worker.sh';

/**
 * remove-worker.sh, run on the control plane at a worker's destroy, before the worker's own teardown:
 * the worker's Node cordoned, drained and deleted. The same for every worker (the node name is its argument).
 */
export function renderRemoveWorker(): string {
  return shellScript(
    'Cordons, drains and deletes a worker\'s Node before the worker leaves the cluster.',
    shellBody('kubernetes/remove-worker.sh', { ADMIN_KUBECONFIG, DRAIN_TIMEOUT_SECONDS: String(DRAIN_TIMEOUT_SECONDS), REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS) }),
  );
}
