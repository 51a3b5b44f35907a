# shellcheck shell=bash
# One node's part of `npm run upgrade` (ops/upgrade.ts), as root, after the repository of the target
# minor above: `upgrade-node PHASE ROLE [VERSION]`, VERSION x.y.z.
#   kubeadm  kubeadm moved to VERSION (the newest of the minor when empty), then, on the control-plane
#            node (ROLE first-control-plane), `kubeadm upgrade apply` unless the API server runs that
#            version already; on any other node (ROLE node), `kubeadm upgrade node`.
#   kubelet  kubelet and kubectl moved to VERSION (required), the kubelet restarted.
# The last line says what is installed now: `kubeadm=vX.Y.Z` or `kubelet=vX.Y.Z`. Each step does nothing
# when it is done already, so a run that failed half-way is run again as it is.
# KUBEADM_VERSION_REGEX: matches the kubeadm versions kubernetes.version (KUBERNETES_VERSION) means.
: "${KUBERNETES_VERSION:?}" "${KUBEADM_VERSION_REGEX:?}" "${ADMIN_KUBECONFIG:?}"
PHASE=${1:-}
ROLE=${2:-}
VERSION=${3:-}
case "$PHASE/$ROLE" in
  kubeadm/first-control-plane | kubeadm/node | kubelet/first-control-plane | kubelet/node) ;;
  *) echo "usage: upgrade-node kubeadm|kubelet first-control-plane|node [VERSION]; got '$PHASE' '$ROLE'" >&2; exit 2 ;;
esac
if [ -n "$VERSION" ] && ! [[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "upgrade-node: VERSION: got '$VERSION', expected x.y.z" >&2
  exit 2
fi

case "$PHASE" in
  kubeadm)
    move kubeadm
    installed=$(kubeadm version -o short)
    if ! [[ $installed =~ $KUBEADM_VERSION_REGEX ]]; then
      echo "upgrade-node: kubeadm $installed is installed after the move, but kubernetes.version is $KUBERNETES_VERSION (the repository does not have it?)" >&2
      exit 1
    fi
    if [ "$ROLE" = first-control-plane ]; then
      server=$(kubectl --kubeconfig "$ADMIN_KUBECONFIG" get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
      if [ "$server" != "$installed" ]; then
        # The plan first: it refuses (and says why) what apply would refuse, before anything changes.
        kubeadm upgrade plan "$installed"
        kubeadm upgrade apply -y "$installed"
      fi
    else
      kubeadm upgrade node
    fi
    echo "kubeadm=$installed"
    ;;
  kubelet)
    if [ -z "$VERSION" ]; then
      echo "upgrade-node: kubelet needs VERSION (the control plane's)" >&2
      exit 2
    fi
    move kubelet kubectl
    systemctl daemon-reload
    systemctl restart kubelet
    echo "kubelet=$(kubelet --version | awk '{print $2}')"
    ;;
esac
