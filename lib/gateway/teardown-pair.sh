# shellcheck shell=bash
# Run at destroy, before the ruleset is emptied: keepalived stops first (a clean stop sends priority-0
# adverts, so the peer, if it stays, takes both VIPs at once while this gateway still forwards; its
# handoff still reaches this gateway until the ruleset goes), then conntrackd; then the handoff's hook
# and chains (ENTRY_CHAIN, HANDOFF_CHAIN, FROM_PEER_CHAIN). What setup installed is removed (but
# conntrackd's configuration file, the package's own), and the VIPs (INSIDE_VIP on INSIDE_INTERFACE,
# OUTSIDE_VIP on OUTSIDE_INTERFACE, with their prefix lengths) if they are still here. The packages stay;
# the inside NIC's reverse-path filter keeps its loose value until the next boot (HANDOFF_SYSCTL_FILE is
# gone, so the boot sets the distribution's).
: "${CONNTRACKD_CONFIG:?}" "${TRANSITION_SCRIPT:?}" "${DRAIN_FILE:?}" "${STATE_FILE:?}"
: "${HANDOFF_RULES_FILE:?}" "${HANDOFF_SYSCTL_FILE:?}" "${ENTRY_CHAIN:?}" "${HANDOFF_CHAIN:?}" "${FROM_PEER_CHAIN:?}"
: "${INSIDE_VIP:?}" "${INSIDE_INTERFACE:?}" "${INSIDE_PREFIX_LENGTH:?}" "${OUTSIDE_VIP:?}" "${OUTSIDE_INTERFACE:?}" "${OUTSIDE_PREFIX_LENGTH:?}"
systemctl disable --now --quiet keepalived 2>/dev/null || true
systemctl disable --now --quiet conntrackd 2>/dev/null || true
while iptables -w 5 -t mangle -C PREROUTING -j "$ENTRY_CHAIN" 2>/dev/null; do iptables -w 5 -t mangle -D PREROUTING -j "$ENTRY_CHAIN"; done
for chain in "$ENTRY_CHAIN" "$HANDOFF_CHAIN" "$FROM_PEER_CHAIN"; do
  if iptables -w 5 -t mangle -n -L "$chain" >/dev/null 2>&1; then iptables -w 5 -t mangle -F "$chain"; fi
done
for chain in "$ENTRY_CHAIN" "$HANDOFF_CHAIN" "$FROM_PEER_CHAIN"; do
  if iptables -w 5 -t mangle -n -L "$chain" >/dev/null 2>&1; then iptables -w 5 -t mangle -X "$chain"; fi
done
# CONNTRACKD_CONFIG is the package's own configuration file, which setup replaced: it stays, unused.
rm -f /etc/keepalived/keepalived.conf "$TRANSITION_SCRIPT" "$DRAIN_FILE" "$STATE_FILE" "$HANDOFF_RULES_FILE" "$HANDOFF_SYSCTL_FILE"
if ip -o -4 addr show dev "$INSIDE_INTERFACE" | grep -q " $INSIDE_VIP/$INSIDE_PREFIX_LENGTH "; then ip addr del "$INSIDE_VIP/$INSIDE_PREFIX_LENGTH" dev "$INSIDE_INTERFACE"; fi
if ip -o -4 addr show dev "$OUTSIDE_INTERFACE" | grep -q " $OUTSIDE_VIP/$OUTSIDE_PREFIX_LENGTH "; then ip addr del "$OUTSIDE_VIP/$OUTSIDE_PREFIX_LENGTH" dev "$OUTSIDE_INTERFACE"; fi
