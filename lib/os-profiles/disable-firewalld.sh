# shellcheck shell=bash
if systemctl is-enabled --quiet firewalld 2>/dev/null; then
  systemctl disable --now firewalld
fi
