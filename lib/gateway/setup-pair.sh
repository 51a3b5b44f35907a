# shellcheck shell=bash
# The pair's half on this gateway, after its ruleset and forwarding: conntrackd (its configuration beside
# the script, CONNTRACKD_CONFIG) syncing connection state with the peer, the handoff of what only the peer
# knows (handoff.rules to HANDOFF_RULES_FILE, the inside NIC's loose reverse-path filter in
# HANDOFF_SYSCTL_FILE, armed by TRANSITION_SCRIPT --arm), then keepalived moving the two VIPs, with
# TRANSITION_SCRIPT run from its notify FIFO. Each file is tested by the program that reads it before it
# replaces anything; a service is restarted or reloaded only for a real change. DRAIN_FILE is left as it is
# (a drained gateway stays drained across a re-apply).
: "${CONNTRACKD_CONFIG:?}" "${TRANSITION_SCRIPT:?}" "${HANDOFF_RULES_FILE:?}" "${HANDOFF_SYSCTL_FILE:?}" "${HANDOFF_RP_FILTER_KEY:?}"
conntrackd_changed=false
keepalived_changed=false
# keepalived 2.2.7 (Debian 12) kills itself at the end of --config-test when script_user is set
# (acassen/keepalived#2617, fixed in 2.2.8); as PID 1 of its own PID namespace it ignores that signal.
if install_if_changed "$(basename "$TRANSITION_SCRIPT")" "$TRANSITION_SCRIPT" 0755; then keepalived_changed=true; fi
unshare --pid --fork keepalived --config-test --use-file "$PWD/keepalived.conf"
if install_if_changed conntrackd.conf "$CONNTRACKD_CONFIG" 0644; then conntrackd_changed=true; fi
if install_if_changed keepalived.conf /etc/keepalived/keepalived.conf 0644; then keepalived_changed=true; fi

# The handoff: its chains tested as they are loaded (beside the rest of the mangle table), the sysctl
# applied now and at boot, then armed (and re-armed on every run: the rules file may have changed).
if ! iptables-restore --test --noflush handoff.rules; then
  echo "handoff: this kernel refused handoff.rules (it needs the iptables TEE, mac and hashlimit extensions; on EL10 they ship in kernel-modules-extra)" >&2
  exit 1
fi
install_if_changed handoff.rules "$HANDOFF_RULES_FILE" 0644 || true
install_if_changed handoff-sysctl.conf "$HANDOFF_SYSCTL_FILE" 0644 || true
if [ "$(sysctl -n "$HANDOFF_RP_FILTER_KEY")" != 2 ]; then sysctl --quiet -w "$HANDOFF_RP_FILTER_KEY=2"; fi
"$TRANSITION_SCRIPT" --arm

systemctl enable --quiet conntrackd keepalived
# conntrackd first: keepalived's first transition talks to it.
if ! systemctl is-active --quiet conntrackd; then
  systemctl start conntrackd
elif [ "$conntrackd_changed" = true ]; then
  systemctl restart conntrackd
fi
if ! systemctl is-active --quiet keepalived; then
  systemctl start keepalived
elif [ "$keepalived_changed" = true ]; then
  # A reload keeps the VIPs where they are; the notify FIFO script is restarted with the new one.
  systemctl reload keepalived
fi
