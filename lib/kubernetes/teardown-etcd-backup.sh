# shellcheck shell=bash
# Run at destroy, before the node is reset: the etcd backup timer stopped and its files (SNAPSHOT_COMMAND,
# BACKUP_UNIT.service and .timer in UNIT_DIR) removed. The snapshots in BACKUP_DIR are kept: they are what
# a rebuilt cluster is restored from.
: "${SNAPSHOT_COMMAND:?}" "${UNIT_DIR:?}" "${BACKUP_UNIT:?}" "${BACKUP_DIR:?}"
if [ -e "$UNIT_DIR/$BACKUP_UNIT.timer" ] || [ -e "$UNIT_DIR/$BACKUP_UNIT.service" ] || [ -e "$SNAPSHOT_COMMAND" ]; then
  systemctl disable --now "$BACKUP_UNIT.timer" || true
  rm -f "$UNIT_DIR/$BACKUP_UNIT.timer" "$UNIT_DIR/$BACKUP_UNIT.service" "$SNAPSHOT_COMMAND"
  systemctl daemon-reload
fi
if [ -d "$BACKUP_DIR" ]; then echo "teardown-etcd-backup: the etcd snapshots in $BACKUP_DIR are kept" >&2; fi
