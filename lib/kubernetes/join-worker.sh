# shellcheck shell=bash
# Run on a worker, the same on every worker: reads a join command on stdin (created on the master a
# moment before, never stored), checks that it verifies the CA, and joins under the node name given as
# the first argument, unless the node has joined already.
# Joined means: the kubelet's credentials (KUBELET_KUBECONFIG) exist and the API server knows the node
# under that name (asked with those credentials). A join that did not finish (what it left: the
# cluster's CA at JOIN_CA_FILE, the kubelet's config at KUBELET_CONFIG with the kubelet holding port
# 10250, or credentials of a node the cluster does not know) would fail kubeadm's preflight forever: it
# is removed with kubeadm reset first. When the API server cannot be asked, nothing is changed.
# `join-worker.sh NODE_NAME --joined` only answers: exit 0 joined, 3 a join is needed, 1 cannot tell.
# A join command is followed only when it names CONTROL_PLANE_ENDPOINT (host:port): the worker's
# kubelet then reaches the API through the endpoint (the load balancers' VIP by default), never
# through one control-plane node's own address, whatever the master's kubeconfig says.
: "${KUBELET_KUBECONFIG:?}" "${JOIN_CA_FILE:?}" "${KUBELET_CONFIG:?}" "${CONTROL_PLANE_ENDPOINT:?}"
NODE_NAME=${1:?usage: join-worker.sh NODE_NAME [--joined]}
if ! [[ $NODE_NAME =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "join-worker.sh: got node name '$NODE_NAME', expected a lowercase RFC 1123 label" >&2
  exit 1
fi
case ${2:-} in
  '' | --joined) ;;
  *) echo "join-worker.sh: got '$2', expected --joined or nothing after the node name" >&2; exit 1 ;;
esac

# join_state: sets state to joined, unfinished (something of a join is here, but no registered node) or none;
# returns 1 when the API server could not be asked (three tries, 5 s apart).
join_state() {
  local attempt registered
  if [ -f "$KUBELET_KUBECONFIG" ]; then
    for attempt in 1 2 3; do
      # --ignore-not-found: an unknown node is an empty answer; a failure to ask is an error.
      if registered=$(kubectl --kubeconfig "$KUBELET_KUBECONFIG" get node "$NODE_NAME" --ignore-not-found -o name); then
        if [ -n "$registered" ]; then state=joined; else state=unfinished; fi
        return 0
      fi
      if [ "$attempt" -lt 3 ]; then sleep 5; fi
    done
    return 1
  fi
  if [ -e "$JOIN_CA_FILE" ] || [ -e "$KUBELET_CONFIG" ]; then state=unfinished; else state=none; fi
}

if ! join_state; then
  echo "join-worker.sh: $NODE_NAME has kubelet credentials ($KUBELET_KUBECONFIG) but the API server could not be asked whether it knows the node; nothing was changed. Run again once the control plane answers (or kubeadm reset -f on $NODE_NAME to join it anew)" >&2
  exit 1
fi
if [ "${2:-}" = --joined ]; then
  if [ "$state" = joined ]; then exit 0; fi
  exit 3
fi
if [ "$state" = joined ]; then
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
if [ "${join_args[2]}" != "$CONTROL_PLANE_ENDPOINT" ]; then
  echo "join-worker.sh: got a join command through ${join_args[2]}, expected one through the control-plane endpoint $CONTROL_PLANE_ENDPOINT (kubernetes.controlPlaneEndpoint); nothing was changed" >&2
  exit 1
fi
if [ "$state" = unfinished ]; then
  echo "join-worker.sh: an earlier join of $NODE_NAME did not finish; kubeadm reset, then join again" >&2
  kubeadm reset -f
fi
"${join_args[@]}" --node-name "$NODE_NAME"
