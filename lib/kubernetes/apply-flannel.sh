# shellcheck shell=bash
# Applies flannel FLANNEL_VERSION once the control plane runs: the kube-flannel.yml shipped in this
# bundle, or, when FLANNEL_MANIFEST_URL is not empty, the release asset downloaded from there.
# Nothing is applied unless kube-flannel.sha256 matches; a download then gets its network
# (FLANNEL_DEFAULT_NETWORK) set to POD_CIDR (a shipped copy has it already). kubectl apply is
# idempotent. ADMIN_KUBECONFIG: kubeadm's admin kubeconfig.
: "${ADMIN_KUBECONFIG:?}" "${FLANNEL_VERSION:?}" "${FLANNEL_MANIFEST_URL?}" "${FLANNEL_DEFAULT_NETWORK:?}" "${POD_CIDR:?}"
export KUBECONFIG=$ADMIN_KUBECONFIG
if [ -n "$FLANNEL_MANIFEST_URL" ]; then
  curl -fsSL --retry 5 "$FLANNEL_MANIFEST_URL" -o kube-flannel.yml
fi
if ! sha256sum -c --quiet kube-flannel.sha256; then
  if [ -n "$FLANNEL_MANIFEST_URL" ]; then
    echo "apply-flannel.sh: kube-flannel.yml of flannel $FLANNEL_VERSION does not have the sha256 that kubernetes.flannelManifestSha256 gives; nothing was applied. Check the download and the digest." >&2
  else
    echo 'apply-flannel.sh: kube-flannel.yml is not the file synth wrote (its sha256 differs); nothing was applied. Apply again.' >&2
  fi
  exit 1
fi
if [ -n "$FLANNEL_MANIFEST_URL" ]; then
  sed -i "s#\"Network\": \"$FLANNEL_DEFAULT_NETWORK\"#\"Network\": \"$POD_CIDR\"#" kube-flannel.yml
fi
grep -qF "\"Network\": \"$POD_CIDR\"" kube-flannel.yml
kubectl apply -f kube-flannel.yml
