# shellcheck shell=bash
# Run at destroy (the gateway is destroyed last): undoes setup-gateway.sh. The nat and filter tables and
# the IPv6 filter table back to an empty ACCEPT ruleset, now and at boot (RULES_V4_FILE, RULES_V6_FILE),
# and forwarding off (FORWARDING_SYSCTL_FILE removed).
: "${FORWARDING_SYSCTL_FILE:?}" "${RULES_V4_FILE:?}" "${RULES_V6_FILE:?}"
# empty.rules and empty6.rules (beside the script) hold the tables the rulesets set, empty and accepting.
iptables-restore < empty.rules
ip6tables-restore < empty6.rules
install -D -m 0600 empty.rules "$RULES_V4_FILE"
install -D -m 0600 empty6.rules "$RULES_V6_FILE"
rm -f "$FORWARDING_SYSCTL_FILE"
sysctl --quiet -w net.ipv4.ip_forward=0
