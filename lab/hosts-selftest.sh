#!/usr/bin/env bash
# lab/hosts-selftest.sh - prove the lab infrastructure layer end to end:
#   down (clean slate) -> up lab/example-hosts.json -> ssh from mgmt to every container ->
#   systemd state -> pings -> NAT table in a container -> VRRP failover with stop-host/start-host ->
#   down -> assert that nothing of the lab is left (netns, mounts, nspawn, cgroups, work dir).
# Options: --rebuild-rootfs   rebuild the cached rootfs first (to measure the mmdebstrap build)
# Prints timings and a closing "N passed, N failed" line; exit status 0 only if all checks pass.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB="$HERE/hosts.sh"
CFG="$HERE/example-hosts.json"
export LAB_WORK="${LAB_WORK:-/run/k8s-ha-edge-lab}" LAB_PREFIX="${LAB_PREFIX:-lab-}" LAB_CGNAME="${LAB_CGNAME:-k8s-ha-edge-lab}"
MGMT_NS="${LAB_PREFIX}mgmt"
PASS=0; FAIL=0
declare -A T
TMPD="$(mktemp -d /tmp/lab-selftest.XXXXXX)"; trap 'rm -rf "$TMPD"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
ok()   { PASS=$((PASS + 1)); printf 'ok   - %s\n' "$*"; }
bad()  { FAIL=$((FAIL + 1)); printf 'FAIL - %s\n' "$*"; }
check() { local d="$1"; shift; if "$@" >"$TMPD/out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/       /' "$TMPD/out" | tail -8; fi; }
lab() { bash "$LAB" "$@"; }
# poll "$@" until it succeeds: at most $1 tries, 0.5 s apart
retry() { local n="$1" i; shift; for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; "$@"; }

[ "$(id -u)" = 0 ] || { echo "must run as root"; exit 1; }
[ "${1:-}" = --rebuild-rootfs ] && export LAB_REBUILD_ROOTFS=1

cleanup_on_abort() { echo "selftest interrupted: tearing the lab down"; lab down; exit 1; }
trap cleanup_on_abort INT TERM

echo "== clean slate"
lab down

echo "== up ($CFG)"
t0="$(now)"
if ! lab up "$CFG" >"$TMPD/up.out" 2>"$TMPD/up.err"; then
  cat "$TMPD/up.err"; bad "lab up"; lab down; echo "$PASS passed, $FAIL failed"; exit 1
fi
T[up]="$(since "$t0")"
grep -E 'ready|lab up|rootfs' "$TMPD/up.err"
ok "lab up"
T[rootfs]="$(sed -n 's/.*rootfs \([0-9.]*\)s, boot.*/\1/p' "$TMPD/up.err")"
T[boot]="$(sed -n 's/.*boot+ready \([0-9.]*\)s.*/\1/p' "$TMPD/up.err")"
ROOTFS="$(cat "$LAB_WORK/rootfs")"

echo "== ssh from mgmt, systemd state"
for h in lb01 lb02 node01 node02 gateway client; do
  check "ssh $h from $MGMT_NS answers with hostname $h" bash -c "[ \"\$(bash '$LAB' ssh $h hostname)\" = $h ]"
  check "$h: systemctl is-system-running --wait = running" bash -c "[ \"\$(timeout 60 bash '$LAB' ssh $h systemctl is-system-running --wait)\" = running ]"
  check "$h: nginx and keepalived installed, disabled and inactive" bash -c \
    "[ \"\$(bash '$LAB' exec $h 'systemctl is-enabled nginx keepalived; systemctl is-active nginx keepalived' | tr '\n' ' ')\" = 'disabled disabled inactive inactive ' ]"
done
check "client is reached through gateway (ProxyJump) with strict host key checking" \
  grep -q 'ProxyJump gateway' "$LAB_WORK/ssh_config"
check "exec via nsenter works too (lb01 hostname)" bash -c "[ \"\$(bash '$LAB' exec lb01 hostname)\" = lb01 ]"
check "each host has its own machine-id" bash -c \
  "[ \$(for h in lb01 lb02 node01 node02 gateway client; do bash '$LAB' exec \$h cat /etc/machine-id; done | sort -u | wc -l) = 6 ]"

echo "== network"
check "lb01 pings gateway 192.168.10.1" lab exec lb01 ping -c 2 -W 2 192.168.10.1
check "client pings 12.0.0.1" lab exec client ping -c 2 -W 2 12.0.0.1
check "mgmt pings lb02 192.168.10.50" lab exec mgmt ping -c 1 -W 2 192.168.10.50
check "interface names as configured (gateway: ens33 ens36)" bash -c \
  "[ \"\$(bash '$LAB' exec gateway \"ip -o link show | awk -F': ' '{print \\\$2}' | cut -d@ -f1 | grep -v '^lo\$' | sort | tr '\n' ' '\")\" = 'ens33 ens36 ' ]"
check "nothing of the lab in the root namespace (no bridge, no veth, no lab address)" bash -c \
  "! ip -o link show | grep -Eq 'br[0-9]+|v[0-9]+i[0-9]+|ens33|ens36' && ! ip -o addr show | grep -Eq '192\.168\.10\.|12\.0\.0\.'"
check "iptables NAT table usable in gateway (add/list/delete MASQUERADE)" lab exec gateway \
  'iptables -t nat -A POSTROUTING -o ens36 -j MASQUERADE && iptables -t nat -S POSTROUTING | grep -q MASQUERADE && iptables -t nat -D POSTROUTING -o ens36 -j MASQUERADE'

echo "== VRRP failover with stop-host / start-host"
for spec in lb01:150 lb02:100; do
  h=${spec%:*}; prio=${spec#*:}
  lab exec "$h" "cat > /etc/keepalived/keepalived.conf" <<EOF
vrrp_instance selftest {
  state BACKUP
  interface ens33
  virtual_router_id 42
  priority $prio
  advert_int 1
  virtual_ipaddress { 192.168.10.100/24 }
}
EOF
  lab exec "$h" systemctl start keepalived
done
has_vip() { lab exec "$1" ip -4 -o addr show dev ens33 | grep -q '192\.168\.10\.100/'; }
check "VIP 192.168.10.100 on lb01 (priority 150)" retry 30 has_vip lb01
t0="$(now)"; lab stop-host lb01 2>/dev/null; T[stop]="$(since "$t0")"
check "stop-host lb01: lb01 gone from the network (ssh from mgmt fails)" bash -c \
  "! ip netns exec $MGMT_NS ssh -F '$LAB_WORK/ssh_config' -o ConnectTimeout=2 lb01 true"
check "VIP moved to lb02" retry 30 has_vip lb02
check "mgmt reaches the VIP (answered by lb02)" bash -c \
  "[ \"\$(ip netns exec $MGMT_NS ssh -F '$LAB_WORK/ssh_config' -o HostKeyAlias=lb02 192.168.10.100 hostname)\" = lb02 ]"
t0="$(now)"; check "start-host lb01" lab start-host lb01; T[start]="$(since "$t0")"
check "lb01 back: ssh from mgmt" bash -c "[ \"\$(bash '$LAB' ssh lb01 hostname)\" = lb01 ]"
check "lb01 overlay kept across the reboot (keepalived.conf still there)" lab exec lb01 test -s /etc/keepalived/keepalived.conf
check "lb01 keepalived not running after reboot (disabled)" bash -c "! bash '$LAB' exec lb01 systemctl is-active keepalived"

echo "== status"
lab status

echo "== down"
mem_rss="$(lab status | awk '$2=="container" && $3=="running"{split($5,a,"+"); s+=a[1]; n++} END{if(n) printf "%.1f", s/n}')"
t0="$(now)"; lab down; T[down]="$(since "$t0")"
check "no ${LAB_PREFIX}* network namespace left" bash -c "! ip netns list | grep -q '^${LAB_PREFIX}'"
check "no mount under $LAB_WORK and no overlay on the rootfs" bash -c \
  "! grep -q ' $LAB_WORK' /proc/self/mountinfo && ! grep -q 'lowerdir=$ROOTFS' /proc/self/mountinfo"
check "no systemd-nspawn process left" bash -c "! pgrep -x systemd-nspawn"
check "no lab cgroup left" bash -c "[ -z \"\$(find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -type d -name '$LAB_CGNAME' 2>/dev/null)\" ]"
check "work dir $LAB_WORK removed" test ! -e "$LAB_WORK"
check "second down is a no-op and succeeds" lab down

echo "== timings"
echo "rootfs: ${T[rootfs]:-?} s this run (cached build took $(cat "$ROOTFS.buildtime" 2>/dev/null || echo '?') s, size $(du -sh "$ROOTFS" 2>/dev/null | cut -f1))"
echo "up total: ${T[up]} s, boot+ready of all containers: ${T[boot]:-?} s"
echo "memory per running container (RSS of its cgroup, before down): ${mem_rss:-?} MiB"
echo "stop-host: ${T[stop]} s, start-host: ${T[start]} s, down: ${T[down]} s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
