# shellcheck shell=bash
# etcd-snapshot DEST KEEP: a snapshot of the control plane's etcd into DEST as etcd-<UTC time>.db, with
# its .sha256 and .status.json; then only the newest KEEP of those kept. etcdctl and etcdutl are not
# installed on the host (kubeadm runs etcd as a static Pod): they run inside that Pod's container, whose
# image carries both at /usr/local/bin, through `crictl exec` — always the tools of the etcd that runs.
# The container sees ETCD_DATA_DIR (a hostPath mount at the same path), so the snapshot is written there
# and moved out. A name is claimed only once the snapshot is verified (etcdutl snapshot status: a hash,
# a revision and keys); a failed run leaves nothing with a claimed name. Retention deletes only files of
# this exact name pattern, never another file in DEST.
: "${ETCD_DATA_DIR:?}" "${ETCD_PKI_DIR:?}" "${ETCD_ENDPOINT:?}" "${CRI_ENDPOINT:?}"
# crictl of the cri-tools package kubeadm depends on, told containerd's socket (without /etc/crictl.yaml it
# would try several runtimes in turn).
cri() { crictl --runtime-endpoint "$CRI_ENDPOINT" "$@"; }
dest="${1:?usage: etcd-snapshot DEST KEEP}"
keep="${2:?usage: etcd-snapshot DEST KEEP}"
if ! [[ "$keep" =~ ^[1-9][0-9]*$ ]]; then echo "etcd-snapshot: KEEP: got '$keep', expected a positive integer" >&2; exit 2; fi
install -d -m 0700 "$dest"
# One snapshot at a time (the timer and npm run backup share the temporary path in the data directory).
exec 9>"$dest/.etcd-snapshot.lock"
if ! flock -w 600 9; then echo "etcd-snapshot: another snapshot still holds $dest/.etcd-snapshot.lock after 600 s" >&2; exit 1; fi
# The first id, taken without `head` (which, closing the pipe early, could fail the pipeline under pipefail).
container="$(cri ps --label io.kubernetes.container.name=etcd --label io.kubernetes.pod.namespace=kube-system --state running -q)"
container="${container%%$'\n'*}"
if [ -z "$container" ]; then
  echo "etcd-snapshot: no running etcd container in kube-system (crictl ps); is this a kubeadm control-plane node with etcd up?" >&2
  exit 1
fi
name="etcd-$(date -u +%Y%m%dT%H%M%SZ).db"
# Two runs within one second: the second waits for a name of its own (bounded: 3 tries).
for _ in 1 2 3; do
  [ -e "$dest/$name" ] || break
  sleep 1
  name="etcd-$(date -u +%Y%m%dT%H%M%SZ).db"
done
if [ -e "$dest/$name" ]; then echo "etcd-snapshot: $dest/$name exists; expected a new name" >&2; exit 1; fi
temp="$ETCD_DATA_DIR/k8s-ha-edge-snapshot.db"
claimed=no
cleanup() {
  rm -f "$temp" "$temp.part" "$dest/.$name.part"
  if [ "$claimed" = no ]; then rm -f "$dest/$name.sha256" "$dest/$name.status.json"; fi
}
trap cleanup EXIT
rm -f "$temp" "$temp.part"
etcd_tls=(--endpoints="$ETCD_ENDPOINT" --cacert="$ETCD_PKI_DIR/ca.crt" --cert="$ETCD_PKI_DIR/healthcheck-client.crt" --key="$ETCD_PKI_DIR/healthcheck-client.key")
cri exec "$container" /usr/local/bin/etcdctl "${etcd_tls[@]}" snapshot save "$temp" >&2
# etcdutl, not etcdctl: `etcdctl snapshot status` is deprecated since etcd 3.5 and gone in 3.6.
status="$(cri exec "$container" /usr/local/bin/etcdutl snapshot status "$temp" --write-out=json)"
hash="" revision="" keys=""
if [[ "$status" =~ \"hash\":([0-9]+) ]]; then hash="${BASH_REMATCH[1]}"; fi
if [[ "$status" =~ \"revision\":([0-9]+) ]]; then revision="${BASH_REMATCH[1]}"; fi
if [[ "$status" =~ \"totalKey\":([0-9]+) ]]; then keys="${BASH_REMATCH[1]}"; fi
# A live cluster has keys and a revision past 1; a snapshot without them is not one to restore from.
if [ -z "$hash" ] || [ -z "$revision" ] || [ -z "$keys" ] || [ "$keys" -eq 0 ] || [ "$revision" -le 1 ]; then
  echo "etcd-snapshot: etcdutl snapshot status: got '$status', expected a hash, a revision above 1 and keys" >&2
  exit 1
fi
# mv, not a rename: /var/lib/etcd and DEST may be different file systems.
mv -f "$temp" "$dest/.$name.part"
chmod 0600 "$dest/.$name.part"
sum="$(sha256sum "$dest/.$name.part")"
( umask 077; printf '%s  %s\n' "${sum%% *}" "$name" > "$dest/$name.sha256"; printf '%s\n' "$status" > "$dest/$name.status.json" )
mv -f "$dest/.$name.part" "$dest/$name"
claimed=yes
# The newest KEEP of this script's own names (sorted by name is sorted by time); every other file is left alone.
mapfile -t own < <(find "$dest" -maxdepth 1 -type f -regextype posix-extended -regex '.*/etcd-[0-9]{8}T[0-9]{6}Z\.db' -printf '%f\n' | sort)
for old in "${own[@]:0:$(( ${#own[@]} > keep ? ${#own[@]} - keep : 0 ))}"; do
  rm -f "$dest/$old" "$dest/$old.sha256" "$dest/$old.status.json"
  echo "etcd-snapshot: removed $dest/$old (keeping the newest $keep)" >&2
done
echo "snapshot=$name sha256=${sum%% *} hash=$hash revision=$revision totalKey=$keys"
