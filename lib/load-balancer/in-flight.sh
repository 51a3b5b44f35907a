# shellcheck shell=bash
# A load balancer's in-flight forwarding (lib/load-balancer/in-flight.ts): once the VIP moved here, the
# segments of connections another load balancer still serves reach this host, which has no socket for
# them and would reset them. On the VIP holder the rules in RULES_FILE copy such a segment once
# (TEE, rate-limited) to the first peer of a fixed line, with a TTL that counts the stops, and drop it
# here; a peer without a socket for it passes it to the next of the line, and the last one resets it
# (nobody owns it). A copy is recognised on arrival by the sending peer's MAC address (FROM_PEER_CHAIN,
# learned here from the neighbour table) and goes to a relay chain, never to the copying: RELAY_CHAIN
# on standby, HOLDER_RELAY_CHAIN on the holder (it passes on, never resets). A load balancer that does
# not hold the VIP copies nothing of its own (COPY_CHAIN empty).
#   arm     run at boot and by keepalived on becoming BACKUP or FAULT
#   master  run by keepalived on becoming MASTER
#           Both apply the state in force once the VIP settled (SETTLE_SECONDS): holder when the VIP is
#           on VRRP_INTERFACE, standby otherwise. keepalived forks its notify scripts in no promised
#           order, so the step that runs last must leave the rules that fit the VIP's place, whatever
#           its name. The holder leaves out of its chain the peers whose LB port does not answer within
#           PROBE_SECONDS (powered off, or its nginx died) at the start and the end of the line (PEERS,
#           in line order), then watches them for WATCH_SECONDS; when none answers, segments nobody
#           serves are reset here.
#   disarm  unhook and remove the rules, the VIP off lo (stop of the unit, teardown)
#   follow-firewalld
#           runs for as long as its unit does: firewalld (1.3, Debian 12's, with either backend) empties
#           every iptables table, these chains included, when it starts, reloads (`firewall-cmd --reload`)
#           or stops. After each such signal of firewalld, once it is quiet, `arm` runs again when the
#           hook is gone.
# Every step but follow-firewalld holds LOCK_FILE, so two of them never interleave.
: "${ENTRY_CHAIN:?}" "${IN_FLIGHT_CHAIN:?}" "${COPY_CHAIN:?}" "${FROM_PEER_CHAIN:?}" "${RELAY_CHAIN:?}" "${HOLDER_RELAY_CHAIN:?}" "${LAST_TTL:?}" "${RULES_FILE:?}" "${LOCK_FILE:?}" "${VIP:?}" "${VRRP_INTERFACE:?}" "${LISTEN_PORT:?}" "${PEERS[@]:?}" "${SETTLE_SECONDS:?}" "${PROBE_SECONDS:?}" "${WATCH_SECONDS:?}" "${WATCH_PID_FILE:?}" "${FIREWALLD_SETTLE_SECONDS:?}"

log() { logger -t k8s-ha-edge-in-flight -- "$*" 2>/dev/null || true; }

hooked() { iptables -w 5 -t mangle -C PREROUTING -j "$ENTRY_CHAIN" 2>/dev/null; }

holding() { ip -o -4 addr show dev "$VRRP_INTERFACE" 2>/dev/null | grep -q " $VIP/"; }

# settle present|absent: waits, bounded, for the VIP to be (or not be) on VRRP_INTERFACE.
settle() {
  local _
  for _ in $(seq 1 "$(awk -v s="$SETTLE_SECONDS" 'BEGIN { print int(s * 20) }')"); do
    if [ "$1" = present ] && holding; then return; fi
    if [ "$1" = absent ] && ! holding; then return; fi
    sleep 0.05
  done
}

# The MAC addresses of the peers in the neighbour table, one a line.
peer_macs() {
  local peer
  for peer in "${PEERS[@]}"; do
    ip -4 neigh show to "$peer" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
  done | sort -u
}

# from_peer_rules holder|standby: a peer's copy goes to the relay chain of this host's role.
from_peer_rules() {
  local mac chain="$RELAY_CHAIN"
  if [ "$1" = holder ]; then chain="$HOLDER_RELAY_CHAIN"; fi
  for mac in $(peer_macs); do echo "-A $FROM_PEER_CHAIN -m mac --mac-source $mac -j $chain"; done
}

# load holder|standby: one atomic iptables-restore of RULES_FILE (--noflush: the chains it declares are
# emptied and refilled, nothing else is touched), without the copy rules on standby, with a rule for
# each peer MAC known now; then hooked into PREROUTING once, and the VIP on lo.
load() {
  {
    if [ "$1" = holder ]; then grep -v '^COMMIT$' "$RULES_FILE"; else grep -v -e '^COMMIT$' -e "^-A $COPY_CHAIN " "$RULES_FILE"; fi
    from_peer_rules "$1"
    echo COMMIT
  } | iptables-restore -w 5 --noflush
  if ! hooked; then iptables -w 5 -t mangle -I PREROUTING 1 -j "$ENTRY_CHAIN"; fi
  ip -4 addr replace "$VIP/32" dev lo
}

# refresh_from_peer holder|standby: the peers' MACs may have been learned by the probes since load:
# refill FROM_PEER_CHAIN, atomically.
refresh_from_peer() {
  { echo '*mangle'; echo ":$FROM_PEER_CHAIN - [0:0]"; from_peer_rules "$1"; echo COMMIT; } | iptables-restore -w 5 --noflush
}

# probe PEER...: probes the LB port of the peers side by side (which also fills the neighbour table);
# prints the ones that answered within PROBE_SECONDS, in the order given.
probe() {
  local peer
  local -A probes=()
  for peer in "$@"; do
    # shellcheck disable=SC2016 # $1 and $2 are the inner bash's arguments, expanded there.
    timeout "$PROBE_SECONDS" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$peer" "$LISTEN_PORT" 2>/dev/null &
    probes[$peer]=$!
  done
  # In the order given (line order), so that a watch round compares like with like.
  for peer in "$@"; do
    if wait "${probes[$peer]}"; then echo "$peer"; fi
  done
}

# copy_to LIVE...: the holder's one copy goes to the first live peer of the line, with the TTL that
# makes the last live one the chain's last (LAST_TTL there): dead peers at either end of the line are
# left out (copyOrigin in in-flight.ts). One atomic reload of COPY_CHAIN; the guard on the copies' TTL
# range and the rate limit as in RULES_FILE.
copy_to() {
  local i first=-1 last=-1
  for i in "${!PEERS[@]}"; do
    if printf '%s\n' "$@" | grep -qxF "${PEERS[$i]}"; then
      if [ "$first" -lt 0 ]; then first="$i"; fi
      last="$i"
    fi
  done
  if [ "$first" -lt 0 ]; then
    copy_to_nobody
    return
  fi
  {
    echo '*mangle'
    echo ":$COPY_CHAIN - [0:0]"
    grep -e "^-A $COPY_CHAIN .*-m ttl " -e "^-A $COPY_CHAIN .*-m hashlimit " "$RULES_FILE"
    echo "-A $COPY_CHAIN -j TTL --ttl-set $((LAST_TTL + last - first + 1))"
    echo "-A $COPY_CHAIN -j TEE --gateway ${PEERS[$first]}"
    echo "-A $COPY_CHAIN -j DROP"
    echo COMMIT
  } | iptables-restore -w 5 --noflush
}

# No peer serves anything: segments of connections nobody serves go on to this host's TCP stack, which
# resets them at once (the VIP on lo has no socket for them), so their clients fail fast and retry.
copy_to_nobody() {
  printf '*mangle\n:%s - [0:0]\n-A %s -j ACCEPT\nCOMMIT\n' "$COPY_CHAIN" "$COPY_CHAIN" | iptables-restore -w 5 --noflush
  log "MASTER: no peer serves port $LISTEN_PORT: connections in flight elsewhere are reset here"
}

stop_watch() {
  if [ -f "$WATCH_PID_FILE" ]; then
    kill "$(cat "$WATCH_PID_FILE")" 2>/dev/null || true
    rm -f "$WATCH_PID_FILE"
  fi
}

holder() {
  stop_watch
  # Copying starts at once (RULES_FILE: every peer in the chain); the probes then leave out the peers
  # that serve nothing.
  load holder
  local live=() was
  mapfile -t live < <(probe "${PEERS[@]}")
  refresh_from_peer holder
  if [ "${#live[@]}" -ne "${#PEERS[@]}" ]; then
    log "MASTER: only ${live[*]:-no peer} of ${PEERS[*]} answer on port $LISTEN_PORT within ${PROBE_SECONDS}s"
    copy_to "${live[@]}"
  fi
  if [ "${#live[@]}" -gt 0 ]; then log "MASTER: connections in flight on ${live[*]} are passed along to them"; fi
  # Then once a second, for at most WATCH_SECONDS, every peer of the line: one that goes down after this
  # host became MASTER (a drained load balancer powered off, say) is left out of the chain, so its
  # clients are reset, not left waiting; one that answers only now (its nginx or firewall came up after
  # this host took the VIP, as on a first apply of the pair side by side) joins it, or in-flight
  # forwarding would stay off until the next move. Every later step stops the watch before it changes
  # anything; the watch does not hold the lock (fd 9 closed), or it would hold up every step for as
  # long as it runs.
  (
    exec 9>&-
    for _ in $(seq 1 "$WATCH_SECONDS"); do
      sleep 1
      was="${live[*]}"
      mapfile -t live < <(probe "${PEERS[@]}")
      if [ "${live[*]}" != "$was" ]; then
        log "MASTER: ${live[*]:-no peer} of ${PEERS[*]} answer on port $LISTEN_PORT (were: ${was:-none})"
        copy_to "${live[@]}"
      fi
    done
    if [ "$(cat "$WATCH_PID_FILE" 2>/dev/null)" = "$BASHPID" ]; then rm -f "$WATCH_PID_FILE"; fi
  ) </dev/null >/dev/null 2>&1 &
  echo "$!" > "$WATCH_PID_FILE"
}

standby() {
  stop_watch
  load standby
  probe "${PEERS[@]}" >/dev/null
  refresh_from_peer standby
}

# Whichever step keepalived named: the rules that fit where the VIP is now.
apply() {
  if holding; then holder; else standby; fi
}

disarm() {
  stop_watch
  for _ in 1 2 3; do
    hooked || break
    iptables -w 5 -t mangle -D PREROUTING -j "$ENTRY_CHAIN"
  done
  local chain
  for chain in "$ENTRY_CHAIN" "$IN_FLIGHT_CHAIN" "$FROM_PEER_CHAIN" "$RELAY_CHAIN" "$HOLDER_RELAY_CHAIN" "$COPY_CHAIN"; do
    if iptables -w 5 -t mangle -nL "$chain" >/dev/null 2>&1; then
      iptables -w 5 -t mangle -F "$chain"
    fi
  done
  for chain in "$ENTRY_CHAIN" "$IN_FLIGHT_CHAIN" "$FROM_PEER_CHAIN" "$RELAY_CHAIN" "$HOLDER_RELAY_CHAIN" "$COPY_CHAIN"; do
    if iptables -w 5 -t mangle -nL "$chain" >/dev/null 2>&1; then
      iptables -w 5 -t mangle -X "$chain"
    fi
  done
  if ip -o -4 addr show dev lo | grep -q " $VIP/32 "; then ip -4 addr del "$VIP/32" dev lo; fi
}

# The signals firewalld sends when it has reloaded, and when it takes or gives up its bus name (start,
# restart, stop): one line each (busctl's JSON). A burst is read until 1 s of quiet; then the hook is
# looked at FIREWALLD_LOOKS times, FIREWALLD_SETTLE_SECONDS apart (firewalld may still be applying), and
# the rules armed again (`arm`, under the lock: the state in force) when it is gone.
readonly FIREWALLD_LOOKS=3
follow_firewalld() {
  local look
  busctl monitor --system --json=short \
    --match "type='signal',interface='org.fedoraproject.FirewallD1',member='Reloaded'" \
    --match "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.fedoraproject.FirewallD1'" |
    while read -r _; do
      while read -r -t 1 _; do :; done
      for look in $(seq 1 "$FIREWALLD_LOOKS"); do
        sleep "$FIREWALLD_SETTLE_SECONDS"
        if ! hooked; then
          log "firewalld emptied the iptables tables (look $look): arming in-flight forwarding again"
          bash "$0" arm || log "arming again after firewalld failed: exit $?"
        fi
      done
    done
}

case "${1:-}" in
  arm | master | disarm) ;;
  follow-firewalld) follow_firewalld; exit ;;
  *) echo "usage: $0 arm|master|disarm|follow-firewalld" >&2; exit 2 ;;
esac
exec 9>"$LOCK_FILE"
if ! flock -w 30 9; then
  echo "$0 $1: another step still holds $LOCK_FILE after 30 s" >&2
  exit 1
fi
case "$1" in
  arm) settle absent; apply ;;
  master) settle present; apply ;;
  disarm) disarm ;;
esac
