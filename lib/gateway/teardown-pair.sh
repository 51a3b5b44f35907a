# shellcheck shell=bash
# Run at destroy, before the ruleset is emptied: keepalived stops first (a clean stop sends priority-0
# adverts, so the peer, if it stays, takes both VIPs at once while this gateway still forwards), then
# conntrackd; what setup installed is removed (but conntrackd's configuration file, the package's own), and the VIPs (INSIDE_VIP on INSIDE_INTERFACE, OUTSIDE_VIP on
# OUTSIDE_INTERFACE, with their prefix lengths) if they are still here. The packages stay.
: "${CONNTRACKD_CONFIG:?}" "${TRANSITION_SCRIPT:?}" "${DRAIN_FILE:?}" "${STATE_FILE:?}"
: "${INSIDE_VIP:?}" "${INSIDE_INTERFACE:?}" "${INSIDE_PREFIX_LENGTH:?}" "${OUTSIDE_VIP:?}" "${OUTSIDE_INTERFACE:?}" "${OUTSIDE_PREFIX_LENGTH:?}"
systemctl disable --now --quiet keepalived 2>/dev/null || true
systemctl disable --now --quiet conntrackd 2>/dev/null || true
# CONNTRACKD_CONFIG is the package's own configuration file, which setup replaced: it stays, unused.
rm -f /etc/keepalived/keepalived.conf "$TRANSITION_SCRIPT" "$DRAIN_FILE" "$STATE_FILE"
if ip -o -4 addr show dev "$INSIDE_INTERFACE" | grep -q " $INSIDE_VIP/$INSIDE_PREFIX_LENGTH "; then ip addr del "$INSIDE_VIP/$INSIDE_PREFIX_LENGTH" dev "$INSIDE_INTERFACE"; fi
if ip -o -4 addr show dev "$OUTSIDE_INTERFACE" | grep -q " $OUTSIDE_VIP/$OUTSIDE_PREFIX_LENGTH "; then ip addr del "$OUTSIDE_VIP/$OUTSIDE_PREFIX_LENGTH" dev "$OUTSIDE_INTERFACE"; fi
