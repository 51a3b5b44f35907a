# shellcheck shell=bash
# The pkgs.k8s.io repository of the topology's minor (KUBERNETES_REPO_URL), which holds KUBE_PACKAGES.
: "${KUBERNETES_REPO_URL:?}" "${KUBE_PACKAGES[@]:?}"
cat > /etc/yum.repos.d/kubernetes.repo.new <<EOF
[kubernetes]
name=Kubernetes
baseurl=$KUBERNETES_REPO_URL
enabled=1
gpgcheck=1
gpgkey=${KUBERNETES_REPO_URL}repodata/repomd.xml.key
# Held: only an explicit --disableexcludes=kubernetes may change these.
exclude=${KUBE_PACKAGES[*]} cri-tools kubernetes-cni
EOF
install_if_changed /etc/yum.repos.d/kubernetes.repo.new /etc/yum.repos.d/kubernetes.repo 0644 || true
rm -f /etc/yum.repos.d/kubernetes.repo.new
