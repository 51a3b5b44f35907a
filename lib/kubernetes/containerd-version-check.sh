# shellcheck shell=bash
# containerd's release table: Kubernetes KUBERNETES_MINOR needs containerd CONTAINERD_MINIMUM or later. An older
# one already on the host is not upgraded by the install above (it only installs what is missing): stop here,
# not deep in kubeadm. CONTAINERD_UPGRADE: how to upgrade it on this OS family.
: "${KUBERNETES_MINOR:?}" "${CONTAINERD_MINIMUM:?}" "${CONTAINERD_UPGRADE:?}"
containerd_version=$(containerd --version | awk '{print $3}')
containerd_version=${containerd_version#v}
containerd_version=${containerd_version%%[~+-]*}
if ! [[ $containerd_version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "prepare-node.sh: cannot read the containerd version from \"$(containerd --version)\"" >&2
  exit 1
fi
if [ "$(printf '%s\n' "$CONTAINERD_MINIMUM" "$containerd_version" | sort -V | head -n 1)" != "$CONTAINERD_MINIMUM" ]; then
  echo "prepare-node.sh: containerd $containerd_version is installed; Kubernetes $KUBERNETES_MINOR needs containerd $CONTAINERD_MINIMUM or later (containerd's RELEASES.md, Kubernetes Support). Upgrade it ($CONTAINERD_UPGRADE), restart containerd, and run again." >&2
  exit 1
fi
