# shellcheck shell=bash
# move PACKAGE...: the installed packages to "$VERSION" (x.y.z) when it is set, else to the newest of the
# repository; past the repository's exclude, which holds them again after.
move() {
  local specs=() package
  for package in "$@"; do
    if [ -n "$VERSION" ]; then specs+=("$package-$VERSION"); else specs+=("$package"); fi
  done
  if [ -n "$VERSION" ]; then
    dnf install -y -q --disableexcludes=kubernetes "${specs[@]}"
  else
    dnf upgrade -y -q --disableexcludes=kubernetes "${specs[@]}"
  fi
}
