# shellcheck shell=bash
# Run on the master when the cluster exists: compares what the topology wants with what runs (the
# kubeadm-config and kube-proxy ConfigMaps, every node's podCIDR) and fails, naming each field and its
# remedy, on any setting that applying would silently leave unchanged.
# The topology wants: KUBERNETES_VERSION (KUBEADM_WANTED, matched by KUBEADM_VERSION_REGEX),
# CONTROL_PLANE_ENDPOINT, POD_CIDR, SERVICE_CIDR and KUBE_PROXY_MODE; ADMIN_KUBECONFIG: kubeadm's admin kubeconfig.
: "${ADMIN_KUBECONFIG:?}" "${KUBERNETES_VERSION:?}" "${KUBEADM_WANTED:?}" "${KUBEADM_VERSION_REGEX:?}"
: "${CONTROL_PLANE_ENDPOINT:?}" "${POD_CIDR:?}" "${SERVICE_CIDR:?}" "${KUBE_PROXY_MODE:?}"
export KUBECONFIG=$ADMIN_KUBECONFIG
# What to do about a setting of a running cluster that kubeadm does not change.
remedy_version='kubeadm does not upgrade a running cluster: upgrade it with kubeadm upgrade plan / kubeadm upgrade apply on the control plane (one minor at a time, packages first), then kubeadm upgrade node and the packages on every other node; or set kubernetes.version back.'
remedy_cidr="The network of a running cluster cannot be changed in place (every node's podCIDR, flannel's network and the Service IPs hang on it): rebuild the cluster (kubeadm reset on every node, then apply), or set it back."
remedy_endpoint="The API server certificates and every kubeconfig name the endpoint: move the cluster to it once (docs/runbook.md, \"Moving a site to the VIP endpoint\": new API server certificate, kubeconfigs, kubelet.conf on every node, kubeadm-config), or rebuild the cluster, or set kubernetes.controlPlaneEndpoint to what the cluster has (the master's address for a site built before the VIP was the default)."
remedy_mode="kubeadm writes the kube-proxy ConfigMap only at init: kubectl -n kube-system edit configmap kube-proxy (mode), kubectl -n kube-system rollout restart daemonset kube-proxy, then reboot every node (or run kube-proxy --cleanup there) to drop the old mode's rules; or set it back."
problems=0
# drift FIELD WANTED RUNNING REMEDY
drift() {
  echo "check-cluster.sh: $1: the topology wants $2, the running cluster has ${3:-nothing}. $4" >&2
  problems=$((problems + 1))
}
# expect_value FIELD WANTED RUNNING REMEDY: a drift unless RUNNING is WANTED.
expect_value() {
  if [ "$3" != "$2" ]; then drift "$@"; fi
}
# top_value TEXT KEY / nested_value TEXT KEY: a scalar of a YAML mapping, unquoted.
top_value() {
  printf '%s\n' "$1" | sed -nE "s/^$2:[[:space:]]*\"?([^\"]*)\"?[[:space:]]*$/\1/p" | head -n 1
}
nested_value() {
  printf '%s\n' "$1" | sed -nE "s/^[[:space:]]+$2:[[:space:]]*\"?([^\"]*)\"?[[:space:]]*$/\1/p" | head -n 1
}
ip_to_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
# cidr_within INNER OUTER: INNER (a.b.c.d/n) lies inside OUTER.
cidr_within() {
  local inner_len=${1#*/} outer_len=${2#*/} mask
  [ "$inner_len" -ge "$outer_len" ] || return 1
  mask=$(((0xFFFFFFFF << (32 - outer_len)) & 0xFFFFFFFF))
  [ $(($(ip_to_int "${1%/*}") & mask)) -eq $(($(ip_to_int "${2%/*}") & mask)) ]
}

cluster_config=$(kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')
running=$(top_value "$cluster_config" kubernetesVersion)
if ! [[ $running =~ $KUBEADM_VERSION_REGEX ]]; then
  drift kubernetes.version "$KUBERNETES_VERSION ($KUBEADM_WANTED)" "$running" "$remedy_version"
fi
expect_value kubernetes.controlPlaneEndpoint "$CONTROL_PLANE_ENDPOINT" "$(top_value "$cluster_config" controlPlaneEndpoint)" "$remedy_endpoint"
expect_value kubernetes.podCidr "$POD_CIDR" "$(nested_value "$cluster_config" podSubnet)" "$remedy_cidr"
expect_value kubernetes.serviceCidr "$SERVICE_CIDR" "$(nested_value "$cluster_config" serviceSubnet)" "$remedy_cidr"
# Every node's Pod range is carved from the pod CIDR at join: one outside it means flannel and the node disagree.
nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{"\n"}{end}')
while read -r node node_cidr; do
  if [ -n "$node_cidr" ] && ! cidr_within "$node_cidr" "$POD_CIDR"; then
    drift kubernetes.podCidr "$POD_CIDR (node podCIDRs inside it)" "$node_cidr on node $node" "$remedy_cidr"
  fi
done <<<"$nodes"
proxy_config=$(kubectl -n kube-system get configmap kube-proxy -o jsonpath='{.data.config\.conf}')
# An empty mode is kube-proxy's default on Linux: iptables.
running=$(top_value "$proxy_config" mode)
expect_value kubernetes.kubeProxyMode "$KUBE_PROXY_MODE" "${running:-iptables}" "$remedy_mode"
if [ "$problems" -gt 0 ]; then
  echo "check-cluster.sh: $problems setting(s) of the topology differ from the running cluster and were NOT applied; nothing was changed." >&2
  exit 1
fi
echo 'check-cluster.sh: the running cluster matches the topology'
