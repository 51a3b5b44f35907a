# shellcheck shell=bash
# Run where terraform runs: creates a short-lived token on the master (MASTER_SSH, user@address) and
# pipes the join command (MASTER_COMMAND) straight to the worker's join script (WORKER_SSH,
# WORKER_COMMAND), so the token exists only in the pipe and in the cluster, and expires after its TTL.
# The same for every worker: the worker's resource gives what is the worker's own in the environment
# (WORKER_NAME, WORKER_SSH, WORKER_COMMAND, WORKER_HOST_KEY and, when a host key is known,
# KNOWN_HOSTS_FILE). MASTER_HOST_KEY / WORKER_HOST_KEY: 'known' checks the host strictly against
# KNOWN_HOSTS_FILE (a path, relative to the current directory or absolute), 'unknown' trusts it on
# first use.
: "${MASTER_SSH:?}" "${MASTER_HOST_KEY:?}" "${MASTER_COMMAND:?}"
: "${WORKER_NAME:?set by the local-exec of the worker resource}"
: "${WORKER_SSH:?set by the local-exec of the worker resource}"
: "${WORKER_COMMAND:?set by the local-exec of the worker resource}"
: "${WORKER_HOST_KEY:?set by the local-exec of the worker resource}"
: "${SSH_PRIVATE_KEY_PATH:?set SSH_PRIVATE_KEY_PATH to the private key for the hosts}"
for mode in "$MASTER_HOST_KEY" "$WORKER_HOST_KEY"; do
  case $mode in
    unknown) ;;
    known) : "${KNOWN_HOSTS_FILE:?set by the local-exec of the worker resource when a host key is known}" ;;
    *) echo "join-from-master.sh: got host key mode '$mode', expected known or unknown" >&2; exit 1 ;;
  esac
done
known_hosts=${KNOWN_HOSTS_FILE:-}
if [ -n "$known_hosts" ] && [ "${known_hosts#/}" = "$known_hosts" ]; then known_hosts="$PWD/$known_hosts"; fi
# host_key_options known|unknown: sets options to ssh's options for a host whose key the topology gives, or does not.
host_key_options() {
  if [ "$1" = known ]; then
    options=(-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known_hosts" -o GlobalKnownHostsFile=/dev/null)
  else
    options=(-o StrictHostKeyChecking=accept-new)
  fi
}
host_key_options "$MASTER_HOST_KEY"
master_options=("${options[@]}")
host_key_options "$WORKER_HOST_KEY"
worker_options=("${options[@]}")
ssh_to() {
  ssh -i "$SSH_PRIVATE_KEY_PATH" -o BatchMode=yes -o ConnectTimeout=10 "$@"
}
to_worker() { ssh_to "${worker_options[@]}" "$WORKER_SSH" "$@"; }
to_master() { ssh_to "${master_options[@]}" "$MASTER_SSH" "$@"; }
# The worker decides whether it has joined (join-worker.sh --joined: 0 yes, 3 a join is needed); anything
# else (unreachable, the API server not answering) stops here, before a token is created.
if to_worker "$WORKER_COMMAND" --joined; then
  echo "$WORKER_NAME has already joined"
  exit 0
else
  status=$?
fi
if [ "$status" != 3 ]; then
  echo "join-from-master.sh: could not tell whether $WORKER_NAME has joined (exit $status); nothing was changed" >&2
  exit 1
fi
to_master "$MASTER_COMMAND" \
  | to_worker "$WORKER_COMMAND"
