# shellcheck shell=bash
# Waits (bounded) for every worker (WORKER_NODES) to be Ready, then applies WORKLOAD_MANIFEST, which is
# beside the script. Pods are immutable, so when apply is refused (a Pod changed) the Pods are replaced:
# in the default namespace by `kubectl replace --force` of the file. A manifest that creates its namespace
# (WORKLOAD_NAMESPACE) must not be force-replaced (deleting the Namespace deletes everything in it and
# stays Terminating for a while): its Pods (WORKLOAD_PODS) are deleted by name and the file applied again.
: "${ADMIN_KUBECONFIG:?}" "${WORKER_NODES[@]:?}" "${WORKLOAD_MANIFEST:?}" "${WORKLOAD_NAMESPACE:?}" "${WORKLOAD_PODS[@]:?}"
export KUBECONFIG=$ADMIN_KUBECONFIG
# A node object appears only once its kubelet registers; `kubectl wait` fails at once on a missing one.
for node in "${WORKER_NODES[@]}"; do
  for attempt in $(seq 1 60); do
    if kubectl get "node/$node" >/dev/null 2>&1; then break; fi
    echo "waiting for node $node to register ($attempt/60)"
    sleep 5
  done
  kubectl wait --for=condition=Ready "node/$node" --timeout=600s
done
if ! kubectl apply -f "$WORKLOAD_MANIFEST"; then
  if [ "$WORKLOAD_NAMESPACE" = default ]; then
    kubectl replace --force -f "$WORKLOAD_MANIFEST"
  else
    kubectl delete pod --namespace "$WORKLOAD_NAMESPACE" --ignore-not-found --wait "${WORKLOAD_PODS[@]}"
    kubectl apply -f "$WORKLOAD_MANIFEST"
  fi
fi
