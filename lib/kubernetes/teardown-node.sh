# shellcheck shell=bash
# Run at destroy: the node leaves the cluster (kubeadm reset -f) and loses our settings (MODULES_FILE, SYSCTL_FILE)
# and init-master.sh's INIT_MARKER and INIT_STARTED_MARKER.
: "${MODULES_FILE:?}" "${SYSCTL_FILE:?}" "${INIT_MARKER:?}" "${INIT_STARTED_MARKER:?}"
# The control plane's etcd backup timer (only the master's bundle has its teardown): gone before the reset.
teardown_etcd_backup="$(dirname "$0")/teardown-etcd-backup.sh"
if [ -f "$teardown_etcd_backup" ]; then bash "$teardown_etcd_backup"; fi
if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi
rm -rf /etc/cni/net.d "$HOME/.kube"
rm -f "$MODULES_FILE" "$SYSCTL_FILE" "$INIT_MARKER" "$INIT_STARTED_MARKER"
