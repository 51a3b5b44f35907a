# shellcheck shell=bash
# In-flight forwarding (in-flight.sh): installed and armed before keepalived's config test, which
# checks the notify scripts keepalived.conf names, and before keepalived can move the VIP here.
: "${IN_FLIGHT_RULES_FILE:?}" "${IN_FLIGHT_SCRIPT:?}" "${IN_FLIGHT_UNIT:?}" "${IN_FLIGHT_REARM_UNIT:?}"
if ! iptables-restore --test --noflush in-flight.rules; then
  echo "in-flight forwarding: this kernel refused in-flight.rules (it needs the iptables TEE, mac, hashlimit and socket extensions; on EL10 they ship in kernel-modules-extra): install them, or set loadBalancer.forwardInFlight: false" >&2
  exit 1
fi
in_flight_changed=false
if install_if_changed in-flight.sh "$IN_FLIGHT_SCRIPT" 0755; then in_flight_changed=true; fi
if install_if_changed in-flight.rules "$IN_FLIGHT_RULES_FILE" 0644; then in_flight_changed=true; fi
units_changed=false
if install_if_changed "$IN_FLIGHT_UNIT" "/etc/systemd/system/$IN_FLIGHT_UNIT" 0644; then units_changed=true; fi
if install_if_changed "$IN_FLIGHT_REARM_UNIT" "/etc/systemd/system/$IN_FLIGHT_REARM_UNIT" 0644; then units_changed=true; fi
if [ "$units_changed" = true ]; then systemctl daemon-reload; fi
systemctl enable --quiet "$IN_FLIGHT_UNIT" "$IN_FLIGHT_REARM_UNIT"
if ! systemctl is-active --quiet "$IN_FLIGHT_UNIT"; then
  systemctl start "$IN_FLIGHT_UNIT"
elif [ "$in_flight_changed" = true ]; then
  systemctl reload "$IN_FLIGHT_UNIT"
fi
# The follower of firewalld runs the script: a new script or unit, a new follower.
if ! systemctl is-active --quiet "$IN_FLIGHT_REARM_UNIT"; then
  systemctl start "$IN_FLIGHT_REARM_UNIT"
elif [ "$in_flight_changed" = true ] || [ "$units_changed" = true ]; then
  systemctl restart "$IN_FLIGHT_REARM_UNIT"
fi
