# shellcheck shell=bash
# Run on the control plane (where kubectl has ADMIN_KUBECONFIG) when a worker is torn down, before the
# worker's own kubeadm reset: the worker's Node is cordoned, drained and deleted, as kubespray's
# remove-node.yml does. `remove-worker.sh NODE_NAME`.
# - No cluster here any more (no kubectl, or no ADMIN_KUBECONFIG: the control plane was reset): there
#   is no Node to drain; says so, exit 0.
# - The Node is not there (deleted by an earlier run, or never joined): says so, exit 0.
# - The API server does not answer while ADMIN_KUBECONFIG is still here: exit 1, nothing drained, so the
#   worker is not reset either (a drain that did not happen is never reported as done).
# - The drain evicts (PodDisruptionBudgets are respected) for at most DRAIN_TIMEOUT_SECONDS; if a budget
#   still blocks an eviction then, exit 1: the Node stays cordoned, is not deleted, and the worker is not
#   reset. --force deletes Pods no controller manages (this site's page Pods are such, each pinned to
#   its worker: they could run nowhere else); it does not bypass a budget.
: "${ADMIN_KUBECONFIG:?}" "${DRAIN_TIMEOUT_SECONDS:?}" "${REQUEST_TIMEOUT_SECONDS:?}"
NODE_NAME=${1:?usage: remove-worker.sh NODE_NAME}
if ! [[ $NODE_NAME =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "remove-worker.sh: got node name '$NODE_NAME', expected a lowercase RFC 1123 label" >&2
  exit 1
fi
if ! command -v kubectl >/dev/null 2>&1 || [ ! -f "$ADMIN_KUBECONFIG" ]; then
  echo "remove-worker.sh: no cluster on this control plane (no kubectl or no $ADMIN_KUBECONFIG): no Node $NODE_NAME to drain"
  exit 0
fi
kube() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" --request-timeout="${REQUEST_TIMEOUT_SECONDS}s" "$@"; }

# Whether the Node is there; NotFound is the only answer that means it is not.
if ! answer=$(kube get node "$NODE_NAME" -o name 2>&1); then
  if [[ $answer == *NotFound* ]]; then
    echo "remove-worker.sh: Node $NODE_NAME is not in the cluster (deleted already): nothing to drain"
    exit 0
  fi
  echo "remove-worker.sh: cannot ask the API server about Node $NODE_NAME ($answer); nothing was drained, so the worker must not be reset yet" >&2
  exit 1
fi

kube cordon "$NODE_NAME"
if ! kube drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --timeout="${DRAIN_TIMEOUT_SECONDS}s"; then
  echo "remove-worker.sh: Node $NODE_NAME was not drained within ${DRAIN_TIMEOUT_SECONDS}s (a PodDisruptionBudget that allows no eviction, or the API server); it stays cordoned and is not deleted, and the worker is not reset" >&2
  exit 1
fi
kube delete node "$NODE_NAME" --ignore-not-found
echo "remove-worker.sh: Node $NODE_NAME cordoned, drained and deleted"
