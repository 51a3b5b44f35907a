# shellcheck shell=bash
# move PACKAGE...: the installed packages to "$VERSION" (x.y.z; any Debian revision of it) when it is set,
# else to the newest of the repository; past their hold, held again after (an unattended upgrade must not
# move the cluster).
move() {
  local specs=() package
  for package in "$@"; do
    if [ -n "$VERSION" ]; then specs+=("$package=$VERSION-*"); else specs+=("$package"); fi
  done
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages "${specs[@]}"
  apt-mark hold "$@" >/dev/null
}
