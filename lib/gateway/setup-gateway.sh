# shellcheck shell=bash
# firewall.rules and firewall6.rules (beside the script) applied atomically and persisted where the
# boot-time FIREWALL_SERVICES restore them from (RULES_V4_FILE, RULES_V6_FILE); then forwarding on, now
# and at boot (FORWARDING_SYSCTL_FILE).
: "${FORWARDING_SYSCTL_FILE:?}" "${RULES_V4_FILE:?}" "${RULES_V6_FILE:?}" "${FIREWALL_SERVICES[@]:?}"

# One atomic replace of the nat and filter tables (IPv6: filter); both files are tested first,
# so a bad file changes nothing.
iptables-restore --test < firewall.rules
ip6tables-restore --test < firewall6.rules
iptables-restore < firewall.rules
ip6tables-restore < firewall6.rules
install_if_changed firewall.rules "$RULES_V4_FILE" 0600 || true
install_if_changed firewall6.rules "$RULES_V6_FILE" 0600 || true
systemctl enable --quiet "${FIREWALL_SERVICES[@]}"

# Forwarding only now: turned on before the rules were loaded, the first apply would route between
# the networks unfiltered (FORWARD still ACCEPT) until iptables-restore ran, or for good if it failed.
printf 'net.ipv4.ip_forward = 1\n' > forwarding.conf
install_if_changed forwarding.conf "$FORWARDING_SYSCTL_FILE" 0644 || true
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
  sysctl --quiet -w net.ipv4.ip_forward=1
fi
