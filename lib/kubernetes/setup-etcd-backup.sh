# shellcheck shell=bash
# The etcd backup timer on the control-plane node. ETCD_BACKUP_ENABLED yes: etcd-snapshot.sh (beside this
# script) installed as SNAPSHOT_COMMAND, BACKUP_UNIT.service and .timer (beside it too) into UNIT_DIR, the
# timer enabled and started; systemd reloaded only when a unit changed. no: those three files removed (if
# there) and the timer stopped; the snapshots already taken are kept.
: "${ETCD_BACKUP_ENABLED:?}" "${SNAPSHOT_COMMAND:?}" "${UNIT_DIR:?}" "${BACKUP_UNIT:?}"
if [ "$ETCD_BACKUP_ENABLED" = yes ]; then
  units_changed=0
  install_if_changed etcd-snapshot.sh "$SNAPSHOT_COMMAND" 0755 || true
  if install_if_changed "$BACKUP_UNIT.service" "$UNIT_DIR/$BACKUP_UNIT.service" 0644; then units_changed=1; fi
  if install_if_changed "$BACKUP_UNIT.timer" "$UNIT_DIR/$BACKUP_UNIT.timer" 0644; then units_changed=1; fi
  if [ "$units_changed" = 1 ]; then systemctl daemon-reload; fi
  systemctl enable --now "$BACKUP_UNIT.timer"
  # A changed schedule is read by the timer only when it restarts.
  if [ "$units_changed" = 1 ]; then systemctl restart "$BACKUP_UNIT.timer"; fi
elif [ -e "$UNIT_DIR/$BACKUP_UNIT.timer" ] || [ -e "$UNIT_DIR/$BACKUP_UNIT.service" ] || [ -e "$SNAPSHOT_COMMAND" ]; then
  systemctl disable --now "$BACKUP_UNIT.timer" || true
  rm -f "$UNIT_DIR/$BACKUP_UNIT.timer" "$UNIT_DIR/$BACKUP_UNIT.service" "$SNAPSHOT_COMMAND"
  systemctl daemon-reload
fi
