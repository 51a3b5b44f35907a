# shellcheck shell=bash
# Run at destroy: the node leaves the cluster (kubeadm reset -f) and loses our settings (MODULES_FILE, SYSCTL_FILE)
# and init-master.sh's INIT_MARKER and INIT_STARTED_MARKER.
: "${MODULES_FILE:?}" "${SYSCTL_FILE:?}" "${INIT_MARKER:?}" "${INIT_STARTED_MARKER:?}"
if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi
rm -rf /etc/cni/net.d "$HOME/.kube"
rm -f "$MODULES_FILE" "$SYSCTL_FILE" "$INIT_MARKER" "$INIT_STARTED_MARKER"
