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
