# shellcheck shell=bash
# The handoff (lib/gateway/handoff.ts): TCP segments conntrack cannot place go to the peer, which may know
# their connection (a failback or a drain moved the VIPs an instant after it opened). HANDOFF_RULES_FILE
# holds the chains; FROM_PEER_CHAIN is filled here with the peer's MAC address (PEER_ADDRESS on
# INSIDE_INTERFACE, from the neighbour table), so that what the peer hands over is never handed back.
# The file's own rule in that chain drops everything: until the MAC is known, nothing is handed off.
#   handoff_arm      load the chains (with the MAC, if known) and hook ENTRY_CHAIN into PREROUTING once
#   handoff_refresh  reload only when the neighbour table shows a MAC the chain does not have yet
# A MAC once learned is kept while the peer is away (a dead peer sends nothing; its entry may be gone).
: "${HANDOFF_RULES_FILE:?}" "${ENTRY_CHAIN:?}" "${HANDOFF_CHAIN:?}" "${FROM_PEER_CHAIN:?}" "${PEER_ADDRESS:?}" "${INSIDE_INTERFACE:?}"

# The peer's MAC address in the neighbour table, or nothing (no entry, or one still unresolved).
handoff_peer_mac() {
  ip -4 neigh show to "$PEER_ADDRESS" dev "$INSIDE_INTERFACE" 2>/dev/null \
    | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") { print tolower($(i + 1)); exit } }' || true
}

# The MAC address the loaded FROM_PEER_CHAIN recognises, or nothing (not loaded, or not learned yet).
handoff_loaded_mac() {
  iptables -w 5 -t mangle -S "$FROM_PEER_CHAIN" 2>/dev/null \
    | awk '{ for (i = 1; i < NF; i++) if ($i == "--mac-source") { print tolower($(i + 1)); exit } }' || true
}

handoff_hooked() { iptables -w 5 -t mangle -C PREROUTING -j "$ENTRY_CHAIN" 2>/dev/null; }

# handoff_load MAC: one atomic iptables-restore --noflush of the file (its chains emptied and refilled,
# nothing else touched), the file's drop-everything rule replaced by MAC's when MAC is given.
handoff_load() {
  local mac="$1"
  {
    if [ -n "$mac" ]; then
      grep -v -e '^COMMIT$' -e "^-A $FROM_PEER_CHAIN " "$HANDOFF_RULES_FILE"
      echo "-A $FROM_PEER_CHAIN -m mac --mac-source $mac -j DROP"
    else
      grep -v '^COMMIT$' "$HANDOFF_RULES_FILE"
    fi
    echo COMMIT
  } | iptables-restore -w 5 --noflush
}

# Fails (status 1) when the rules could not be loaded or hooked; callers decide whether that is fatal.
handoff_arm() {
  local mac
  mac=$(handoff_peer_mac)
  if [ -z "$mac" ]; then mac=$(handoff_loaded_mac); fi
  handoff_load "$mac" || return 1
  if ! handoff_hooked; then iptables -w 5 -t mangle -A PREROUTING -j "$ENTRY_CHAIN" || return 1; fi
  if [ -n "$mac" ]; then
    logger -t k8s-ha-edge-gateway "handoff armed: segments no connection here owns go to $PEER_ADDRESS ($mac)" 2>/dev/null || true
  else
    logger -t k8s-ha-edge-gateway "handoff waiting: $PEER_ADDRESS's MAC address is not in the neighbour table yet" 2>/dev/null || true
  fi
}

handoff_refresh() {
  local mac
  mac=$(handoff_peer_mac)
  if [ -n "$mac" ] && [ "$mac" != "$(handoff_loaded_mac)" ]; then
    handoff_arm || logger -t k8s-ha-edge-gateway "handoff: could not load the rules for $PEER_ADDRESS ($mac)" 2>/dev/null || true
  fi
}
