# shellcheck shell=bash
# kubeadm does not support SELinux enforcing without policy work: permissive now and at boot.
if command -v getenforce >/dev/null && [ "$(getenforce)" = Enforcing ]; then
  setenforce 0
fi
if [ -f /etc/selinux/config ]; then sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config; fi
