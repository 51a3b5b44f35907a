# shellcheck shell=bash
# kubeadm init from kubeadm-config.yaml with the installed kubeadm's version, unless the cluster exists
# (then check-cluster.sh fails on every setting kubeadm would silently leave as it is), and the admin
# kubeconfig for root and SSH_USER. Flannel follows in apply-flannel.sh.
# Whether the cluster exists is decided by its health, not by ADMIN_KUBECONFIG: kubeadm writes that file
# before the control plane is up, so after a failed init it exists with no cluster behind it. The cluster
# exists when the API server answers /readyz on API_SERVER_PORT and kubeadm's kubeadm-config ConfigMap is
# there (kubeadm uploads it only once the control plane runs). What a failed init left (ADMIN_KUBECONFIG,
# the static Pod manifests in MANIFESTS_DIR) is then removed by kubeadm reset and init runs again.
# INIT_MARKER is written once init has finished: a control plane that did finish is never reset, even
# while it does not answer (it is reported instead); READYZ_ATTEMPTS x 5 s is how long a starting API
# server (after a reboot) gets to answer. INIT_STARTED_MARKER is written just before kubeadm init: only
# leftovers of an init this script started are reset by itself. Leftovers without either marker (a
# control plane made by hand, or by a version of this tool before the markers, whose API server happens
# to be down) are reported and left alone: a reset there could delete a cluster in use.
# KUBEADM_VERSION_PLACEHOLDER: what kubeadm-config.yaml says in place of the version;
# APPLIED_KUBEADM_CONFIG: kubeadm-config.yaml with the version filled in.
: "${ADMIN_KUBECONFIG:?}" "${KUBEADM_VERSION_PLACEHOLDER:?}" "${APPLIED_KUBEADM_CONFIG:?}" "${SSH_USER:?}"
: "${API_SERVER_PORT:?}" "${MANIFESTS_DIR:?}" "${INIT_MARKER:?}" "${INIT_STARTED_MARKER:?}" "${READYZ_ATTEMPTS:?}"

api_ready() {
  curl -fsk --max-time 5 "https://127.0.0.1:$API_SERVER_PORT/readyz" >/dev/null 2>&1
}
# Something of an earlier init is on this host (kubeadm's preflight would refuse a new one).
init_leftovers() {
  [ -f "$ADMIN_KUBECONFIG" ] || [ -n "$(ls -A "$MANIFESTS_DIR" 2>/dev/null)" ]
}

# Leftovers that no unfinished init of this script explains: refused, never reset.
not_ours() {
  echo "init-master.sh: $1, and no init of this script was started here ($INIT_STARTED_MARKER is missing): nothing was changed (a reset could delete a cluster in use). If these are what a failed kubeadm init left, run 'kubeadm reset -f' on this host and apply again" >&2
  exit 1
}

state=none
if init_leftovers; then
  ready=no
  for ((attempt = 1; attempt <= READYZ_ATTEMPTS; attempt++)); do
    if api_ready; then ready=yes; break; fi
    if [ "$attempt" -lt "$READYZ_ATTEMPTS" ]; then sleep 5; fi
  done
  if [ "$ready" = yes ]; then
    # --ignore-not-found: "not there" is an empty answer; any other failure (API, credentials) is an error.
    if ! uploaded=$(kubectl --kubeconfig "$ADMIN_KUBECONFIG" -n kube-system get configmap kubeadm-config --ignore-not-found -o name); then
      echo "init-master.sh: the API server answers /readyz, but kubeadm's kubeadm-config ConfigMap cannot be read with $ADMIN_KUBECONFIG; nothing was changed (not resetting a control plane that may be in use)" >&2
      exit 1
    fi
    if [ -n "$uploaded" ]; then state=running
    elif [ -f "$INIT_STARTED_MARKER" ]; then state=unfinished
    else not_ours "an API server answers /readyz on port $API_SERVER_PORT without kubeadm's kubeadm-config ConfigMap"
    fi
  elif [ -f "$INIT_MARKER" ]; then
    echo "init-master.sh: this control plane was initialised (${INIT_MARKER}) but its API server does not answer https://127.0.0.1:$API_SERVER_PORT/readyz; nothing was changed (a reset would delete the cluster). See journalctl -u kubelet and crictl ps -a on this host" >&2
    exit 1
  elif [ -f "$INIT_STARTED_MARKER" ]; then
    state=unfinished
  else
    not_ours "$ADMIN_KUBECONFIG or static Pod manifests in $MANIFESTS_DIR are here but no API server answers https://127.0.0.1:$API_SERVER_PORT/readyz"
  fi
fi

if [ "$state" = running ]; then
  # kubeadm init would not run again, so a changed setting would "succeed" unmade.
  bash ./check-cluster.sh
  # A cluster made before the marker existed gets it now: from here on it is never reset by a re-apply.
  if [ ! -f "$INIT_MARKER" ]; then install -D -m 0644 /dev/null "$INIT_MARKER"; fi
else
  if [ "$state" = unfinished ]; then
    echo "init-master.sh: an earlier kubeadm init did not finish (no running control plane with kubeadm's ConfigMap); kubeadm reset, then init again" >&2
    kubeadm reset -f
  fi
  rm -f "$INIT_MARKER"
  kubeadm_version=$(kubeadm version -o short)
  if ! [[ $kubeadm_version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "init-master.sh: unexpected kubeadm version \"$kubeadm_version\"" >&2
    exit 1
  fi
  sed "s/$KUBEADM_VERSION_PLACEHOLDER/$kubeadm_version/" kubeadm-config.yaml > "$APPLIED_KUBEADM_CONFIG"
  grep -qx "kubernetesVersion: \"$kubeadm_version\"" "$APPLIED_KUBEADM_CONFIG"
  install -D -m 0644 /dev/null "$INIT_STARTED_MARKER"
  # --skip-token-print: the join token is created per worker at apply time, never logged here.
  kubeadm init --config "$APPLIED_KUBEADM_CONFIG" --skip-token-print
  install -D -m 0644 /dev/null "$INIT_MARKER"
  rm -f "$INIT_STARTED_MARKER"
fi
install -d -m 0700 /root/.kube
install -m 0600 "$ADMIN_KUBECONFIG" /root/.kube/config
if [ "$SSH_USER" != root ]; then
  install -d -m 0700 -o "$SSH_USER" "/home/$SSH_USER/.kube"
  install -m 0600 -o "$SSH_USER" "$ADMIN_KUBECONFIG" "/home/$SSH_USER/.kube/config"
fi
