#!/usr/bin/env bash
# lab/hosts.sh - emulated multi-host lab: Debian hosts (LAB_SUITE: bookworm by default, or trixie) booted with real
# systemd inside systemd-nspawn, each in its own network namespace, wired through
# bridges that live in a private "switch" namespace.
#
#   bash lab/hosts.sh up <hosts.json>     build rootfs (cached), namespaces, bridges, boot hosts
#   bash lab/hosts.sh down                remove every trace (idempotent, safe when nothing exists)
#   bash lab/hosts.sh status              list what exists
#   bash lab/hosts.sh exec <host> <cmd..> run a shell command on a host (nsenter; mgmt: ip netns exec)
#   bash lab/hosts.sh ssh <host> [cmd..]  ssh from the management namespace (uses the lab ssh_config)
#   bash lab/hosts.sh switch <cmd..>      run a shell command in the switch namespace (the bridges)
#   bash lab/hosts.sh stop-host <host>    power a container off (its network namespace goes away too)
#   bash lab/hosts.sh kill-host <host>    power loss: its cables cut, every process SIGKILLed, its netns removed
#   bash lab/hosts.sh start-host <host>   boot it again on the same overlay
#   bash lab/hosts.sh env                 print LAB_* paths (key, ssh_config, known_hosts) as shell vars
#   bash lab/hosts.sh deps                install the host tools (mmdebstrap, pinned systemd-container, ...)
#   bash lab/hosts.sh rootfs              build (or reuse) the cached rootfs and print its path
#                                         (LAB_REBUILD_ROOTFS=1 forces a fresh mmdebstrap build)
#
# NETWORK SAFETY: nothing is ever created in the root network namespace. Bridges live in
# netns ${LAB_PREFIX}sw, veth pairs are created inside it with the peer born directly in the
# host's namespace, and all lab traffic (ssh, ping) is sent from lab namespaces only.
# Every wait loop is bounded in count and time.
set -Eeuo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
LAB_WORK="${LAB_WORK:-/run/k8s-ha-edge-lab}"
LAB_CACHE="${LAB_CACHE:-/var/cache/k8s-ha-edge-lab}"
LAB_PREFIX="${LAB_PREFIX:-lab-}"
LAB_CGNAME="${LAB_CGNAME:-k8s-ha-edge-lab}"
LAB_LOCK="${LAB_LOCK:-/run/lock/k8s-ha-edge-lab.lock}"
LAB_SUITE="${LAB_SUITE:-bookworm}"
LAB_MIRROR="${LAB_MIRROR:-http://deb.debian.org/debian}"
LAB_SECURITY_MIRROR="${LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-120}"   # seconds for all hosts to reach ssh-ready
LAB_STOP_TIMEOUT="${LAB_STOP_TIMEOUT:-20}"    # seconds for a graceful poweroff before SIGKILL
LAB_PACKAGES="${LAB_PACKAGES:-systemd,systemd-sysv,dbus,openssh-server,nginx,libnginx-mod-stream,keepalived,iptables,iproute2,iputils-ping,curl,procps,netfilter-persistent,iptables-persistent,ca-certificates,sudo,firewalld,conntrackd,conntrack}"
SW_NS="${LAB_PREFIX}sw"
STATE="$LAB_WORK/state"
PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
CONTAINER_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "TERM=${TERM:-dumb}" LANG=C.UTF-8)
SSH_OPTS=(-o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR)

log()  { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
now()  { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

take_lock() {
  mkdir -p "$(dirname "$LAB_LOCK")"
  exec 9>"$LAB_LOCK"
  flock -w 120 9 || die "another lab up/down holds $LAB_LOCK (waited 120 s)"
}

record() { mkdir -p "$LAB_WORK"; printf '%s\n' "$*" >>"$STATE"; }

# ---------------------------------------------------------------- host tools
deps() {
  local missing=() pkgs=() c
  declare -A pkg_of=([jq]=jq [mmdebstrap]=mmdebstrap [systemd-nspawn]=systemd-container [ssh]=openssh-client
    [ssh-keygen]=openssh-client [nsenter]=util-linux [flock]=util-linux [setsid]=util-linux [ip]=iproute2
    [pgrep]=procps [awk]=gawk [sha256sum]=coreutils [ping]=iputils-ping [curl]=curl)
  for c in "${!pkg_of[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing host tools for: ${missing[*]}"
  for c in "${missing[@]}"; do
    case "${pkg_of[$c]}" in
      systemd-container)
        # Pin to the machine's own systemd version so apt does not upgrade the host's systemd.
        local v; v="$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)"
        if [ -n "$v" ]; then pkgs+=("systemd-container=$v"); else pkgs+=(systemd-container); fi ;;
      *) pkgs+=("${pkg_of[$c]}") ;;
    esac
  done
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
  }
}

# ---------------------------------------------------------------- rootfs (cached)
# Runs against the freshly built tree (offline, no chroot execution needed except ssh-keygen later).
rootfs_customize() {
  local r="$1"
  # Installed but disabled: the provisioning under test enables them.
  systemctl --root="$r" disable nginx.service keepalived.service conntrackd.service >/dev/null 2>&1 || true
  # firewalld too: off unless the lab's --firewalld variant starts it on the load balancers.
  systemctl --root="$r" disable firewalld.service >/dev/null 2>&1 || true
  # Nothing periodic or hardware-related in the emulated hosts.
  systemctl --root="$r" disable apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-pstore.service >/dev/null 2>&1 || true
  systemctl --root="$r" mask getty@tty1.service >/dev/null 2>&1 || true
  # Per-host identity is written at 'up'.
  rm -f "$r"/etc/ssh/ssh_host_*
  : >"$r/etc/machine-id"
  echo localhost >"$r/etc/hostname"
  # No DNS in the lab (the build copied the build machine's resolver).
  rm -f "$r/etc/resolv.conf"; printf '# k8s-ha-edge lab: no DNS server\n' >"$r/etc/resolv.conf"
  printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$r/etc/iptables/rules.v4"
  cp "$r/etc/iptables/rules.v4" "$r/etc/iptables/rules.v6"
  mkdir -p "$r/etc/ssh/sshd_config.d"
  printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n' \
    >"$r/etc/ssh/sshd_config.d/10-lab.conf"
  mkdir -p "$r/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$r/etc/systemd/journald.conf.d/10-lab.conf"
}

rootfs_path() {
  local h
  h="$( { echo "$LAB_SUITE|$LAB_PACKAGES|$LAB_MIRROR|$LAB_SECURITY_MIRROR"; declare -f rootfs_customize; } | sha256sum | cut -c1-16)"
  echo "$LAB_CACHE/rootfs-$h"
}

rootfs() {
  local r tmp t0; r="$(rootfs_path)"
  if [ "${LAB_REBUILD_ROOTFS:-0}" = 1 ] && [ -d "$r" ]; then
    [ -z "$(awk -v l="lowerdir=$r," 'index($0, l)' /proc/self/mountinfo)" ] || die "rootfs $r is in use by a running lab"
    log "LAB_REBUILD_ROOTFS=1: removing cached $r"; rm -rf --one-file-system "$r" "$r.buildtime"
  fi
  if [ -d "$r" ] && [ -x "$r/lib/systemd/systemd" ]; then echo "$r"; return 0; fi
  mkdir -p "$LAB_CACHE"
  rm -rf --one-file-system "$LAB_CACHE"/rootfs-*.tmp.* 2>/dev/null || true
  tmp="$r.tmp.$$"; t0="$(now)"
  log "building rootfs $r (mmdebstrap minbase: $LAB_PACKAGES)"
  local preseed='[ -x "$1/usr/bin/debconf-set-selections" ] || exit 0; printf "%s\n" "iptables-persistent iptables-persistent/autosave_v4 boolean false" "iptables-persistent iptables-persistent/autosave_v6 boolean false" | chroot "$1" debconf-set-selections'
  if ! mmdebstrap --variant=minbase --mode=root --format=directory --include="$LAB_PACKAGES" \
      --essential-hook="$preseed" "$LAB_SUITE" "$tmp" \
      "deb $LAB_MIRROR $LAB_SUITE main" "deb $LAB_MIRROR $LAB_SUITE-updates main" \
      "deb $LAB_SECURITY_MIRROR $LAB_SUITE-security main" >"$LAB_CACHE/mmdebstrap.log" 2>&1; then
    tail -20 "$LAB_CACHE/mmdebstrap.log" >&2; rm -rf --one-file-system "$tmp"; die "mmdebstrap failed (log: $LAB_CACHE/mmdebstrap.log)"
  fi
  rootfs_customize "$tmp"
  mv "$tmp" "$r"
  echo "$(elapsed "$t0")" >"$r.buildtime"
  log "rootfs built in $(cat "$r.buildtime") s, $(du -sh "$r" | cut -f1)"
  # Prune rootfs builds of other recipes (the lab is down while we hold the lock in 'up'), but keep the
  # newest one: checkouts with different recipes take turns on one machine, and a build costs minutes.
  local o kept=0
  while read -r o; do
    [ -d "$o" ] && [ "$o" != "$r" ] || continue
    case "$o" in *.tmp.*) continue;; esac
    if [ "$kept" = 0 ]; then kept=1; continue; fi
    rm -rf --one-file-system "$o" "$o.buildtime"
  done < <(find "$LAB_CACHE" -mindepth 1 -maxdepth 1 -type d -name 'rootfs-*' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
  echo "$r"
}

# ---------------------------------------------------------------- config parsing
parse_config() { # $1 = hosts.json ; writes $LAB_WORK/{networks,hosts,ifaces}.tsv
  local f="$1" out="$LAB_WORK"
  jq -e . "$f" >/dev/null || die "$f is not valid JSON"
  jq -r '
    def ip2n: split(".") | map(tonumber) | .[0]*16777216 + .[1]*65536 + .[2]*256 + .[3];
    def isip: test("^([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})$") and (split(".")|map(tonumber)|all(. <= 255));
    def iscidr: (split("/")|length==2) and (split("/")[0]|isip) and (split("/")[1]|test("^[0-9]{1,2}$")) and ((split("/")[1]|tonumber) <= 32);
    def net(c): (c|split("/")) as $p | ($p[1]|tonumber) as $l | (if $l==0 then 0 else (pow(2;32) - pow(2;32-$l)) end) as $m
                | [($p[0]|ip2n), $m] ;
    def innet(a; c): net(c) as $n | net(a) as $x | (($x[0] - ($x[0] % pow(2;32-(c|split("/")[1]|tonumber)))) == ($n[0] - ($n[0] % pow(2;32-(c|split("/")[1]|tonumber)))));
    def err(m): error(m);
    . as $root
    | (.networks // err("networks[] missing")) as $nets
    | (.hosts // err("hosts[] missing")) as $hosts
    | ($nets | map(.name)) as $netnames
    | if ($netnames|length) != ($netnames|unique|length) then err("duplicate network names") else . end
    | if ($hosts|map(.name)|length) != ($hosts|map(.name)|unique|length) then err("duplicate host names") else . end
    | if ($hosts|length) > 200 or ($nets|length) > 200 or ([$hosts[].interfaces|length]|max) > 16 then err("too many hosts (200), networks (200) or interfaces per host (16)") else . end
    | if ([$hosts[].interfaces[]?.address|split("/")[0]]|length) != ([$hosts[].interfaces[]?.address|split("/")[0]]|unique|length) then err("duplicate addresses") else . end
    | ($nets | to_entries[] | .value as $n
        | if ($n.name|type)!="string" or ($n.name|test("^[A-Za-z0-9_.-]{1,40}$")|not) then err("bad network name \($n.name)") else . end
        | if ($n.cidr|type)!="string" or ($n.cidr|iscidr|not) then err("bad cidr \($n.cidr) for network \($n.name)") else . end
        | "N\t\(.key)\t\($n.name)\t\($n.cidr)\tbr\(.key)"),
      ($hosts | to_entries[] | .key as $hi | .value as $h
        | if ($h.name|type)!="string" or ($h.name|test("^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$")|not) then err("bad host name \($h.name) (lowercase letters, digits, -)") else . end
        | ($h.kind // "container") as $kind
        | if ($kind != "container" and $kind != "netns-only") then err("host \($h.name): kind must be container or netns-only") else . end
        | if (($h.interfaces // [])|length) == 0 then err("host \($h.name) has no interfaces") else . end
        | if ($h.defaultGateway != null and ($h.defaultGateway|isip|not)) then err("host \($h.name): bad defaultGateway") else . end
        | "H\t\($hi)\t\($h.name)\t\($kind)\t\($h.defaultGateway // "-")\t\(if $h.ipForward == true then 1 else 0 end)\t\(($h.nspawnArgs // []) | map(tostring) | join("\u001f") | if .=="" then "-" else . end)",
          ($h.interfaces | to_entries[] | .key as $ii | .value as $i
            | if ($i.name|type)!="string" or ($i.name|test("^[A-Za-z0-9_.-]{1,15}$")|not) then err("host \($h.name): bad interface name \($i.name)") else . end
            | ($nets | map(.name) | index($i.network)) as $ni
            | if $ni == null then err("host \($h.name) \($i.name): unknown network \($i.network)") else . end
            | if ($i.address|type)!="string" or ($i.address|iscidr|not) then err("host \($h.name) \($i.name): address must be a.b.c.d/len") else . end
            | if (innet($i.address; $nets[$ni].cidr)|not) then err("host \($h.name) \($i.name): \($i.address) is not in \($nets[$ni].cidr)") else . end
            | "I\t\($h.name)\t\($ii)\t\($i.name)\t\($i.network)\t\($i.address)\tbr\($ni)\tv\($hi)i\($ii)"))
  ' "$f" >"$out/config.tsv.tmp" || die "invalid hosts file $f"
  awk -F'\t' '$1=="N"{print $2"\t"$3"\t"$4"\t"$5}' "$out/config.tsv.tmp" >"$out/networks.tsv"
  awk -F'\t' '$1=="H"{print $3"\t"$4"\t"$5"\t"$6"\t"$7"\t"$2}' "$out/config.tsv.tmp" >"$out/hosts.tsv"
  awk -F'\t' '$1=="I"{print $2"\t"$4"\t"$5"\t"$6"\t"$7"\t"$8}' "$out/config.tsv.tmp" >"$out/ifaces.tsv"
  rm -f "$out/config.tsv.tmp"
  [ "$(awk -F'\t' '$2=="netns-only"' "$out/hosts.tsv" | wc -l)" -le 1 ] || die "at most one netns-only (management) host is supported"
}

# hosts.tsv: name kind gw ipforward nspawnArgs idx ; ifaces.tsv: host ifname network addr bridge swveth
host_field()   { awk -F'\t' -v h="$1" -v c="$2" '$1==h{print $c}' "$LAB_WORK/hosts.tsv"; }
host_kind()    { host_field "$1" 2; }
all_hosts()    { cut -f1 "$LAB_WORK/hosts.tsv" 2>/dev/null || true; }
containers()   { awk -F'\t' '$2=="container"{print $1}' "$LAB_WORK/hosts.tsv" 2>/dev/null || true; }
mgmt_host()    { awk -F'\t' '$2=="netns-only"{print $1; exit}' "$LAB_WORK/hosts.tsv" 2>/dev/null || true; }
first_addr()   { awk -F'\t' -v h="$1" '$1==h{split($4,a,"/"); print a[1]; exit}' "$LAB_WORK/ifaces.tsv"; }
host_nets()    { awk -F'\t' -v h="$1" '$1==h{print $3}' "$LAB_WORK/ifaces.tsv"; }
# address of host $1 on network $2 (empty if none)
addr_on()      { awk -F'\t' -v h="$1" -v n="$2" '$1==h && $3==n{split($4,a,"/"); print a[1]; exit}' "$LAB_WORK/ifaces.tsv"; }
require_host() { [ -f "$LAB_WORK/hosts.tsv" ] || die "lab is not up"; [ -n "$(host_kind "$1")" ] || die "unknown host '$1' (hosts: $(all_hosts | tr '\n' ' '))"; }

# ---------------------------------------------------------------- network (lab namespaces only)
ns_add() { # create a netns and record it
  ip netns add "$1"; record "netns $1"
  ip -n "$1" link set lo up
}

net_switch_up() {
  ns_add "$SW_NS"
  ip netns exec "$SW_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  local br
  while IFS=$'\t' read -r _ _ _ br; do
    ip -n "$SW_NS" link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    ip -n "$SW_NS" link set "$br" up
  done <"$LAB_WORK/networks.tsv"
}

net_host_up() { # (re)create the netns of host $1 with its interfaces, addresses and default route
  local h="$1" ns="${LAB_PREFIX}$1" host ifn addr br sw gw fwd
  ns_add "$ns"
  while IFS=$'\t' read -r host ifn _ addr br sw; do
    [ "$host" = "$h" ] || continue
    # The pair is born inside the switch namespace; its peer is created directly in the host's namespace.
    # Fixed MACs (from the host and interface index) so a rebooted host keeps its MAC, like a real NIC,
    # and its neighbours' ARP caches stay valid.
    local hi="${sw#v}"; hi="${hi%%i*}"; local ii="${sw##*i}"
    # After a stop, the kernel removes the old pair when it gets to the deleted namespace (asynchronously, and
    # later on a busy machine): remove the switch side now (the pair goes with it), bounded, or the add fails.
    local i; for i in $(seq 1 50); do
      ip -n "$SW_NS" link show "$sw" >/dev/null 2>&1 || break
      ip -n "$SW_NS" link del "$sw" 2>/dev/null || true; sleep 0.1
    done
    ip -n "$SW_NS" link add "$sw" address "$(printf '02:6c:61:%02x:%02x:02' "$hi" "$ii")" type veth \
      peer name "$ifn" address "$(printf '02:6c:61:%02x:%02x:01' "$hi" "$ii")" netns "$ns"
    ip -n "$SW_NS" link set "$sw" master "$br"
    ip -n "$SW_NS" link set "$sw" up
    ip -n "$ns" addr add "$addr" dev "$ifn"
    ip -n "$ns" link set "$ifn" up
  done <"$LAB_WORK/ifaces.tsv"
  gw="$(host_field "$h" 3)"; fwd="$(host_field "$h" 4)"
  [ "$gw" != "-" ] && ip -n "$ns" route add default via "$gw"
  [ "$fwd" = 1 ] && ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  return 0
}

# ---------------------------------------------------------------- cgroups (one per host, every hierarchy)
cg_bases() { # prints "<mountpoint><our current path>" for every mounted cgroup hierarchy
  local ctrls path mnt
  while IFS=: read -r _ ctrls path; do
    if [ -z "$ctrls" ]; then
      mnt="$(awk '$0 ~ / - cgroup2 /{print $5; exit}' /proc/self/mountinfo)"
    else
      mnt="$(awk -v c="${ctrls%%,*}" '{ for(i=1;i<=NF;i++) if($i=="-") break;
               if($(i+1)!="cgroup") next; n=split($(i+3),o,","); for(j=1;j<=n;j++) if(o[j]==c){print $5; exit} }' /proc/self/mountinfo)"
    fi
    [ -n "$mnt" ] && [ -d "$mnt" ] && echo "${mnt%/}${path%/}"
  done </proc/self/cgroup
}

cg_create() { # $1 host -> writes $LAB_WORK/hosts/$1/cgroups
  local h="$1" b d p out="$LAB_WORK/hosts/$1/cgroups"
  : >"$out"
  while read -r b; do
    d="$b/$LAB_CGNAME"
    if [ ! -d "$d" ]; then mkdir "$d"; record "cgroup $d"; fi
    mkdir -p "$d/$h"
    # cpuset v1: a new cgroup has no cpus/mems until told.
    if [ -f "$d/cpuset.cpus" ]; then
      for p in "$d" "$d/$h"; do
        [ -n "$(cat "$p/cpuset.cpus")" ] || cat "$(dirname "$p")/cpuset.cpus" >"$p/cpuset.cpus"
        [ -n "$(cat "$p/cpuset.mems")" ] || cat "$(dirname "$p")/cpuset.mems" >"$p/cpuset.mems"
      done
    fi
    echo "$d/$h" >>"$out"
  done < <(cg_bases)
}

cg_pids() { # all pids in the cgroup subtrees listed in file $1
  local d
  [ -f "$1" ] || return 0
  # A cgroup that goes away while it is read (a process exiting, systemd tidying up) is not an error:
  # under pipefail a failed find (or a missing last directory) made kill-host exit 1 silently.
  while read -r d; do [ -d "$d" ] || continue; find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; done <"$1" | sort -un
}

cg_remove() { # rmdir the subtrees listed in file $1 (bounded retries, killing stragglers)
  local f="$1" i d left
  [ -f "$f" ] || return 0
  for i in 1 2 3 4 5 6 7 8 9 10; do
    left=0
    while read -r d; do
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [ -d "$d" ] && left=1
    done <"$f"
    [ "$left" = 0 ] && return 0
    cg_pids "$f" | xargs -r kill -KILL 2>/dev/null || true
    sleep 0.3
  done
  log "WARNING: could not remove all cgroups listed in $f"
}

# ---------------------------------------------------------------- containers
is_our_nspawn() { # pid $1 is a systemd-nspawn whose --directory starts with $2
  local c; c="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true)"
  [[ "$c" == *systemd-nspawn*"--directory=$2"* ]]
}
ns_exists() { [ -e "/run/netns/$1" ]; }
nspawn_pid() { # live nspawn leader pid of host $1, or empty
  local f="$LAB_WORK/hosts/$1/nspawn.pid" p
  [ -f "$f" ] || return 0
  p="$(cat "$f")"
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 0
  is_our_nspawn "$p" "$LAB_WORK/hosts/$1/root" && echo "$p"
  return 0
}

init_pid() { # the container's PID 1 (as seen from the root pid namespace)
  local p; p="$(nspawn_pid "$1")"; [ -n "$p" ] || return 0
  pgrep -P "$p" | head -1
}

overlay_up() {
  local h="$1" r="$2" d="$LAB_WORK/hosts/$1"
  mkdir -p "$d/upper" "$d/work" "$d/root"
  mount -t overlay "lab-$h" -o "lowerdir=$r,upperdir=$d/upper,workdir=$d/work" "$d/root"
  record "mount $d/root"
  local root="$d/root"
  echo "$h" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' "$h" >"$root/etc/hosts"
  tr -d '-' </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
  rm -f "$root"/etc/ssh/ssh_host_*
  chroot "$root" ssh-keygen -A >/dev/null
  install -d -m 0700 "$root/root/.ssh"
  install -m 0600 "$LAB_WORK/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  # known_hosts line for the lab client: name and all addresses
  local names; names="$h$(awk -F'\t' -v h="$h" '$1==h{split($4,a,"/"); printf ",%s", a[1]}' "$LAB_WORK/ifaces.tsv")"
  local k; for k in "$root"/etc/ssh/ssh_host_*_key.pub; do echo "$names $(cut -d' ' -f1,2 "$k")"; done >>"$LAB_WORK/known_hosts"
}

launch() { # boot host $1 in the background, in its own cgroups
  local h="$1" d="$LAB_WORK/hosts/$1"
  rm -f "$d/nspawn.pid"
  echo "---- boot $(date -Is)" >>"$d/console.log"
  setsid bash "$SELF" __launch "$h" </dev/null >>"$d/console.log" 2>&1 9>&- &
  disown
  local i; for i in $(seq 1 50); do [ -s "$d/nspawn.pid" ] && break; sleep 0.1; done
  [ -s "$d/nspawn.pid" ] || die "$h: nspawn did not start (see $d/console.log)"
}

__launch() { # internal: runs in the background child; joins the host cgroups, then becomes nspawn
  local h="$1" d="$LAB_WORK/hosts/$1" cg fd extra=()
  for fd in /proc/$$/fd/*; do fd="${fd##*/}"; if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi; done
  while read -r cg; do echo $$ >"$cg/cgroup.procs"; done <"$d/cgroups"
  local a; a="$(host_field "$h" 5)"
  [ "$a" != "-" ] && IFS=$'\x1f' read -r -a extra <<<"$a"
  echo $$ >"$d/nspawn.pid"
  # no image lock files: they would pile up in /run/systemd/nspawn/locks (one per overlay inode)
  export SYSTEMD_NSPAWN_LOCK=0
  # /proc/sys/net writable, as on a real host: the gateway's provisioning turns on ip_forward itself.
  # (The container has its own network namespace, so this touches only the container's network.)
  export SYSTEMD_NSPAWN_API_VFS_WRITABLE=network
  exec systemd-nspawn --quiet --boot --directory="$d/root" --machine="${LAB_PREFIX}$h" --hostname="$h" \
    --network-namespace-path="/run/netns/${LAB_PREFIX}$h" --register=no --keep-unit \
    --capability=CAP_NET_ADMIN,CAP_NET_RAW --link-journal=no --resolv-conf=off --timezone=off \
    --kill-signal=SIGRTMIN+4 --console=read-only "${extra[@]}"
}

in_host() { # run argv inside container $1 (its namespaces and cgroup), reads stdin
  local h="$1"; shift
  local p; p="$(init_pid "$h")"; [ -n "$p" ] || die "$h is not running"
  ( while read -r cg; do echo "$BASHPID" >"$cg/cgroup.procs" 2>/dev/null || true; done <"$LAB_WORK/hosts/$h/cgroups"
    exec nsenter -t "$p" -m -u -i -n -p -C -r -w "${CONTAINER_ENV[@]}" "$@" )
}

ssh_probe() { # ssh key login to host $1; from mgmt when it shares a network, else from the host's own netns
  local h="$1" m n a from=""
  m="$(mgmt_host)"
  if [ -n "$m" ]; then for n in $(host_nets "$h"); do a="$(addr_on "$h" "$n")"; [ -n "$(addr_on "$m" "$n")" ] && { from="${LAB_PREFIX}$m"; break; }; done; fi
  [ -n "$from" ] || { from="${LAB_PREFIX}$h"; a="$(first_addr "$h")"; }
  ip netns exec "$from" ssh "${SSH_OPTS[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$LAB_WORK/known_hosts" \
    -i "$LAB_WORK/id_ed25519" "root@$a" true </dev/null >/dev/null 2>&1
}

wait_ready() { # all given hosts: nspawn alive, systemd running, ssh key login works. Bounded.
  local start=$SECONDS deadline=$((SECONDS + LAB_BOOT_TIMEOUT)) pending=("$@") next h st i=0
  while [ ${#pending[@]} -gt 0 ]; do
    i=$((i + 1))
    [ $SECONDS -lt $deadline ] && [ $i -le $((LAB_BOOT_TIMEOUT * 4)) ] || {
      for h in "${pending[@]}"; do log "$h not ready; console tail:"; tail -15 "$LAB_WORK/hosts/$h/console.log" >&2 || true; done
      die "hosts not ready after ${LAB_BOOT_TIMEOUT}s: ${pending[*]}"; }
    next=()
    for h in "${pending[@]}"; do
      [ -n "$(nspawn_pid "$h")" ] || { tail -30 "$LAB_WORK/hosts/$h/console.log" >&2; die "$h: systemd-nspawn exited during boot"; }
      st="$(in_host "$h" systemctl is-system-running 2>/dev/null </dev/null || true)"
      if { [ "$st" = running ] || [ "$st" = degraded ]; } && ssh_probe "$h"; then
        log "$h ready (systemd $st, ssh ok) after $((SECONDS - start))s"
        [ "$st" = degraded ] && log "$h is up but degraded: $(in_host "$h" systemctl --failed --plain --no-legend </dev/null 2>/dev/null | tr '\n' ';')"
      else next+=("$h"); fi
    done
    pending=("${next[@]+"${next[@]}"}")
    [ ${#pending[@]} -gt 0 ] && sleep 0.25
  done
  return 0
}

stop_hosts() { # graceful poweroff of the given hosts in parallel, bounded, then SIGKILL; removes their netns
  local h p i
  local leaders=(); for h in "$@"; do p="$(nspawn_pid "$h")"; [ -n "$p" ] && leaders+=("$p"); done
  # nspawn turns SIGTERM into SIGRTMIN+4 (poweroff) for the container's systemd. A container still in
  # early boot has no handler yet and drops it, so the request is repeated every 2 s (also sent to its init).
  for i in $(seq 0 $((LAB_STOP_TIMEOUT * 10))); do
    local alive=0
    for h in "$@"; do
      p="$(nspawn_pid "$h")"; [ -n "$p" ] || continue
      alive=1
      if [ $((i % 20)) = 0 ]; then
        kill -TERM "$p" 2>/dev/null || true
        [ "$i" -gt 0 ] && { p="$(pgrep -P "$p" | head -1 || true)"; [ -n "$p" ] && kill -s SIGRTMIN+4 "$p" 2>/dev/null || true; }
      fi
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for h in "$@"; do
    p="$(nspawn_pid "$h")"; [ -n "$p" ] && { log "$h: no clean poweroff in ${LAB_STOP_TIMEOUT}s, SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }
    for i in 1 2 3 4 5 6 7 8 9 10; do
      local left; left="$(cg_pids "$LAB_WORK/hosts/$h/cgroups")"
      [ -z "$left" ] && break
      echo "$left" | xargs -r kill -KILL 2>/dev/null || true; sleep 0.2
    done
    rm -f "$LAB_WORK/hosts/$h/nspawn.pid"
    # the container's systemd leaves its sub-cgroups; clear them so a restart starts clean
    local cg; while read -r cg; do [ -d "$cg" ] && find "$cg" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true; done \
      < <(cat "$LAB_WORK/hosts/$h/cgroups" 2>/dev/null || true)
    ns_del "${LAB_PREFIX}$h"
  done
  # the leaders were reparented to PID 1 when 'up' exited: give it a moment (bounded) to reap the zombies
  for i in $(seq 1 30); do
    local z=0; for p in "${leaders[@]+"${leaders[@]}"}"; do [ -e "/proc/$p" ] && z=1; done
    [ $z = 0 ] && break
    sleep 0.1
  done
}

ns_del() { # kill whatever still runs in netns $1 (bounded), then delete it
  local ns="$1" i pids
  ns_exists "$ns" || return 0
  for i in 1 2 3 4 5; do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"; [ -z "$pids" ] && break
    echo "$pids" | xargs -r kill -KILL 2>/dev/null || true; sleep 0.2
  done
  ip netns del "$ns" 2>/dev/null || log "WARNING: could not delete netns $ns"
}

# ---------------------------------------------------------------- ssh config for the lab client
# The machine's limits a lab of N containers leans on, sized or checked before anything boots, so a
# big site fails here with a message instead of half-booting. Every container's systemd holds inotify
# instances (about 8 each, measured with 7 containers): the kernel's default of 128 per user lets about
# 15 containers boot, and the next one's systemd fails with "Failed to create control group inotify
# object: Too many open files". The limit is raised for the lab's run and put back by `down`.
capacity() { # $1 = number of containers
  local n="$1" used need have key avail_kib need_kib procs pid_max
  # About 100 MiB per booted container was measured; 160 leaves room for nginx, keepalived and the checks.
  avail_kib="$(awk '/^MemAvailable:/{print $2}' /proc/meminfo)"
  need_kib=$(( (160 * n + 512) * 1024 ))
  [ "$avail_kib" -ge "$need_kib" ] || die "this machine cannot hold $n containers: about $(( need_kib / 1024 )) MiB of available memory needed, $(( avail_kib / 1024 )) MiB available"
  procs="$( { find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' 2>/dev/null || true; } | wc -l)"; pid_max="$(sysctl -n kernel.pid_max)"
  [ $(( procs + 100 * n )) -le "$pid_max" ] || die "this machine cannot hold $n containers: about $(( 100 * n )) more processes needed, kernel.pid_max is $pid_max with $procs running"
  # Checked first (above): nothing is raised for a site this machine cannot hold.
  for key in max_user_instances:16 max_user_watches:4096; do
    used=0
    [ "${key%%:*}" = max_user_instances ] && used="$( { find /proc/[0-9]*/fd -lname 'anon_inode:inotify' 2>/dev/null || true; } | wc -l)"
    need=$(( used + ${key#*:} * n ))
    have="$(sysctl -n "fs.inotify.${key%%:*}")"
    if [ "$have" -lt "$need" ]; then
      record "sysctl fs.inotify.${key%%:*} $have"
      sysctl -qw "fs.inotify.${key%%:*}=$need"
      log "fs.inotify.${key%%:*}: $have -> $need for $n containers (put back by down)"
    fi
  done
}

# Puts back every kernel limit `capacity` raised (the first value recorded for each is the original).
restore_limits() {
  [ -f "$STATE" ] || return 0
  local key value
  while read -r key value; do
    sysctl -qw "$key=$value" && log "$key put back to $value"
  done < <(awk '$1=="sysctl" && !seen[$2]++ {print $2, $3}' "$STATE")
}

write_ssh_config() {
  local f="$LAB_WORK/ssh_config" m h n a jump j
  m="$(mgmt_host)"
  { echo "# generated by lab/hosts.sh - use from the management namespace:"
    echo "#   ip netns exec ${LAB_PREFIX}${m:-mgmt} ssh -F $f <host>"
    echo "Host *"
    printf '  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n' \
      "$LAB_WORK/id_ed25519" "$LAB_WORK/known_hosts"
    for h in $(containers); do
      a=""; jump=""
      if [ -n "$m" ]; then for n in $(host_nets "$h"); do [ -n "$(addr_on "$m" "$n")" ] && { a="$(addr_on "$h" "$n")"; break; }; done; fi
      if [ -z "$a" ] && [ -n "$m" ]; then # reach it through a container that sits on both sides
        for j in $(containers); do
          [ "$j" = "$h" ] && continue
          local jm="" jn=""
          for n in $(host_nets "$j"); do [ -n "$(addr_on "$m" "$n")" ] && jm=1; [ -n "$(addr_on "$h" "$n")" ] && jn="$n"; done
          [ -n "$jm" ] && [ -n "$jn" ] && { jump="$j"; a="$(addr_on "$h" "$jn")"; break; }
        done
      fi
      [ -n "$a" ] || a="$(first_addr "$h")"
      printf 'Host %s\n  HostName %s\n' "$h" "$a"
      if [ -n "$jump" ]; then printf '  ProxyJump %s\n' "$jump"; fi
    done
  } >"$f"
}

# ---------------------------------------------------------------- commands
cmd_up() {
  local cfg="${1:-}"; [ -n "$cfg" ] && [ -f "$cfg" ] || die "usage: hosts.sh up <hosts.json>"
  cfg="$(readlink -f "$cfg")"
  [ "$(id -u)" = 0 ] || die "must run as root"
  take_lock
  if [ -e "$STATE" ] || [ -n "$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${LAB_PREFIX}" || true)" ]; then
    die "a lab already exists (state $STATE or ${LAB_PREFIX}* namespaces); run 'hosts.sh down' first"
  fi
  deps
  local t_all t0 r h; t_all="$(now)"
  t0="$(now)"; r="$(rootfs)"; local t_rootfs; t_rootfs="$(elapsed "$t0")"
  # From here on any failure, 'die', Ctrl-C or TERM tears down everything created so far.
  UP_DONE=0; UP_ABORTING=0
  trap up_abort EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
  mkdir -p "$LAB_WORK/hosts"; chmod 0700 "$LAB_WORK"
  record "workdir $LAB_WORK"
  cp "$cfg" "$LAB_WORK/hosts.json"
  parse_config "$LAB_WORK/hosts.json"
  capacity "$(containers | wc -l)"
  echo "$r" >"$LAB_WORK/rootfs"
  ssh-keygen -q -t ed25519 -N '' -C "k8s-ha-edge-lab@$(date +%Y%m%d%H%M%S)" -f "$LAB_WORK/id_ed25519"
  : >"$LAB_WORK/known_hosts"
  t0="$(now)"
  net_switch_up
  for h in $(all_hosts); do mkdir -p "$LAB_WORK/hosts/$h"; record "host $h"; net_host_up "$h"; done
  local t_net; t_net="$(elapsed "$t0")"; local t1; t1="$(now)"
  # per-host overlay + identity (ssh-keygen dominates) in parallel; each job reports its own failure
  local jobs=() fail=0 j
  for h in $(containers); do
    cg_create "$h"
    ( trap - EXIT INT TERM; set -e; overlay_up "$h" "$r" ) >"$LAB_WORK/hosts/$h/prepare.log" 2>&1 &
    jobs+=("$!:$h")
  done
  for j in "${jobs[@]+"${jobs[@]}"}"; do wait "${j%%:*}" || { fail=1; log "${j#*:}: prepare failed:"; cat "$LAB_WORK/hosts/${j#*:}/prepare.log" >&2; }; done
  [ "$fail" = 0 ] || die "host preparation failed"
  write_ssh_config
  local t_prep; t_prep="$(elapsed "$t1")"; t1="$(now)"
  for h in $(containers); do launch "$h"; done
  # shellcheck disable=SC2046
  wait_ready $(containers)
  local t_boot t_nspawn; t_boot="$(elapsed "$t0")"; t_nspawn="$(elapsed "$t1")"
  UP_DONE=1; trap - EXIT INT TERM
  echo "rootfs=$t_rootfs boot=$t_boot" >"$LAB_WORK/timings"
  log "lab up: $(containers | wc -l) containers + $(( $(all_hosts | wc -l) - $(containers | wc -l) )) netns-only host(s); rootfs ${t_rootfs}s, boot+ready ${t_boot}s (network ${t_net}s, overlays+keys ${t_prep}s, nspawn boot to ssh-ready ${t_nspawn}s), total $(elapsed "$t_all")s"
  echo "LAB_KEY=$LAB_WORK/id_ed25519"
  echo "LAB_SSH_CONFIG=$LAB_WORK/ssh_config"
  echo "LAB_KNOWN_HOSTS=$LAB_WORK/known_hosts"
  echo "LAB_MGMT_NETNS=${LAB_PREFIX}$(mgmt_host)"
  echo "LAB_TIMINGS=rootfs:${t_rootfs}s,boot:${t_boot}s"
}

up_abort() {
  local rc=$?
  if [ "${UP_DONE:-1}" = 1 ] || [ "${UP_ABORTING:-0}" = 1 ]; then return 0; fi
  UP_ABORTING=1; set +e
  log "up failed (rc=$rc): tearing down everything it created"
  cmd_down_locked
  exit 1
}

cmd_down() { [ "$(id -u)" = 0 ] || die "must run as root"; take_lock; cmd_down_locked; }

cmd_down_locked() {
  local t0 h p f m ns; t0="$(now)"
  # 1. containers: everything with a host dir, plus any stray nspawn of ours (found by its --directory)
  local hosts=(); if [ -d "$LAB_WORK/hosts" ]; then for f in "$LAB_WORK"/hosts/*/; do [ -d "$f" ] && hosts+=("$(basename "$f")"); done; fi
  [ ${#hosts[@]} -gt 0 ] && stop_hosts "${hosts[@]}"
  for p in $(pgrep -x systemd-nspawn 2>/dev/null || true); do
    if is_our_nspawn "$p" "$LAB_WORK/"; then log "killing stray nspawn $p"; kill -KILL "$p" 2>/dev/null || true; fi
  done
  # 2. overlay (and any other) mounts under the work dir, deepest first
  for m in $(awk -v w="$LAB_WORK/" 'index($5, w)==1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "WARNING: cannot unmount $m"
  done
  # 3. cgroups: recorded ones, plus a bounded sweep for our cgroup name
  { [ -f "$STATE" ] && awk '$1=="cgroup"{print $2}' "$STATE"
    find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -type d -name "$LAB_CGNAME" 2>/dev/null; } | sort -u >"/tmp/.lab-cg.$$" || true
  cg_remove "/tmp/.lab-cg.$$"; rm -f "/tmp/.lab-cg.$$"
  # 4. namespaces: recorded ones and every namespace with the lab prefix (the prefix is reserved for the lab)
  for ns in $( { [ -f "$STATE" ] && awk '$1=="netns"{print $2}' "$STATE"; ip netns list 2>/dev/null | awk '{print $1}' | grep "^${LAB_PREFIX}"; } | sort -u); do
    ns_del "$ns"
  done
  # 5. nspawn runtime leftovers for our machine names
  rm -rf --one-file-system /run/systemd/nspawn/propagate/"${LAB_PREFIX}"* /run/systemd/nspawn/unix-export/"${LAB_PREFIX}"* 2>/dev/null || true
  # 6. the kernel limits the lab raised, back to what they were
  restore_limits
  # 7. the work dir (refuse if anything is still mounted below it)
  if [ -d "$LAB_WORK" ]; then
    if [ -n "$(awk -v w="$LAB_WORK/" 'index($5, w)==1' /proc/self/mountinfo)" ]; then
      log "WARNING: mounts remain under $LAB_WORK; not removing it"
    else rm -rf --one-file-system "$LAB_WORK"; fi
  fi
  log "down done in $(elapsed "$t0")s"
}

cmd_status() {
  local h k p mem
  echo "work dir: $LAB_WORK $( [ -d "$LAB_WORK" ] && echo '(exists)' || echo '(absent)')"
  echo "rootfs:   $(cat "$LAB_WORK/rootfs" 2>/dev/null || rootfs_path) $( [ -d "$(rootfs_path)" ] && echo '(cached)' || echo '(not built)')"
  echo "netns:    $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${LAB_PREFIX}" | tr '\n' ' ')"
  echo "mounts:   $(awk -v w="$LAB_WORK/" 'index($5, w)==1{print $5}' /proc/self/mountinfo | wc -l) under $LAB_WORK"
  echo "nspawn:   $(for p in $(pgrep -x systemd-nspawn || true); do is_our_nspawn "$p" "$LAB_WORK/" && echo -n "$p "; done)"
  echo "cgroups:  $(find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -type d -name "$LAB_CGNAME" 2>/dev/null | wc -l) '$LAB_CGNAME' dirs"
  [ -f "$LAB_WORK/hosts.tsv" ] || return 0
  echo "key:      $LAB_WORK/id_ed25519   ssh_config: $LAB_WORK/ssh_config"
  printf '%-10s %-11s %-9s %-8s %-9s %s\n' HOST KIND STATE PID MEM_MiB ADDRESSES
  for h in $(all_hosts); do
    k="$(host_kind "$h")"; p="-"; mem="-"
    if [ "$k" = container ]; then
      p="$(nspawn_pid "$h")"
      if [ -n "$p" ]; then st=running
        local mcg; mcg="$(grep '/memory/' "$LAB_WORK/hosts/$h/cgroups" 2>/dev/null | head -1)"
        [ -n "$mcg" ] && mem="$(awk '$1=="total_rss"{r=$2} $1=="total_cache"{c=$2} END{printf "%.0f+%.0fc", r/1048576, c/1048576}' "$mcg/memory.stat")"
      else st=stopped; p="-"; fi
    else st="$(ns_exists "${LAB_PREFIX}$h" && echo netns || echo absent)"; fi
    printf '%-10s %-11s %-9s %-8s %-9s %s\n' "$h" "$k" "$st" "$p" "$mem" \
      "$(awk -F'\t' -v h="$h" '$1==h{printf "%s=%s ", $2, $4}' "$LAB_WORK/ifaces.tsv")"
  done
}

cmd_exec() {
  local h="${1:-}"; [ -n "$h" ] || die "usage: hosts.sh exec <host> <cmd...>"; shift
  [ $# -gt 0 ] || die "usage: hosts.sh exec <host> <cmd...>"
  require_host "$h"
  # like ssh: the arguments are joined into one shell command line
  if [ "$(host_kind "$h")" = netns-only ]; then exec ip netns exec "${LAB_PREFIX}$h" "${CONTAINER_ENV[@]}" /bin/sh -c "$*"; fi
  in_host "$h" /bin/sh -c "$*"
}

cmd_ssh() {
  local h="${1:-}"; [ -n "$h" ] || die "usage: hosts.sh ssh <host> [cmd...]"; shift
  require_host "$h"; local m; m="$(mgmt_host)"; [ -n "$m" ] || die "no netns-only management host in the config"
  exec ip netns exec "${LAB_PREFIX}$m" ssh -F "$LAB_WORK/ssh_config" "$h" "$@"
}

cmd_switch() { # e.g. a filter on the bridges that rewrites what crosses them (lab/checks.ts)
  [ $# -gt 0 ] || die "usage: hosts.sh switch <cmd...>"
  [ -e "/run/netns/$SW_NS" ] || die "lab is not up"
  exec ip netns exec "$SW_NS" "${CONTAINER_ENV[@]}" /bin/sh -c "$*"
}

cmd_stop_host() {
  local h="${1:-}"; require_host "$h"; [ "$(host_kind "$h")" = container ] || die "$h is not a container"
  take_lock
  [ -n "$(nspawn_pid "$h")" ] || { log "$h already stopped"; ns_del "${LAB_PREFIX}$h"; return 0; }
  local t0; t0="$(now)"; stop_hosts "$h"; log "$h stopped in $(elapsed "$t0")s"
}

cut_cables() { # every link of host $1 down at the switch side: its peers see the carrier go, nothing more passes
  local h="$1" host sw
  while IFS=$'\t' read -r host _ _ _ _ sw; do
    [ "$host" = "$h" ] || continue
    ip -n "$SW_NS" link set "$sw" down
    # Checked, not assumed: a link still up would let the host forward after its "power loss".
    ip -n "$SW_NS" -o link show "$sw" | grep -q 'state DOWN' || die "$h: link $sw still up after cutting it"
  done <"$LAB_WORK/ifaces.tsv"
}

cmd_kill_host() { # power loss: every process of the host SIGKILLed at once: no shutdown, no goodbye advert
  local h="${1:-}"; require_host "$h"; [ "$(host_kind "$h")" = container ] || die "$h is not a container"
  take_lock
  local p; p="$(nspawn_pid "$h")"
  [ -n "$p" ] || { log "$h already stopped"; ns_del "${LAB_PREFIX}$h"; return 0; }
  local pids; pids="$(cg_pids "$LAB_WORK/hosts/$h/cgroups")"
  # The cables first: a host that loses power stops forwarding at that instant. Its kernel would otherwise
  # go on forwarding (and answering with resets) after its processes die, until the kernel gets round to
  # removing its namespace, which on a busy machine is long after the VIP has moved.
  cut_cables "$h"
  # shellcheck disable=SC2086
  kill -KILL "$p" $pids 2>/dev/null || true
  stop_hosts "$h"   # reaps what is left, clears the cgroups, removes the netns (the cable)
  log "$h lost power"
}

cmd_start_host() {
  local h="${1:-}"; require_host "$h"; [ "$(host_kind "$h")" = container ] || die "$h is not a container"
  take_lock
  [ -z "$(nspawn_pid "$h")" ] || { log "$h already running"; return 0; }
  local t0; t0="$(now)"
  ns_del "${LAB_PREFIX}$h"
  net_host_up "$h"
  launch "$h"
  wait_ready "$h"
  log "$h started in $(elapsed "$t0")s"
}

cmd_env() {
  echo "LAB_WORK=$LAB_WORK"; echo "LAB_KEY=$LAB_WORK/id_ed25519"; echo "LAB_SSH_CONFIG=$LAB_WORK/ssh_config"
  echo "LAB_KNOWN_HOSTS=$LAB_WORK/known_hosts"; echo "LAB_PREFIX=$LAB_PREFIX"; echo "LAB_MGMT_NETNS=${LAB_PREFIX}$(mgmt_host)"
}

main() {
  local c="${1:-}"; shift || true
  case "$c" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    exec) cmd_exec "$@" ;;
    ssh) cmd_ssh "$@" ;;
    switch) cmd_switch "$@" ;;
    stop-host) cmd_stop_host "$@" ;;
    kill-host) cmd_kill_host "$@" ;;
    start-host) cmd_start_host "$@" ;;
    env) cmd_env ;;
    deps) deps ;;
    rootfs) deps; take_lock; rootfs ;;
    __launch) __launch "$@" ;;
    *) sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}
main "$@"
