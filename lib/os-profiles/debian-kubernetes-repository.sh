# shellcheck shell=bash
# The pkgs.k8s.io repository of the topology's minor (KUBERNETES_REPO_URL), with its signing key.
: "${KUBERNETES_REPO_URL:?}"
install -d -m 0755 /etc/apt/keyrings
if [ ! -s /etc/apt/keyrings/kubernetes.gpg ]; then
  curl -fsSL --retry 5 "${KUBERNETES_REPO_URL}Release.key" | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg
fi
echo "deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] $KUBERNETES_REPO_URL /" > /etc/apt/sources.list.d/kubernetes.list.new
if install_if_changed /etc/apt/sources.list.d/kubernetes.list.new /etc/apt/sources.list.d/kubernetes.list 0644; then
  apt-get update -q
fi
rm -f /etc/apt/sources.list.d/kubernetes.list.new
