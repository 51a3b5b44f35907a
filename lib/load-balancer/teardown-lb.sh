# shellcheck shell=bash
# Run at destroy: undoes setup-lb.sh. keepalived stops first (a clean stop sends a priority-0 advert, so a
# remaining load balancer takes the VIP at once), then nginx; what setup-lb.sh installed is removed, and the
# VIP (VIP/VIP_PREFIX_LENGTH on LB_INTERFACE, VIP/32 on lo) if it is still here. The packages stay (other
# software may need them).
: "${NGINX_STATE_UNIT:?}" "${CHECK_SCRIPT_PATH:?}" "${NGINX_STOPPING_SCRIPT:?}" "${NGINX_STATE_FILE:?}" "${DRAIN_FILE:?}"
: "${NGINX_CONF_MARKER:?}" "${LB_INTERFACE:?}" "${VIP:?}" "${VIP_PREFIX_LENGTH:?}" "${LB_SYSCTL_FILE:?}" "${SCRIPT_USER:?}"
: "${IN_FLIGHT_UNIT:?}" "${IN_FLIGHT_REARM_UNIT:?}" "${IN_FLIGHT_SCRIPT:?}" "${IN_FLIGHT_RULES_FILE:?}"
systemctl disable --now --quiet keepalived 2>/dev/null || true
systemctl disable --now --quiet nginx 2>/dev/null || true
systemctl disable --now --quiet "$NGINX_STATE_UNIT" 2>/dev/null || true
# In-flight forwarding: its follower of firewalld first (it would arm again), then the unit, whose stop
# unhooks the rules; the script again in case the unit was gone.
systemctl disable --now --quiet "$IN_FLIGHT_REARM_UNIT" 2>/dev/null || true
systemctl disable --now --quiet "$IN_FLIGHT_UNIT" 2>/dev/null || true
if [ -x "$IN_FLIGHT_SCRIPT" ]; then "$IN_FLIGHT_SCRIPT" disarm; fi
rm -f "/etc/systemd/system/$NGINX_STATE_UNIT" "/etc/systemd/system/$IN_FLIGHT_UNIT" "/etc/systemd/system/$IN_FLIGHT_REARM_UNIT" "$IN_FLIGHT_SCRIPT" "$IN_FLIGHT_RULES_FILE" && systemctl daemon-reload
rm -f /etc/keepalived/keepalived.conf "$CHECK_SCRIPT_PATH" "$NGINX_STOPPING_SCRIPT" "$NGINX_STATE_FILE" "$DRAIN_FILE"
# Only our nginx.conf is removed; a file someone else wrote since is left alone.
if grep -qs "^# $NGINX_CONF_MARKER" /etc/nginx/nginx.conf; then rm -f /etc/nginx/nginx.conf; fi
if ip -o -4 addr show dev "$LB_INTERFACE" | grep -q " $VIP/$VIP_PREFIX_LENGTH "; then ip addr del "$VIP/$VIP_PREFIX_LENGTH" dev "$LB_INTERFACE"; fi
if ip -o -4 addr show dev lo | grep -q " $VIP/32 "; then ip addr del "$VIP/32" dev lo; fi
if [ -f "$LB_SYSCTL_FILE" ]; then
  rm -f "$LB_SYSCTL_FILE"
  sysctl -q -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0
fi
if id -u "$SCRIPT_USER" >/dev/null 2>&1; then userdel "$SCRIPT_USER"; fi
