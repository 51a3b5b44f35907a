# shellcheck shell=bash
# keepalived's vrrp_notify_fifo_script: keepalived starts it with the FIFO's path as its argument and writes
# one line per state change ("GROUP "<name>" MASTER <priority>"). Reading them from one FIFO, in one
# process, runs the transitions in the order keepalived saw them, one at a time (forked notify scripts
# promise no order); the lock (LOCK_FILE) also keeps a transition from overlapping a hand-run one.
# The steps are conntrack-tools' documented primary-backup ones: on becoming MASTER, commit the external
# cache (the peer's connections) into the kernel first, so their next packets are ESTABLISHED, then
# flush both caches, resync the internal one from the kernel and send it to the peer in bulk; on becoming
# BACKUP, make sure conntrackd runs, shorten the kernel's timers for the connections it no longer forwards,
# and ask the peer for a full resync. The state reached is written to STATE_FILE, for verify.
# The handoff (handoff.sh, before this part) is armed when the script starts, and between state changes
# the script looks every PEER_MAC_REFRESH_SECONDS for the peer's MAC address (a peer that was down at
# the start shows up there once it is back). `--arm` only arms the handoff (setup runs it).
: "${CONNTRACKD_CONFIG:?}" "${LOCK_FILE:?}" "${STATE_FILE:?}" "${SYNC_GROUP:?}" "${PEER_MAC_REFRESH_SECONDS:?}"
fifo="${1:?usage: $0 <the FIFO keepalived writes its state changes to> | --arm}"

conntrackd_step() {
  # A failed step is logged and the others still run: a half-done transition is worse than a logged one.
  if ! conntrackd -C "$CONNTRACKD_CONFIG" "$@"; then
    logger -t k8s-ha-edge-gateway "conntrackd $* failed"
  fi
}

become_master() {
  conntrackd_step -c
  conntrackd_step -f
  conntrackd_step -R
  conntrackd_step -B
}

become_backup() {
  if ! systemctl is-active --quiet conntrackd; then
    systemctl start conntrackd || logger -t k8s-ha-edge-gateway 'conntrackd would not start'
  fi
  conntrackd_step -t
  conntrackd_step -n
}

exec 9>"$LOCK_FILE"
flock 9
if ! handoff_arm; then
  # Setup must fail; keepalived's reader must live on (the pair still moves its VIPs without the handoff).
  if [ "$fifo" = --arm ]; then echo "handoff: could not load $HANDOFF_RULES_FILE or hook $ENTRY_CHAIN" >&2; exit 1; fi
  logger -t k8s-ha-edge-gateway 'handoff: could not be armed' 2>/dev/null || true
fi
flock -u 9
if [ "$fifo" = --arm ]; then exit 0; fi

# keepalived writes `GROUP "<name>" <STATE> <priority>`; instance lines repeat what the group says.
# A read that times out (status above 128) is the moment to look for the peer's MAC; any other
# failure is the end of the FIFO (keepalived stopped).
while :; do
  if read -r -t "$PEER_MAC_REFRESH_SECONDS" kind name state _priority; then :; else
    if [ $? -le 128 ]; then break; fi
    flock 9
    handoff_refresh
    flock -u 9
    continue
  fi
  if [ "$kind" != GROUP ] || [ "$name" != "\"$SYNC_GROUP\"" ]; then continue; fi
  flock 9
  handoff_refresh
  case "$state" in
    MASTER) become_master ;;
    BACKUP) become_backup ;;
    FAULT) conntrackd_step -t ;;
  esac
  printf '%s\n' "$state" > "$STATE_FILE"
  flock -u 9
done < "$fifo"
