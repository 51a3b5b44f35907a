# shellcheck shell=bash
# Docker's repository (DOCKER_REPO), which carries containerd.io 2.x (current Kubernetes needs it; distributions lag behind).
: "${DOCKER_REPO:?}"
if [ ! -f /etc/yum.repos.d/docker-ce.repo ]; then
  curl -fsSL --retry 5 "$DOCKER_REPO" -o /etc/yum.repos.d/docker-ce.repo
fi
