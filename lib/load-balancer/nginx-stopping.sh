# shellcheck shell=bash
# Run from /etc/keepalived by the nginx-state unit's stop, before nginx stops: marks nginx down for
# keepalived (NGINX_DOWN_VALUE into NGINX_STATE_FILE: priority 1, a peer takes the VIP), then waits,
# bounded (HANDOVER_STEPS of HANDOVER_STEP_SECONDS), until the VIP has left LB_INTERFACE, so nginx
# closes its port only once clients are sent to the peer.
: "${NGINX_DOWN_VALUE:?}" "${NGINX_STATE_FILE:?}" "${VIP:?}" "${LB_INTERFACE:?}" "${HANDOVER_STEPS:?}" "${HANDOVER_STEP_SECONDS:?}"
echo "$NGINX_DOWN_VALUE" > "$NGINX_STATE_FILE"
# nginx died (no nginx process is left: this is not a stop): refuse the VIP's connections here from now
# on, also after keepalived released it, so a SYN that still arrives is refused, not dropped (see sysctl).
if ! pgrep -x nginx >/dev/null; then
  ip -4 addr replace "$VIP/32" dev lo
fi
# Bounded: with no healthy peer the VIP stays, and nginx stops anyway.
for _ in $(seq 1 "$HANDOVER_STEPS"); do
  addresses=$(ip -o -4 addr show dev "$LB_INTERFACE")
  case "$addresses" in *" $VIP/"*) ;; *) exit 0 ;; esac
  sleep "$HANDOVER_STEP_SECONDS"
done
