#!/usr/bin/env bash
# In-flight forwarding without the lab: the generated rules and script of N load balancers, each in a
# network namespace of its own, wired to a bridge in a switch namespace that rewrites DSCP to 0 on the LB
# port, and an injector namespace that sends stray segments (lab/stray-segments.py). Run by
# lab/in-flight-selftest.ts (which renders the files), as root. Nothing is linked to the root network
# namespace; every namespace is removed on exit.
#   in-flight-selftest.sh DIR VIP PORT ADDRESS...   (DIR holds lb<i>.sh rendered for ADDRESS i)
# Prints one line per phase and "in-flight selftest: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
DIR="$1"; VIP="$2"; PORT="$3"; shift 3
ADDRESSES=("$@")
N="${#ADDRESSES[@]}"
P="k8s-ha-edge-ifst-$$-"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3
passed=0; failed=0

cleanup() {
  local n
  for n in sw m $(seq 1 "$N"); do
    ip netns pids "${P}$n" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "${P}$n" 2>/dev/null
  done
  wait 2>/dev/null
  return 0
}
trap cleanup EXIT

check() { # check NAME CONDITION-EXIT-CODE DETAIL
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "pass  $1: $3"; else failed=$((failed + 1)); echo "FAIL  $1: $3"; fi
}

inns() { local n="$1"; shift; ip netns exec "${P}$n" "$@"; }

for n in sw m $(seq 1 "$N"); do ip netns add "${P}$n"; ip -n "${P}$n" link set lo up; done
ip -n "${P}sw" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "${P}sw" link set br0 up
# The switch rewrites DSCP to 0 on every segment to the LB port (bridged IPv4 through iptables).
inns sw sysctl -qw net.bridge.bridge-nf-call-iptables=1
inns sw iptables -w 5 -t mangle -A FORWARD -p tcp --dport "$PORT" -j DSCP --set-dscp 0
plug() { # plug NS INDEX ADDRESS
  ip -n "${P}sw" link add "sw$2" address "02:00:00:00:$(printf %02x "$2"):02" type veth peer name ens33 address "02:00:00:00:$(printf %02x "$2"):01" netns "${P}$1"
  ip -n "${P}sw" link set "sw$2" master br0
  ip -n "${P}sw" link set "sw$2" up
  ip -n "${P}$1" addr add "$3/24" dev ens33
  ip -n "${P}$1" link set ens33 up
}
plug m 99 "${ADDRESSES[0]%.*}.5"
for i in $(seq 1 "$N"); do
  plug "$i" "$i" "${ADDRESSES[$((i - 1))]}"
  inns "$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  # A listener on the LB port, as nginx: the holder's probes must find the peers alive (60 s at most).
  inns "$i" timeout 60 "$PY" -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $PORT)); s.listen(64)
time.sleep(60)" &
done
for _ in $(seq 1 50); do
  all=1
  for i in $(seq 1 "$N"); do inns "$i" ss -ltn "sport = :$PORT" | grep -q LISTEN || all=0; done
  [ "$all" = 1 ] && break
  sleep 0.1
done

# counters: "copies fromPeers" summed over every load balancer (iptables-save -c).
counters() {
  local i copies=0 from=0 c f
  for i in $(seq 1 "$N"); do
    c="$(inns "$i" iptables-save -c -t mangle | awk '/^\[[0-9]+:[0-9]+\] -A K8S_HA_EDGE_COPY .*-j TEE/ { split(substr($1, 2), a, ":"); s += a[1] } END { print s + 0 }')"
    f="$(inns "$i" iptables-save -c -t mangle | awk '/^\[[0-9]+:[0-9]+\] -A K8S_HA_EDGE_FROM_PEER / { split(substr($1, 2), a, ":"); s += a[1] } END { print s + 0 }')"
    copies=$((copies + c)); from=$((from + f))
  done
  echo "$copies $from"
}

# phase NAME HOLDERS...: the VIP on the holders' NIC, `master` there and `arm` elsewhere, then 20 stray
# segments sent to the first holder: each copied at most once per peer, the counts still after 1 s.
phase() {
  local name="$1"; shift
  local holders=" $* " i step
  for i in $(seq 1 "$N"); do
    if [[ "$holders" == *" $i "* ]]; then ip -n "${P}$i" addr replace "$VIP/24" dev ens33; step=master; else ip -n "${P}$i" addr del "$VIP/24" dev ens33 2>/dev/null; step=arm; fi
    inns "$i" bash "$DIR/lb$i.sh" "$step" || check "$name: lb$i $step" 1 "exit $?"
  done
  ip -n "${P}m" neigh replace "$VIP" lladdr "02:00:00:00:$(printf %02x "$1"):01" dev ens33 nud permanent
  local before mid after out
  read -r -a before <<<"$(counters)"
  out="$(inns m "$PY" "$HERE/stray-segments.py" "$VIP" "$PORT" 20 1)"
  read -r -a mid <<<"$(counters)"
  sleep 1
  read -r -a after <<<"$(counters)"
  local copies=$((mid[0] - before[0])) peers=$((N - 1)) resets
  resets="$(sed -E 's/.*"resets": ([0-9]+).*/\1/' <<<"$out")"
  check "$name: copies" "$([ "$copies" -ge 1 ] && [ "$copies" -le $((20 * peers)) ] && echo 0 || echo 1)" "$copies copies of 20 segments to $peers peer(s)"
  check "$name: counts stop growing" "$([ "${after[0]}" -eq "${mid[0]}" ] && echo 0 || echo 1)" "copies ${mid[0]} then ${after[0]} 1 s later"
  if [ "$N" -eq 2 ]; then
    check "$name: resets" "$([ "$resets" -eq 20 ] && echo 0 || echo 1)" "$out"
  else
    check "$name: no reset (three or more: dropped)" "$([ "$resets" -eq 0 ] && echo 0 || echo 1)" "$out"
  fi
}

phase "one holder" 1
phase "split brain (every load balancer MASTER)" $(seq 1 "$N")
rewritten="$(inns sw iptables -w 5 -t mangle -L FORWARD -v -x -n | awk '/DSCP set 0x00/ { print $1 }')"
check "switch rewrote DSCP" "$([ "${rewritten:-0}" -gt 0 ] && echo 0 || echo 1)" "${rewritten:-0} segments"
for i in $(seq 1 "$N"); do inns "$i" bash "$DIR/lb$i.sh" disarm; done
echo "in-flight selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
