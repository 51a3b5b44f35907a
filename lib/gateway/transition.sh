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
: "${CONNTRACKD_CONFIG:?}" "${LOCK_FILE:?}" "${STATE_FILE:?}" "${SYNC_GROUP:?}"
fifo="${1:?usage: $0 <the FIFO keepalived writes its state changes to>}"

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
# keepalived writes `GROUP "<name>" <STATE> <priority>`; instance lines repeat what the group says.
while read -r kind name state _priority; do
  if [ "$kind" != GROUP ] || [ "$name" != "\"$SYNC_GROUP\"" ]; then continue; fi
  flock 9
  case "$state" in
    MASTER) become_master ;;
    BACKUP) become_backup ;;
    FAULT) conntrackd_step -t ;;
  esac
  printf '%s\n' "$state" > "$STATE_FILE"
  flock -u 9
done < "$fifo"
