# shellcheck shell=bash
# containerd's main config kept (or written when absent or stock), checked to import the drop-in, speak
# version 3 or later and not disable CRI; the drop-in written with the installed kubeadm's pause image;
# containerd restarted only when one of the two changed. containerd-config.toml and containerd-k8s.toml
# are beside the script. CONTAINERD_CONFIG: the main config; CONTAINERD_DROP_IN_DIR: the directory it
# imports; CONTAINERD_DROP_IN: the one file there k8s-ha-edge owns; SANDBOX_IMAGE_PLACEHOLDER: what
# containerd-k8s.toml says in place of the pause image.
: "${CONTAINERD_CONFIG:?}" "${CONTAINERD_DROP_IN_DIR:?}" "${CONTAINERD_DROP_IN:?}" "${SANDBOX_IMAGE_PLACEHOLDER:?}"
# The pause image this kubeadm pulls and expects; asked with the installed version, so nothing is looked up online.
# shellcheck disable=SC2154 # kubeadm_version: set by kubeadm-version-check.sh, which runs before this part.
sandbox_image=$(kubeadm config images list --kubernetes-version "$kubeadm_version" | grep '/pause:' || true)
if ! [[ $sandbox_image =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*/pause:[A-Za-z0-9._-]+$ ]]; then
  echo "prepare-node.sh: expected one pause image from kubeadm config images list, got \"$sandbox_image\"" >&2
  exit 1
fi
containerd_changed=0
install -d -m 0755 "$CONTAINERD_DROP_IN_DIR"
# Only the stock file (nothing but comments and disabled_plugins = ["cri"]) or no file is replaced; any other is kept.
if [ ! -s "$CONTAINERD_CONFIG" ] || ! grep -Eqv '^[[:space:]]*(#.*)?$|^[[:space:]]*disabled_plugins[[:space:]]*=[[:space:]]*\[[[:space:]]*"cri"[[:space:]]*\][[:space:]]*$' "$CONTAINERD_CONFIG"; then
  if install_if_changed containerd-config.toml "$CONTAINERD_CONFIG" 0644; then containerd_changed=1; fi
else
  if grep -Eq '^[[:space:]]*disabled_plugins[[:space:]]*=.*["'"'"']cri["'"'"']' "$CONTAINERD_CONFIG"; then
    echo "prepare-node.sh: $CONTAINERD_CONFIG disables the CRI plugin, which Kubernetes needs: remove \"cri\" from disabled_plugins and run again." >&2
    exit 1
  fi
  config_version=$(sed -nE 's/^[[:space:]]*version[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' "$CONTAINERD_CONFIG" | head -n 1)
  if [ "${config_version:-1}" -lt 3 ]; then
    echo "prepare-node.sh: $CONTAINERD_CONFIG is config version ${config_version:-1}; the drop-in $CONTAINERD_DROP_IN is version 3, which containerd does not import into an older file: migrate it (containerd config migrate > $CONTAINERD_CONFIG.new, review, move into place) and run again." >&2
    exit 1
  fi
  if grep -Eq '^[[:space:]]*imports[[:space:]]*=' "$CONTAINERD_CONFIG"; then
    if ! grep -q "$CONTAINERD_DROP_IN_DIR/" "$CONTAINERD_CONFIG"; then
      echo "prepare-node.sh: $CONTAINERD_CONFIG has its own imports without $CONTAINERD_DROP_IN_DIR/*.toml: add it to that list and run again." >&2
      exit 1
    fi
  else
    # A top-level key: before the first table, so the first line is always a valid place for it.
    cp -p "$CONTAINERD_CONFIG" "$CONTAINERD_CONFIG.k8s-ha-edge.bak"
    sed -i "1i imports = ['$CONTAINERD_DROP_IN_DIR/*.toml']" "$CONTAINERD_CONFIG"
    containerd_changed=1
  fi
fi
sed "s|$SANDBOX_IMAGE_PLACEHOLDER|$sandbox_image|" containerd-k8s.toml > containerd-k8s.toml.new
if install_if_changed containerd-k8s.toml.new "$CONTAINERD_DROP_IN" 0644; then containerd_changed=1; fi
rm -f containerd-k8s.toml.new
systemctl enable --now containerd
if [ "$containerd_changed" = 1 ]; then
  systemctl restart containerd
fi
