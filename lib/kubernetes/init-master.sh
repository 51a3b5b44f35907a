# shellcheck shell=bash
# kubeadm init from kubeadm-config.yaml with the installed kubeadm's version (only when the cluster
# does not exist yet; when it does, check-cluster.sh fails on every setting kubeadm would silently
# leave as it is) and the admin kubeconfig for root and SSH_USER. Flannel follows in apply-flannel.sh.
# ADMIN_KUBECONFIG: kubeadm's admin kubeconfig; KUBEADM_VERSION_PLACEHOLDER: what kubeadm-config.yaml
# says in place of the version; APPLIED_KUBEADM_CONFIG: kubeadm-config.yaml with the version filled in.
: "${ADMIN_KUBECONFIG:?}" "${KUBEADM_VERSION_PLACEHOLDER:?}" "${APPLIED_KUBEADM_CONFIG:?}" "${SSH_USER:?}"
if [ ! -f "$ADMIN_KUBECONFIG" ]; then
  kubeadm_version=$(kubeadm version -o short)
  if ! [[ $kubeadm_version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "init-master.sh: unexpected kubeadm version \"$kubeadm_version\"" >&2
    exit 1
  fi
  sed "s/$KUBEADM_VERSION_PLACEHOLDER/$kubeadm_version/" kubeadm-config.yaml > "$APPLIED_KUBEADM_CONFIG"
  grep -qx "kubernetesVersion: \"$kubeadm_version\"" "$APPLIED_KUBEADM_CONFIG"
  # --skip-token-print: the join token is created per worker at apply time, never logged here.
  kubeadm init --config "$APPLIED_KUBEADM_CONFIG" --skip-token-print
else
  # The cluster exists: kubeadm init would not run again, so a changed setting would "succeed" unmade.
  bash ./check-cluster.sh
fi
install -d -m 0700 /root/.kube
install -m 0600 "$ADMIN_KUBECONFIG" /root/.kube/config
if [ "$SSH_USER" != root ]; then
  install -d -m 0700 -o "$SSH_USER" "/home/$SSH_USER/.kube"
  install -m 0600 -o "$SSH_USER" "$ADMIN_KUBECONFIG" "/home/$SSH_USER/.kube/config"
fi
