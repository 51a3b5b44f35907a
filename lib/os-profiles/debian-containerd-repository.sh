# shellcheck shell=bash
# Docker's repository, which carries containerd.io 2.x (current Kubernetes needs it; distributions lag behind).
# Docker keeps one per distribution (DOCKER_DISTRIBUTIONS, under DOCKER_REPO_BASE), each by release code name.
: "${DOCKER_REPO_BASE:?}" "${DOCKER_DISTRIBUTIONS[@]:?}"
# shellcheck source=/dev/null
. /etc/os-release
published=0
for distribution in "${DOCKER_DISTRIBUTIONS[@]}"; do
  if [ "$ID" = "$distribution" ]; then published=1; fi
done
if [ "$published" != 1 ]; then
  echo "prepare-node.sh: no containerd.io repository for ID=$ID in /etc/os-release (Docker publishes ${DOCKER_DISTRIBUTIONS[*]})" >&2
  exit 1
fi
install -d -m 0755 /etc/apt/keyrings
if [ ! -s /etc/apt/keyrings/docker.asc ]; then
  curl -fsSL --retry 5 "$DOCKER_REPO_BASE/$ID/gpg" -o /etc/apt/keyrings/docker.asc
fi
echo "deb [signed-by=/etc/apt/keyrings/docker.asc] $DOCKER_REPO_BASE/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list.new
if install_if_changed /etc/apt/sources.list.d/docker.list.new /etc/apt/sources.list.d/docker.list 0644; then
  apt-get update -q
fi
rm -f /etc/apt/sources.list.d/docker.list.new
