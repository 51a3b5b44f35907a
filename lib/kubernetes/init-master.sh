# shellcheck shell=bash
# kubeadm init from kubeadm-config.yaml with the installed kubeadm's version (only when the cluster
# does not exist yet; when it does, check-cluster.sh fails on every setting kubeadm would silently
# leave as it is), the admin kubeconfig for root and SSH_USER, and flannel FLANNEL_VERSION from
# FLANNEL_MANIFEST_URL, verified against kube-flannel.sha256 (FLANNEL_MANIFEST_SHA256, '' when the
# topology has none), with its network (FLANNEL_DEFAULT_NETWORK) set to POD_CIDR.
# ADMIN_KUBECONFIG: kubeadm's admin kubeconfig; KUBEADM_VERSION_PLACEHOLDER: what kubeadm-config.yaml
# says in place of the version; APPLIED_KUBEADM_CONFIG: kubeadm-config.yaml with the version filled in.
: "${ADMIN_KUBECONFIG:?}" "${KUBEADM_VERSION_PLACEHOLDER:?}" "${APPLIED_KUBEADM_CONFIG:?}" "${SSH_USER:?}"
: "${FLANNEL_VERSION:?}" "${FLANNEL_MANIFEST_URL:?}" "${FLANNEL_MANIFEST_SHA256?}" "${FLANNEL_DEFAULT_NETWORK:?}" "${POD_CIDR:?}"
if [ -z "$FLANNEL_MANIFEST_SHA256" ]; then
  # kubernetes.flannelManifestSha256 is empty: nothing downloaded is applied unverified, so stop before changing anything.
  echo 'init-master.sh: kubernetes.flannelManifestSha256 is not set, so the flannel manifest cannot be verified and is not applied.' >&2
  echo "Get it once from a trusted network: curl -fsSL $FLANNEL_MANIFEST_URL | sha256sum, compare it with a second source (e.g. a second machine or the release's own checksum), put it in the topology, synth and apply again." >&2
  exit 1
fi
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
export KUBECONFIG=$ADMIN_KUBECONFIG
install -d -m 0700 /root/.kube
install -m 0600 "$ADMIN_KUBECONFIG" /root/.kube/config
if [ "$SSH_USER" != root ]; then
  install -d -m 0700 -o "$SSH_USER" "/home/$SSH_USER/.kube"
  install -m 0600 -o "$SSH_USER" "$ADMIN_KUBECONFIG" "/home/$SSH_USER/.kube/config"
fi

curl -fsSL --retry 5 "$FLANNEL_MANIFEST_URL" -o kube-flannel.yml
if ! sha256sum -c --quiet kube-flannel.sha256; then
  echo "init-master.sh: kube-flannel.yml of flannel $FLANNEL_VERSION does not have the sha256 that kubernetes.flannelManifestSha256 gives; nothing was applied. Check the download and the digest." >&2
  exit 1
fi
sed -i "s#\"Network\": \"$FLANNEL_DEFAULT_NETWORK\"#\"Network\": \"$POD_CIDR\"#" kube-flannel.yml
grep -qF "\"Network\": \"$POD_CIDR\"" kube-flannel.yml
kubectl apply -f kube-flannel.yml
