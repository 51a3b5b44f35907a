# shellcheck shell=bash
# SELinux, where enabled (RHEL's default: enforcing). Set up in permissive mode too, so that
# turning enforcing on later breaks nothing. SELinux itself is left as it is.
# install_selinux_policy_packages, defined before this body, installs semanage's package with the
# family's package manager. The LB port (LB_PORT) and the API port nginx proxies (API_PORT) are
# labelled http_port_t (nginx, as httpd_t, binds only those) and SELINUX_BOOLEANS are set, persistently (-P).
: "${LB_PORT:?}" "${API_PORT:?}" "${SELINUX_BOOLEANS[@]:?}"
if command -v getenforce >/dev/null 2>&1 && [ "$(getenforce)" != Disabled ]; then
  install_selinux_policy_packages
  for selinux_port in "$LB_PORT" "$API_PORT"; do
    # awk reads the whole list (no early exit, so no SIGPIPE under pipefail).
    if ! semanage port -l | awk -v port="$selinux_port" '$1 == "http_port_t" && $2 == "tcp" { for (i = 3; i <= NF; i++) { sub(/,$/, "", $i); if ($i == port) found = 1 } } END { exit !found }'; then
      # -a fails when the policy already gives the port another type; -m then changes it.
      semanage port -a -t http_port_t -p tcp "$selinux_port" 2>/dev/null || semanage port -m -t http_port_t -p tcp "$selinux_port"
    fi
  done
  for boolean in "${SELINUX_BOOLEANS[@]}"; do
    if [ "$(getsebool "$boolean" | awk '{print $NF}')" != on ]; then
      setsebool -P "$boolean" on
    fi
  done
fi
