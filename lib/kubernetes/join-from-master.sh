# shellcheck shell=bash
# Run where terraform runs: creates a short-lived token on the master (MASTER_SSH, user@address) and
# pipes the join command (MASTER_COMMAND) straight to the worker's join script (WORKER_SSH,
# WORKER_COMMAND), so the token exists only in the pipe and in the cluster, and expires after its TTL.
# MASTER_HOST_KEY / WORKER_HOST_KEY: 'known' checks the host strictly against KNOWN_HOSTS_FILE
# beside this script, 'unknown' trusts it on first use. WORKER_NAME: the worker; KUBELET_KUBECONFIG:
# exists on it once it has joined.
: "${WORKER_NAME:?}" "${KUBELET_KUBECONFIG:?}" "${MASTER_SSH:?}" "${WORKER_SSH:?}"
: "${MASTER_HOST_KEY:?}" "${WORKER_HOST_KEY:?}" "${KNOWN_HOSTS_FILE:?}" "${MASTER_COMMAND:?}" "${WORKER_COMMAND:?}"
: "${SSH_PRIVATE_KEY_PATH:?set SSH_PRIVATE_KEY_PATH to the private key for the hosts}"
known_hosts="$(cd "$(dirname "$0")" && pwd)/$KNOWN_HOSTS_FILE"
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
if to_worker test -f "$KUBELET_KUBECONFIG"; then
  echo "$WORKER_NAME has already joined"
  exit 0
fi
to_master "$MASTER_COMMAND" \
  | to_worker "$WORKER_COMMAND"
