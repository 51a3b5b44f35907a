import { lines, scriptHeader, shq } from '../formats/shell';
import { Topology } from '../topology';
import { ADMIN_KUBECONFIG } from './kubeadm';
import { MODULES_FILE, SYSCTL_FILE } from './node-prep';

/** teardown-node.sh, run at destroy: the node leaves the cluster (`kubeadm reset -f`) and loses our settings. The same on every node. */
export function renderTeardownNode(): string {
  return lines(
    scriptHeader('Undoes the node setup on this node: kubeadm reset, our modules-load and sysctl files removed.'),
    'if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi',
    'rm -rf /etc/cni/net.d "$HOME/.kube"',
    `rm -f ${MODULES_FILE} ${SYSCTL_FILE}`,
  );
}

/** teardown-page.sh, run at destroy: the worker's test page is removed. The same on every worker. */
export function renderTeardownPage(t: Topology): string {
  return lines(
    scriptHeader('Removes this worker\'s test page.'),
    `rm -f ${shq(`${t.workload.hostPath}/index.html`)}`,
  );
}

/** teardown-workload.sh, run at destroy: the Pods and the Service are deleted while the cluster is still there. */
export function renderTeardownWorkload(manifest: string): string {
  return lines(
    scriptHeader('Deletes the workload from the cluster.'),
    'cd "$(dirname "$0")"',
    `if command -v kubectl >/dev/null 2>&1 && [ -f ${ADMIN_KUBECONFIG} ]; then`,
    `  kubectl --kubeconfig ${ADMIN_KUBECONFIG} delete --ignore-not-found --wait=false -f ${shq(manifest)}`,
    'fi',
  );
}
