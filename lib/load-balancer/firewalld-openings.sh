# shellcheck shell=bash
# firewalld, where it runs (RHEL's default): its zones drop VRRP, so every load balancer would be
# MASTER at once, and reject the LB port and the API port. Open exactly those, at runtime and permanently,
# in the zone of LB_INTERFACE (the default zone if it has none): VRRP_RICH_RULES (VRRP from each peer;
# none with a single load balancer), LB_PORT/tcp and API_PORT/tcp (the control-plane endpoint's port,
# proxied to the API servers). Every change is preceded by a query, so a re-run changes nothing.
: "${LB_INTERFACE:?}" "${#VRRP_RICH_RULES[@]}" "${LB_PORT:?}" "${API_PORT:?}"
if systemctl is-active --quiet firewalld; then
  zone=$(firewall-cmd --get-zone-of-interface="$LB_INTERFACE" 2>/dev/null) || zone=$(firewall-cmd --get-default-zone)
  # firewalld_allow runtime|permanent rich-rule|port VALUE: adds VALUE unless the zone has it.
  firewalld_allow() {
    local args=(--zone="$zone")
    if [ "$1" = permanent ]; then args+=(--permanent); fi
    if ! firewall-cmd "${args[@]}" --query-"$2"="$3" >/dev/null 2>&1; then
      firewall-cmd "${args[@]}" --add-"$2"="$3" >/dev/null
    fi
  }
  for scope in runtime permanent; do
    for rule in "${VRRP_RICH_RULES[@]}"; do
      firewalld_allow "$scope" rich-rule "$rule"
    done
    firewalld_allow "$scope" port "$LB_PORT/tcp"
    firewalld_allow "$scope" port "$API_PORT/tcp"
  done
fi
