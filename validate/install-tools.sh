#!/usr/bin/env bash
# Installs the Debian packages `npm run validate` runs the generated files through:
# nginx + libnginx-mod-stream (nginx -t), keepalived (--config-test), iptables
# (iptables-restore --test), shellcheck, conntrackd (started in a throwaway namespace), and iproute2
# (`ip`, for the throwaway interfaces). Idempotent; starts no service: a policy-rc.d
# that answers 101 ("action forbidden") is in place for the duration of the install,
# and whatever policy-rc.d was there before is put back afterwards.
# Must run as root (CI does). Needs only the Debian archive.
set -euo pipefail

PACKAGES=(nginx libnginx-mod-stream keepalived iptables shellcheck iproute2 conntrackd)
POLICY=/usr/sbin/policy-rc.d

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-tools: already installed: ${PACKAGES[*]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-tools: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

backup=""
if [ -e "$POLICY" ]; then
  backup="$(mktemp /usr/sbin/.policy-rc.d.XXXXXX)"
  cp -p "$POLICY" "$backup"
fi
restore_policy() {
  if [ -n "$backup" ]; then
    mv -f "$backup" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}
trap restore_policy EXIT

printf '#!/bin/sh\n# written by validate/install-tools.sh: no service starts during the install\nexit 101\n' > "$POLICY"
chmod 0755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
echo "install-tools: installing ${missing[*]}"
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"
echo "install-tools: installed: ${PACKAGES[*]}"
