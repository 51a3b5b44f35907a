# shellcheck shell=bash
# Run on a worker, the same on every worker: reads a join command on stdin (created on the master a
# moment before, never stored), checks that it verifies the CA, and joins under the node name given as
# the first argument, unless the node has joined already (KUBELET_KUBECONFIG, the kubelet's
# credentials, exists).
: "${KUBELET_KUBECONFIG:?}"
NODE_NAME=${1:?usage: join-worker.sh NODE_NAME}
if ! [[ $NODE_NAME =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "join-worker.sh: got node name '$NODE_NAME', expected a lowercase RFC 1123 label" >&2
  exit 1
fi
if [ -f "$KUBELET_KUBECONFIG" ]; then
  echo "$NODE_NAME has already joined"
  exit 0
fi
IFS= read -r join_command
pattern='^kubeadm join [^ ]+ --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} *$'
if ! [[ $join_command =~ $pattern ]]; then
  echo 'join-worker.sh: expected a join command that verifies the CA hash on stdin' >&2
  exit 1
fi
read -r -a join_args <<<"$join_command"
"${join_args[@]}" --node-name "$NODE_NAME"
