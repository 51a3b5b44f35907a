# shellcheck shell=bash
# chrony enabled and running. With servers in the topology, chrony.conf beside the script replaces the
# family's CHRONY_CONFIG; the file that was there is kept once as CHRONY_CONFIG.k8s-ha-edge.orig and put back
# when the topology no longer names servers. CHRONY_SERVICE: chrony's unit; TIME_SERVERS_SET: yes when the
# bundle carries chrony.conf; CHRONY_MARK: the first words of a chrony.conf this project wrote. chronyd
# restarts when its config changed since this script last restarted it (CHRONY_STAMP, under /run: once more
# after a reboot), so a run stopped between the two restarts it on the next run.
: "${CHRONY_CONFIG:?}" "${CHRONY_SERVICE:?}" "${TIME_SERVERS_SET:?}" "${CHRONY_MARK:?}" "${CHRONY_STAMP:?}"
chrony_original="$CHRONY_CONFIG.k8s-ha-edge.orig"
chrony_changed=0
if [ "$TIME_SERVERS_SET" = yes ]; then
  # Kept before the first replacement only: a second run must not keep this script's own file as the original.
  if [ -f "$CHRONY_CONFIG" ] && [ ! -e "$chrony_original" ] && ! grep -qF "$CHRONY_MARK" "$CHRONY_CONFIG"; then
    cp -p "$CHRONY_CONFIG" "$chrony_original"
  fi
  if install_if_changed chrony.conf "$CHRONY_CONFIG" 0644; then chrony_changed=1; fi
elif [ -e "$chrony_original" ]; then
  mv -f "$chrony_original" "$CHRONY_CONFIG"
  # mv keeps the old file's time: touched, so a retry after a stop right here still finds it newer than the stamp.
  touch "$CHRONY_CONFIG"
  chrony_changed=1
fi
systemctl enable --now "$CHRONY_SERVICE"
if [ "$chrony_changed" = 1 ] || [ ! -e "$CHRONY_STAMP" ] || [ "$CHRONY_CONFIG" -nt "$CHRONY_STAMP" ]; then
  systemctl restart "$CHRONY_SERVICE"
fi
touch "$CHRONY_STAMP"
