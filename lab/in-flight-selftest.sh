#!/usr/bin/env bash
# In-flight forwarding without the lab: the generated rules and script of N load balancers, each in a
# network namespace of its own, wired to a bridge in a switch namespace that rewrites DSCP to 0 on the LB
# port, and a client namespace that sends stray segments (lab/stray-segments.py) and holds real
# connections. Run by lab/in-flight-selftest.ts (which renders the files), as root. Nothing is linked to
# the root network namespace; every namespace is removed on exit.
#   in-flight-selftest.sh DIR VIP PORT LAST_TTL ADDRESS...   (DIR holds lb<i>.sh rendered for ADDRESS i,
#   in the order copies travel; LAST_TTL: the TTL a copy reaches the last of the line with)
# Prints one line per phase and "in-flight selftest: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
DIR="$1"; VIP="$2"; PORT="$3"; LAST_TTL="$4"; shift 4
ADDRESSES=("$@")
N="${#ADDRESSES[@]}"
P="k8s-ha-edge-ifst-$$-"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

# shellcheck source=lab/netns-selftest.sh
. "$HERE/netns-selftest.sh"
# shellcheck disable=SC2046 # one namespace per load balancer, numbered
make_namespaces sw m $(seq 1 "$N")
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
  # An echo server on the LB port, as nginx: the holder's probes find the peers alive, and a connection
  # a peer owns answers (120 s at most).
  inns "$i" timeout 120 "$PY" -c "
import socket, threading
def echo(c):
    with c:
        while (data := c.recv(100)):
            c.sendall(data)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $PORT)); s.listen(64)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()" &
done
for _ in $(seq 1 50); do
  all=1
  for i in $(seq 1 "$N"); do inns "$i" ss -ltn "sport = :$PORT" | grep -q LISTEN || all=0; done
  [ "$all" = 1 ] && break
  sleep 0.1
done

mac_of() { echo "02:00:00:00:$(printf %02x "$1"):01"; }

# edges: "lb<i>:CHAIN>GATEWAY PACKETS" for every TEE rule of every load balancer (iptables-save -c):
# the holder's copies and the ones passed on along the line.
edges() {
  local i
  for i in $(seq 1 "$N"); do
    inns "$i" iptables-save -c -t mangle | awk -v i="$i" '/^\[[0-9]+:[0-9]+\] -A .* -j TEE --gateway / { split(substr($1, 2), a, ":"); print "lb" i ":" $3 ">" $NF, a[1] }'
  done | sort
}
total() { awk '{ s += $2 } END { print s + 0 }' <<<"$1"; }
# delta BEFORE AFTER: the largest growth of one edge between two readings (a reloaded chain restarts at 0).
most() {
  join -a 2 -e 0 -o 2.1,1.2,2.2 <(echo "$1") <(echo "$2") | awk '{ d = ($3 >= $2) ? $3 - $2 : $3; if (d > m) m = d } END { print m + 0 }'
}

# hold HOLDERS...: the VIP on the holders' NIC, `master` there and `arm` elsewhere; the client's
# segments go to the first holder.
hold() {
  local holders=" $* " i step
  for i in $(seq 1 "$N"); do
    if [[ "$holders" == *" $i "* ]]; then ip -n "${P}$i" addr replace "$VIP/24" dev ens33; step=master; else ip -n "${P}$i" addr del "$VIP/24" dev ens33 2>/dev/null; step=arm; fi
    inns "$i" bash "$DIR/lb$i.sh" "$step" || check "lb$i $step" 1 "exit $?"
  done
  ip -n "${P}m" neigh replace "$VIP" lladdr "$(mac_of "$1")" dev ens33 nud permanent
}

# strays NAME RESETS: 20 stray segments to the holder: copied at most once along each edge, the counts
# still after 1 s; RESETS is "one" (exactly one reset each, within 1 s) or "any" (only counted).
strays() {
  local name="$1" expect="$2" before mid after out resets rsts ms
  before="$(edges)"
  out="$(inns m "$PY" "$HERE/stray-segments.py" "$VIP" "$PORT" 20 1)"
  mid="$(edges)"
  sleep 1
  after="$(edges)"
  check "$name: copies" "$([ "$(most "$before" "$mid")" -le 20 ] && [ "$(total "$mid")" -gt "$(total "$before")" ] && echo 0 || echo 1)" \
    "$(($(total "$mid") - $(total "$before"))) copies of 20 segments, at most $(most "$before" "$mid") along one edge: $(tr '\n' ' ' <<<"$mid")"
  check "$name: counts stop growing" "$([ "$(total "$after")" -eq "$(total "$mid")" ] && echo 0 || echo 1)" "copies $(total "$mid") then $(total "$after") 1 s later"
  resets="$(sed -E 's/.*"resets": ([0-9]+).*/\1/' <<<"$out")"
  rsts="$(sed -E 's/.*"rsts": ([0-9]+).*/\1/' <<<"$out")"
  ms="$(sed -E 's/.*"maxResetMs": ([0-9]+|null).*/\1/' <<<"$out")"
  if [ "$expect" = one ]; then
    check "$name: exactly one reset each within 1 s" "$([ "$resets" -eq 20 ] && [ "$rsts" -eq 20 ] && [ "$ms" != null ] && [ "$ms" -le 1000 ] && echo 0 || echo 1)" "$out"
  else
    check "$name: resets (counted only)" 0 "$out"
  fi
}

# owned NAME OWNER HOLDER: a connection the client opened to OWNER (the VIP was there), then the VIP
# moves to HOLDER: the next segment reaches HOLDER, goes along the line to OWNER, which answers; no reset.
owned() {
  local name="$1" owner="$2" holder="$3" before out
  ip -n "${P}m" neigh replace "$VIP" lladdr "$(mac_of "$owner")" dev ens33 nud permanent
  before="$(edges)"
  out="$(inns m timeout 10 "$PY" -c "
import json, socket, subprocess, time
c = socket.create_connection(('$VIP', $PORT), timeout=2)
c.sendall(b'before'); first = c.recv(100)
subprocess.run(['ip', 'neigh', 'replace', '$VIP', 'lladdr', '$(mac_of "$holder")', 'dev', 'ens33', 'nud', 'permanent'], check=True)
c.settimeout(1)
try:
    c.sendall(b'after'); result = c.recv(100).decode() or 'closed'
except ConnectionResetError:
    result = 'reset'
except socket.timeout:
    result = 'no answer within 1 s'
print(json.dumps({'first': first.decode(), 'after': result}))" 2>&1)"
  check "$name: served by lb$owner through lb$holder, not reset" "$(grep -q '"after": "after"' <<<"$out" && [ "$(total "$(edges)")" -gt "$(total "$before")" ] && echo 0 || echo 1)" \
    "$out; copies $(($(total "$(edges)") - $(total "$before")))"
}

# The switch also rewrites the TTL of the copies (segments to the LB port that a load balancer sends:
# not from the client's port, sw99), on with a value, or off. The client's own segments keep theirs.
switch_ttl() {
  while inns sw iptables -w 5 -t mangle -D FORWARD -p tcp --dport "$PORT" -m physdev ! --physdev-in sw99 -j TTL --ttl-set "${2:-0}" 2>/dev/null; do :; done
  if [ "$1" = on ]; then inns sw iptables -w 5 -t mangle -A FORWARD -p tcp --dport "$PORT" -m physdev ! --physdev-in sw99 -j TTL --ttl-set "$2"; fi
}

# copies_of HOST: where that load balancer's own copies go now (the TEE gateway of its copy chain), or none.
copies_of() {
  inns "$1" iptables -w 5 -t mangle -S K8S_HA_EDGE_COPY 2>/dev/null | awk '/ -j TEE --gateway / { print $NF }' | grep . || echo none
}

# A peer that answers only after the holder took the VIP (its nginx or firewall came up later, as on a
# first apply of the load balancers side by side): the holder's watch adds it to the line, at its place.
inns 2 iptables -w 5 -I INPUT -p tcp -d "${ADDRESSES[1]}" --dport "$PORT" -j DROP
hold 1
without="$(copies_of 1)"
inns 2 iptables -w 5 -D INPUT -p tcp -d "${ADDRESSES[1]}" --dport "$PORT" -j DROP
joined_ms=never
started=$(date +%s%N)
for _ in $(seq 1 50); do
  if [ "$(copies_of 1)" = "${ADDRESSES[1]}" ]; then joined_ms=$((($(date +%s%N) - started) / 1000000)); break; fi
  sleep 0.1
done
check "lb2 answers only after lb1 took the VIP: joins lb1's line" "$([ "$without" != "${ADDRESSES[1]}" ] && [ "$joined_ms" != never ] && echo 0 || echo 1)" \
  "copies to $without while lb2 did not answer, to ${ADDRESSES[1]} ${joined_ms} ms after it did"
hold 1
strays "one holder (lb1), nobody owns it" one
for k in $(seq 2 "$N" | head -2); do owned "lb1 holds" "$k" 1; done
if [ "$N" -ge 3 ]; then
  hold 2
  strays "holder in the middle (lb2), nobody owns it" one
  owned "lb2 holds" "$N" 2
  owned "lb2 holds" 1 2
fi
if [ "$N" -ge 3 ]; then
  # The old holder lb1 powered off (its link down): lb2 takes the VIP, its probe finds lb1 dead and
  # leaves it out of the chain, so what nobody owns is still reset (by the last live peer).
  ip -n "${P}1" link set ens33 down
  hold 2
  strays "lb1 down, lb2 holds, nobody owns it" one
  ip -n "${P}1" link set ens33 up
fi
hold "$N"
strays "holder last of the line (lb$N), nobody owns it" one
# With the holder in the middle of the line (three or more), where copies come back to the holder.
middle=$((N >= 3 ? 2 : 1))
for v in $((LAST_TTL + 1)) "$LAST_TTL" 64; do
  hold "$middle"
  switch_ttl on "$v"
  strays "the switch rewrites the copies' TTL to $v, lb$middle holds" any
  switch_ttl off "$v"
done
hold $(seq 1 "$N")
strays "split brain (every load balancer MASTER)" any
rewritten="$(inns sw iptables -w 5 -t mangle -L FORWARD -v -x -n | awk '/DSCP set 0x00/ { print $1 }')"
check "switch rewrote DSCP" "$([ "${rewritten:-0}" -gt 0 ] && echo 0 || echo 1)" "${rewritten:-0} segments"
for i in $(seq 1 "$N"); do inns "$i" bash "$DIR/lb$i.sh" disarm; done
echo "in-flight selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
