# shellcheck shell=bash
# etcd-restore SNAPSHOT [PKI_TAR]: the control-plane node's etcd put back to SNAPSHOT (docs/runbook.md,
# "Restoring the control plane from an etcd backup"), as etcd's disaster recovery and kubeadm's layout ask:
# the backup's PKI extracted into KUBERNETES_DIR only when the node has none (never over the node's own);
# the control plane stopped (its static Pod manifests moved from MANIFESTS_DIR to STOPPED_DIR) and waited
# for; the current ETCD_DATA_DIR kept as <dir>.before-restore-<UTC time>; `etcdutl snapshot restore` run
# in the etcd image of the node's own manifest (with its --name, --initial-cluster and
# --initial-advertise-peer-urls) through containerd's ctr; the manifests put back and the kubelet
# restarted. Retryable: a run stopped half-way leaves the manifests in STOPPED_DIR and a marker beside the
# data directory; the next run finds them, drops its own half-restored directory and restores again.
: "${KUBERNETES_DIR:?}" "${MANIFESTS_DIR:?}" "${STOPPED_DIR:?}" "${ETCD_DATA_DIR:?}" "${CRI_ENDPOINT:?}" "${CONTAINERD_ADDRESS:?}"
snapshot="${1:-}"
pki_tar="${2:-}"
if [ -z "$snapshot" ] || [ ! -f "$snapshot" ]; then echo "etcd-restore: SNAPSHOT: got '$snapshot', expected the backup's snapshot.db (usage: etcd-restore SNAPSHOT [PKI_TAR])" >&2; exit 2; fi
if [ -n "$pki_tar" ] && [ ! -f "$pki_tar" ]; then echo "etcd-restore: PKI_TAR: got '$pki_tar', expected the backup's pki.tar" >&2; exit 2; fi
snapshot="$(cd "$(dirname "$snapshot")" && pwd -P)/$(basename "$snapshot")"
cri() { crictl --runtime-endpoint "$CRI_ENDPOINT" "$@"; }
k8s_ctr() { ctr --address "$CONTAINERD_ADDRESS" --namespace k8s.io "$@"; }

if [ -n "$pki_tar" ]; then
  if [ -e "$KUBERNETES_DIR/pki/ca.crt" ]; then
    echo "etcd-restore: $KUBERNETES_DIR/pki/ca.crt exists: the node's own PKI is kept, the backup's is not written over it" >&2
  else
    install -d -m 0755 "$KUBERNETES_DIR"
    tar -C "$KUBERNETES_DIR" -xf "$pki_tar" pki
  fi
fi

manifest="$MANIFESTS_DIR/etcd.yaml"
[ -f "$manifest" ] || manifest="$STOPPED_DIR/etcd.yaml"
if [ ! -f "$manifest" ]; then echo "etcd-restore: no etcd.yaml in $MANIFESTS_DIR or $STOPPED_DIR: is this the kubeadm control-plane node?" >&2; exit 1; fi
image="$(awk '$1 == "image:" { print $2; exit }' "$manifest")"
flag() { awk -v f="--$1=" 'index($0, f) { sub(".*" f, ""); sub(/["[:space:]].*/, ""); print; exit }' "$manifest"; }
name="$(flag name)" cluster="$(flag initial-cluster)" peer="$(flag initial-advertise-peer-urls)"
if [ -z "$image" ] || [ -z "$name" ] || [ -z "$cluster" ] || [ -z "$peer" ]; then
  echo "etcd-restore: $manifest: got image '$image', --name '$name', --initial-cluster '$cluster', --initial-advertise-peer-urls '$peer'; expected all four" >&2
  exit 1
fi

echo "etcd-restore: stopping the control plane (manifests to $STOPPED_DIR)" >&2
install -d -m 0700 "$STOPPED_DIR"
for m in "$MANIFESTS_DIR"/*.yaml; do
  if [ -e "$m" ]; then mv -f "$m" "$STOPPED_DIR/"; fi
done
# The kubelet stops a static Pod whose manifest is gone, within about 20 s: waited for at most 120 s.
for _ in $(seq 1 60); do
  [ -z "$(cri ps --name '^(etcd|kube-apiserver)$' -q)" ] && break
  sleep 2
done
if [ -n "$(cri ps --name '^(etcd|kube-apiserver)$' -q)" ]; then echo "etcd-restore: etcd or the API server still runs after 120 s; the manifests stay in $STOPPED_DIR" >&2; exit 1; fi

marker="$ETCD_DATA_DIR.k8s-ha-edge-restoring"
if [ -e "$marker" ]; then
  # This script's own half-restored directory from a run stopped after the marker: not the cluster's data.
  rm -rf "$ETCD_DATA_DIR"
elif [ -e "$ETCD_DATA_DIR" ]; then
  kept="$ETCD_DATA_DIR.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  # mv onto an existing directory would move the data into it: never.
  if [ -e "$kept" ]; then echo "etcd-restore: $kept exists; run again in a second" >&2; exit 1; fi
  mv "$ETCD_DATA_DIR" "$kept"
  echo "etcd-restore: the data directory that was there is kept as $kept" >&2
fi
touch "$marker"
if ! k8s_ctr image ls -q | grep -qxF "$image"; then k8s_ctr image pull "$image"; fi
data_parent="$(dirname "$ETCD_DATA_DIR")"
k8s_ctr run --rm \
  --mount "type=bind,src=$data_parent,dst=$data_parent,options=rbind:rw" \
  --mount "type=bind,src=$snapshot,dst=/restore/snapshot.db,options=rbind:ro" \
  "$image" k8s-ha-edge-etcd-restore \
  /usr/local/bin/etcdutl snapshot restore /restore/snapshot.db --data-dir "$ETCD_DATA_DIR" \
  --name "$name" --initial-cluster "$cluster" --initial-advertise-peer-urls "$peer" >&2
chmod 0700 "$ETCD_DATA_DIR"
rm -f "$marker"

echo "etcd-restore: starting the control plane" >&2
for m in "$STOPPED_DIR"/*.yaml; do
  if [ -e "$m" ]; then mv -f "$m" "$MANIFESTS_DIR/"; fi
done
rmdir "$STOPPED_DIR"
systemctl restart kubelet
echo "etcd-restore: restored from $snapshot; next: systemctl restart kubelet on every worker, then npm run verify"
