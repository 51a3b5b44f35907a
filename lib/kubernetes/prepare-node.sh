# shellcheck shell=bash
# Swap off and the kernel set up for Kubernetes; modules-load.conf and sysctl.conf are beside the script.
# KERNEL_MODULES: loaded now and at boot (MODULES_FILE); SYSCTL_FILE: where sysctl.conf goes.
: "${KERNEL_MODULES[@]:?}" "${MODULES_FILE:?}" "${SYSCTL_FILE:?}"
# The kubelet refuses to start with swap on: off now, and commented out in fstab for the next boot.
swapoff -a
sed -ri '/^[^#].*[[:space:]]swap[[:space:]]/s/^/#/' /etc/fstab

install_if_changed modules-load.conf "$MODULES_FILE" 0644 || true
for module in "${KERNEL_MODULES[@]}"; do
  modprobe "$module"
done
install_if_changed sysctl.conf "$SYSCTL_FILE" 0644 || true
sysctl --quiet --system
