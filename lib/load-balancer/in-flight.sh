# shellcheck shell=bash
# A load balancer's in-flight forwarding (lib/load-balancer/in-flight.ts): once the VIP moved here, the
# segments of connections another load balancer still serves reach this host, which has no socket for
# them and would reset them. The rules in RULES_FILE copy such a segment to every peer (TEE) and drop it
# here; the peer that owns the connection takes it (the VIP sits on its lo), the others drop it.
#   arm     load the rules, hook them into PREROUTING once, put the VIP on lo (run at boot and by
#           keepalived on becoming BACKUP or FAULT: ready before the VIP moves here)
#   master  run by keepalived on becoming MASTER: stop copying to a peer whose LB port does not answer
#           within PROBE_SECONDS (powered off, or its nginx died: nobody there serves a connection),
#           then watch the others the same way for WATCH_SECONDS; when none answers, empty the chain,
#           so those segments are reset here as without it
#   disarm  unhook and remove the rules, the VIP off lo (stop of the unit, teardown)
: "${ENTRY_CHAIN:?}" "${IN_FLIGHT_CHAIN:?}" "${RULES_FILE:?}" "${VIP:?}" "${LISTEN_PORT:?}" "${PEERS[@]:?}" "${PROBE_SECONDS:?}" "${WATCH_SECONDS:?}" "${WATCH_PID_FILE:?}"

log() { logger -t k8s-ha-edge-in-flight -- "$*" 2>/dev/null || true; }

hooked() { iptables -w 5 -t mangle -C PREROUTING -j "$ENTRY_CHAIN" 2>/dev/null; }

arm() {
  stop_watch
  # --noflush keeps every other rule of the table; the chains the file declares are emptied and refilled.
  iptables-restore -w 5 --noflush "$RULES_FILE"
  if ! hooked; then iptables -w 5 -t mangle -I PREROUTING 1 -j "$ENTRY_CHAIN"; fi
  ip -4 addr replace "$VIP/32" dev lo
}

# prune PEER...: probes the peers side by side; stops copying to each one whose LB port does not
# answer within PROBE_SECONDS, and prints the ones that answered.
prune() {
  local peer
  local -A probes=()
  for peer in "$@"; do
    # shellcheck disable=SC2016 # $1 and $2 are the inner bash's arguments, expanded there.
    timeout "$PROBE_SECONDS" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$peer" "$LISTEN_PORT" 2>/dev/null &
    probes[$peer]=$!
  done
  for peer in "${!probes[@]}"; do
    if wait "${probes[$peer]}"; then
      echo "$peer"
    elif iptables -w 5 -t mangle -D "$IN_FLIGHT_CHAIN" -j TEE --gateway "$peer" 2>/dev/null; then
      log "MASTER: $peer does not answer on port $LISTEN_PORT within ${PROBE_SECONDS}s: nothing is passed to it"
    fi
  done
}

# No peer serves anything: segments of connections nobody serves get this host's reset at once (the
# chain emptied) instead of being dropped, so their clients fail fast and retry.
copy_to_nobody() {
  iptables -w 5 -t mangle -F "$IN_FLIGHT_CHAIN"
  log "MASTER: no peer serves port $LISTEN_PORT: connections in flight elsewhere are reset here"
}

stop_watch() {
  if [ -f "$WATCH_PID_FILE" ]; then
    kill "$(cat "$WATCH_PID_FILE")" 2>/dev/null || true
    rm -f "$WATCH_PID_FILE"
  fi
}

master() {
  stop_watch
  local live=()
  mapfile -t live < <(prune "${PEERS[@]}")
  if [ "${#live[@]}" -eq 0 ]; then
    copy_to_nobody
    return
  fi
  log "MASTER: connections in flight on ${live[*]} are passed to them"
  # Then once a second, for at most WATCH_SECONDS: a peer that goes down after this host became MASTER
  # (a drained load balancer powered off, say) gets no more copies, so its clients are reset, not left
  # waiting. arm and disarm stop the watch.
  (
    for _ in $(seq 1 "$WATCH_SECONDS"); do
      sleep 1
      mapfile -t live < <(prune "${live[@]}")
      if [ "${#live[@]}" -eq 0 ]; then
        copy_to_nobody
        break
      fi
    done
    if [ "$(cat "$WATCH_PID_FILE" 2>/dev/null)" = "$BASHPID" ]; then rm -f "$WATCH_PID_FILE"; fi
  ) </dev/null >/dev/null 2>&1 &
  echo "$!" > "$WATCH_PID_FILE"
}

disarm() {
  stop_watch
  for _ in 1 2 3; do
    hooked || break
    iptables -w 5 -t mangle -D PREROUTING -j "$ENTRY_CHAIN"
  done
  local chain
  for chain in "$ENTRY_CHAIN" "$IN_FLIGHT_CHAIN"; do
    if iptables -w 5 -t mangle -nL "$chain" >/dev/null 2>&1; then
      iptables -w 5 -t mangle -F "$chain"
    fi
  done
  for chain in "$ENTRY_CHAIN" "$IN_FLIGHT_CHAIN"; do
    if iptables -w 5 -t mangle -nL "$chain" >/dev/null 2>&1; then
      iptables -w 5 -t mangle -X "$chain"
    fi
  done
  if ip -o -4 addr show dev lo | grep -q " $VIP/32 "; then ip -4 addr del "$VIP/32" dev lo; fi
}

case "${1:-}" in
  arm) arm ;;
  master) master ;;
  disarm) disarm ;;
  *) echo "usage: $0 arm|master|disarm" >&2; exit 2 ;;
esac
