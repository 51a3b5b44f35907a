# shellcheck shell=bash
# Run at destroy: the node leaves the cluster (kubeadm reset -f) and loses our settings (MODULES_FILE, SYSCTL_FILE).
: "${MODULES_FILE:?}" "${SYSCTL_FILE:?}"
if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi
rm -rf /etc/cni/net.d "$HOME/.kube"
rm -f "$MODULES_FILE" "$SYSCTL_FILE"
