# shellcheck shell=bash
# Run at destroy: the Pods and the Service (WORKLOAD_MANIFEST, beside the script) are deleted while the
# cluster is still there; nothing to do where kubectl or ADMIN_KUBECONFIG is gone.
: "${ADMIN_KUBECONFIG:?}" "${WORKLOAD_MANIFEST:?}"
if command -v kubectl >/dev/null 2>&1 && [ -f "$ADMIN_KUBECONFIG" ]; then
  kubectl --kubeconfig "$ADMIN_KUBECONFIG" delete --ignore-not-found --wait=false -f "$WORKLOAD_MANIFEST"
fi
