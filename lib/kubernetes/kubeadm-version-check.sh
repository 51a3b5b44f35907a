# shellcheck shell=bash
# The installed kubeadm must be of the topology's version: packages already installed are never
# moved by this script, so a changed kubernetes.version stops here instead of "succeeding".
# KUBERNETES_VERSION: as the topology says it; KUBEADM_WANTED: the kubeadm version that is (v1.36.x
# or v1.36.2); KUBEADM_VERSION_REGEX: matches `kubeadm version -o short` of that version.
: "${KUBERNETES_VERSION:?}" "${KUBEADM_WANTED:?}" "${KUBEADM_VERSION_REGEX:?}"
kubeadm_version=$(kubeadm version -o short)
if ! [[ $kubeadm_version =~ $KUBEADM_VERSION_REGEX ]]; then
  echo "prepare-node.sh: kubeadm $kubeadm_version is installed, but kubernetes.version is $KUBERNETES_VERSION ($KUBEADM_WANTED): this script installs missing packages and never moves installed ones." >&2
  echo 'Upgrade the cluster first: npm run upgrade (one minor at a time; npm run upgrade -- --plan shows the steps), then apply again; or set kubernetes.version back to what runs.' >&2
  exit 1
fi
