#!/usr/bin/env bash
# A gateway pair's handoff without the lab: both gateways' generated rulesets (firewall.rules) and
# transition scripts (their handoff part, armed with --arm), each gateway in a network namespace of its
# own, wired to an inside and an outside switch namespace, with an inside host that owns the load
# balancers' VIP (an echo server on the service port) and an outside client (an echo server of its own).
# No conntrackd runs: a move of the VIPs leaves the new holder without the connections, the worst case
# the handoff exists for. Run by lab/gateway-handoff-selftest.ts (which renders the files), as root.
# Nothing is linked to the root network namespace; every namespace is removed on exit.
#   gateway-handoff-selftest.sh DIR
#   (DIR holds g1.rules/g1.sh, g2.rules/g2.sh, and env: the addresses, as NAME=VALUE lines)
# Prints one line per check and "gateway handoff selftest: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
DIR="$1"
# shellcheck disable=SC1091 # written by the TypeScript wrapper
. "$DIR/env"
: "${INSIDE_VIP:?}" "${OUTSIDE_VIP:?}" "${G1_INSIDE:?}" "${G1_OUTSIDE:?}" "${G2_INSIDE:?}" "${G2_OUTSIDE:?}" "${SERVICE_ADDRESS:?}" "${SERVICE_PORT:?}" "${CLIENT_ADDRESS:?}" "${CLIENT_PORT:?}" "${INSIDE_PREFIX:?}" "${OUTSIDE_PREFIX:?}" "${ENTRY_CHAIN:?}" "${HANDOFF_CHAIN:?}" "${FROM_PEER_CHAIN:?}"
P="k8s-ha-edge-gwho-$$-"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

# shellcheck source=lab/netns-selftest.sh
. "$HERE/netns-selftest.sh"

# The transition scripts log with logger: here into the scratch directory, not the machine's journal.
mkdir -p "$DIR/bin"
printf '#!/bin/sh\necho "$*" >> %s/logger.log\n' "$DIR" > "$DIR/bin/logger"
chmod 0755 "$DIR/bin/logger"

make_namespaces swin swout g1 g2 in out
for sw in swin swout; do
  ip -n "${P}$sw" link add br0 type bridge stp_state 0 forward_delay 0
  ip -n "${P}$sw" link set br0 up
done
plug() { # plug SWITCH NS IFNAME MAC ADDRESS/PREFIX
  local port="p$RANDOM"
  ip -n "${P}$1" link add "$port" type veth peer name "$3" address "$4" netns "${P}$2"
  ip -n "${P}$1" link set "$port" master br0
  ip -n "${P}$1" link set "$port" up
  ip -n "${P}$2" addr add "$5" dev "$3"
  ip -n "${P}$2" link set "$3" up
}
G1_IN_MAC=02:00:00:00:01:01; G2_IN_MAC=02:00:00:00:02:01
G1_OUT_MAC=02:00:00:01:01:01; G2_OUT_MAC=02:00:00:01:02:01
plug swin g1 ens33 "$G1_IN_MAC" "$G1_INSIDE/$INSIDE_PREFIX"
plug swout g1 ens36 "$G1_OUT_MAC" "$G1_OUTSIDE/$OUTSIDE_PREFIX"
plug swin g2 ens33 "$G2_IN_MAC" "$G2_INSIDE/$INSIDE_PREFIX"
plug swout g2 ens36 "$G2_OUT_MAC" "$G2_OUTSIDE/$OUTSIDE_PREFIX"
plug swin in ens33 02:00:00:00:09:01 "$SERVICE_ADDRESS/$INSIDE_PREFIX"
plug swout out ens36 02:00:00:01:09:01 "$CLIENT_ADDRESS/$OUTSIDE_PREFIX"
inns in ip route add default via "$INSIDE_VIP"
for g in g1 g2; do
  # RHEL's strict reverse-path filter everywhere; the generated sysctl makes the inside NIC loose.
  inns "$g" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.ens33.rp_filter=1 net.ipv4.ip_forward=1
  inns "$g" sh -c "sed -n 's/^\([a-z0-9_./-]*\) = \(.*\)$/\1=\2/p' '$DIR/$g.sysctl' | xargs -r sysctl -qw"
  inns "$g" iptables-restore < "$DIR/$g.rules"
done

# The VIPs on G (and the neighbours told, as keepalived's gratuitous ARPs do); taken off the other one.
hold() { # hold g1|g2
  local other=g1 in_mac="$G2_IN_MAC" out_mac="$G2_OUT_MAC"
  if [ "$1" = g1 ]; then other=g2; in_mac="$G1_IN_MAC"; out_mac="$G1_OUT_MAC"; fi
  inns "$other" ip addr del "$INSIDE_VIP/$INSIDE_PREFIX" dev ens33 2>/dev/null
  inns "$other" ip addr del "$OUTSIDE_VIP/$OUTSIDE_PREFIX" dev ens36 2>/dev/null
  inns "$1" ip addr replace "$INSIDE_VIP/$INSIDE_PREFIX" dev ens33
  inns "$1" ip addr replace "$OUTSIDE_VIP/$OUTSIDE_PREFIX" dev ens36
  inns in ip neigh replace "$INSIDE_VIP" lladdr "$in_mac" dev ens33 nud reachable
  inns out ip neigh replace "$OUTSIDE_VIP" lladdr "$out_mac" dev ens36 nud reachable
}
arm() { inns "$1" env PATH="$DIR/bin:$PATH" bash "$DIR/$1.sh" --arm; }
# counter G CHAIN TARGET: packets of CHAIN's rules with TARGET on G
counter() { inns "$1" iptables -w 5 -t mangle -nvxL "$2" | awk -v t="$3" '$3 == t { s += $1 } END { print s + 0 }'; }
zero() { local g; for g in g1 g2; do inns "$g" iptables -w 5 -t mangle -Z; done; }

# Echo servers: the service behind the DNAT (on the inside host) and the client's own (behind the SNAT).
echo_server() { # echo_server NS ADDRESS PORT (its end, killed by the cleanup, is not reported)
  inns "$1" timeout 120 "$PY" 2>/dev/null -c "
import socket, threading
def echo(c):
    with c:
        while (data := c.recv(100)):
            c.sendall(data)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$2', $3)); s.listen(16)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()" &
  disown
}
echo_server in "$SERVICE_ADDRESS" "$SERVICE_PORT"
echo_server out "$CLIENT_ADDRESS" "$CLIENT_PORT"
for _ in $(seq 1 50); do
  inns in ss -ltn "sport = :$SERVICE_PORT" | grep -q LISTEN && inns out ss -ltn "sport = :$CLIENT_PORT" | grep -q LISTEN && break
  sleep 0.1
done

# connection NAME NS ADDRESS PORT: a connection that exchanges a byte, waits for DIR/NAME.go (10 s at
# most) and exchanges another (2 s at most); prints "ok" or why not into DIR/NAME.out.
connection() {
  rm -f "$DIR/$1.ready" "$DIR/$1.go" "$DIR/$1.out"
  inns "$2" timeout 30 "$PY" -c "
import os, socket, sys, time
out = open('$DIR/$1.out', 'w')
try:
    s = socket.create_connection(('$3', $4), timeout=2)
    s.sendall(b'a'); assert s.recv(1) == b'a'
    open('$DIR/$1.ready', 'w').close()
    deadline = time.monotonic() + 10
    while not os.path.exists('$DIR/$1.go') and time.monotonic() < deadline:
        time.sleep(0.02)
    s.settimeout(2)
    s.sendall(b'b'); out.write('ok' if s.recv(1) == b'b' else 'wrong byte')
except Exception as e:
    out.write(f'{type(e).__name__} {e}')
" &
}
wait_ready() { local _; for _ in $(seq 1 100); do [ -e "$DIR/$1.ready" ] && return 0; sleep 0.05; done; return 1; }
outcome() { local _; for _ in $(seq 1 100); do [ -s "$DIR/$1.out" ] && break; sleep 0.05; done; cat "$DIR/$1.out" 2>/dev/null || echo 'no outcome'; }

# straddle NAME: both connections opened through g2, the VIPs moved to g1 (which has never seen them),
# then each exchanges again. Prints "inbound <outcome>; outbound <outcome>".
straddle() {
  hold g2
  connection "$1-in" out "$OUTSIDE_VIP" "$SERVICE_PORT"
  connection "$1-out" in "$CLIENT_ADDRESS" "$CLIENT_PORT"
  wait_ready "$1-in"; wait_ready "$1-out"
  hold g1
  touch "$DIR/$1-in.go" "$DIR/$1-out.go"
  echo "inbound $(outcome "$1-in"); outbound $(outcome "$1-out")"
}

# 1. Until a gateway knows its peer's MAC address it hands nothing off.
hold g2
arm g1 >/dev/null; arm g2 >/dev/null
zero
out="$(inns out "$PY" "$HERE/stray-segments.py" "$OUTSIDE_VIP" "$SERVICE_PORT" 20 1)"
tee_g2="$(counter g2 "$HANDOFF_CHAIN" TEE)"
check "no MAC learned: nothing handed off" "$([ "$tee_g2" = 0 ] && echo 0 || echo 1)" "20 stray segments to the holder; handed off $tee_g2; $out"

# 2. Learned (traffic between the two fills the neighbour tables; the scripts' refresh picks it up).
inns g1 ping -c 1 -W 1 "$G2_INSIDE" >/dev/null; inns g2 ping -c 1 -W 1 "$G1_INSIDE" >/dev/null
arm g1 >/dev/null; arm g2 >/dev/null
mac_g1="$(inns g1 iptables -w 5 -t mangle -S "$FROM_PEER_CHAIN" | grep -o -- '--mac-source [^ ]*' | cut -d' ' -f2)"
mac_g2="$(inns g2 iptables -w 5 -t mangle -S "$FROM_PEER_CHAIN" | grep -o -- '--mac-source [^ ]*' | cut -d' ' -f2)"
check "each gateway recognises its peer by MAC" "$([ "$mac_g1" = "$G2_IN_MAC" ] && [ "$mac_g2" = "$G1_IN_MAC" ] && echo 0 || echo 1)" "g1 knows ${mac_g1:-none} (g2 is $G2_IN_MAC), g2 knows ${mac_g2:-none} (g1 is $G1_IN_MAC)"
hooks="$(inns g1 iptables -w 5 -t mangle -S PREROUTING | grep -c -- "-j $ENTRY_CHAIN")"
check "armed twice, hooked once" "$([ "$hooks" = 1 ] && echo 0 || echo 1)" "$hooks hook(s) in PREROUTING"

# 3. A segment nobody owns: handed off once, dropped by the peer, never handed back, no reset, no loop.
zero
out="$(inns out "$PY" "$HERE/stray-segments.py" "$OUTSIDE_VIP" "$SERVICE_PORT" 50 1)"
tee_g2="$(counter g2 "$HANDOFF_CHAIN" TEE)"; tee_g1="$(counter g1 "$HANDOFF_CHAIN" TEE)"
back_g1="$(counter g1 "$FROM_PEER_CHAIN" DROP)"; back_g2="$(counter g2 "$FROM_PEER_CHAIN" DROP)"
resets="$(echo "$out" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["resets"])' 2>/dev/null || echo '?')"
ok=1; [ "$tee_g2" = 50 ] && [ "$back_g1" = 50 ] && [ "$tee_g1" = 0 ] && [ "$back_g2" = 0 ] && [ "$resets" = 0 ] && ok=0
check "a segment nobody owns goes to the peer once and stops there" "$ok" "50 strays: g2 handed off $tee_g2, g1 dropped $back_g1 of them and handed back $tee_g1, g2 got back $back_g2; resets $resets"

# 3b. Even when both gateways mistake each other's MAC (a failure of both guards at once, never seen in
# practice: each learns the other's MAC every second), a segment passes back and forth only until its TTL
# runs out (TEE takes one off each time; a TTL under 2 is never handed off): bounded, then dropped.
for g in g1 g2; do inns "$g" iptables -w 5 -t mangle -R "$FROM_PEER_CHAIN" 1 -m mac --mac-source 02:de:ad:be:ef:01 -j DROP; done
zero
inns out "$PY" "$HERE/stray-segments.py" "$OUTSIDE_VIP" "$SERVICE_PORT" 1 1 >/dev/null
sleep 0.5
bounces=$(( $(counter g1 "$HANDOFF_CHAIN" TEE) + $(counter g2 "$HANDOFF_CHAIN" TEE) ))
ok=1; [ "$bounces" -gt 1 ] && [ "$bounces" -le 64 ] && ok=0
check "both guards wrong: a segment bounces only until its TTL (64) runs out" "$ok" "1 stray, handed off $bounces times in all"
arm g1 >/dev/null; arm g2 >/dev/null

# 4. Connections that straddle a move between two live gateways live on through the handoff.
zero
result="$(straddle moved)"
tee_g1="$(counter g1 "$HANDOFF_CHAIN" TEE)"
ok=1; [ "$result" = "inbound ok; outbound ok" ] && [ "$tee_g1" -gt 0 ] && ok=0
check "connections opened through the other gateway live on after the move" "$ok" "$result; g1 handed $tee_g1 segment(s) to g2"

# 5. The negative control: without the handoff, the same move breaks both.
inns g1 iptables -w 5 -t mangle -D PREROUTING -j "$ENTRY_CHAIN"
result="$(straddle unhooked)"
ok=1; case "$result" in "inbound ok"* | *"outbound ok") ;; *) ok=0 ;; esac
check "negative control: without the handoff the move breaks them" "$ok" "$result"

echo "gateway handoff selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
