# shellcheck shell=bash
# What the bare-namespace selftests share (sourced by lab/in-flight-selftest.sh and
# lab/gateway-handoff-selftest.sh): namespaces named "${P}<name>", created and removed together (also on
# failure: make_namespaces sets the EXIT trap), a pass/FAIL line per check, and the counts.
# The caller sets P (a prefix unique to the run) before make_namespaces.
passed=0; failed=0
NAMESPACES=()

remove_namespaces() {
  local n
  for n in "${NAMESPACES[@]}"; do
    ip netns pids "${P}$n" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "${P}$n" 2>/dev/null
  done
  wait 2>/dev/null
  return 0
}

# make_namespaces NAME...: each with lo up; all of them removed when the script exits.
make_namespaces() {
  local n
  NAMESPACES=("$@")
  trap remove_namespaces EXIT
  for n in "$@"; do ip netns add "${P}$n"; ip -n "${P}$n" link set lo up; done
}

check() { # check NAME CONDITION-EXIT-CODE DETAIL
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "pass  $1: $3"; else failed=$((failed + 1)); echo "FAIL  $1: $3"; fi
}

inns() { local n="$1"; shift; ip netns exec "${P}$n" "$@"; }
