# shellcheck shell=bash
# kubelet 1.35 and later refuse cgroup v1 (failCgroupV1): check before changing anything, not deep in kubeadm.
# CGROUP_V2_REMEDY: what to do about cgroup v1 on its OS family.
: "${CGROUP_V2_REMEDY:?}"
cgroup_fs=$(stat -fc %T /sys/fs/cgroup)
if [ "$cgroup_fs" != cgroup2fs ]; then
  echo "prepare-node.sh: $HOSTNAME mounts /sys/fs/cgroup as $cgroup_fs, not cgroup2fs (cgroup v2): kubelet 1.35 and later refuse cgroup v1 (failCgroupV1)." >&2
  echo "$CGROUP_V2_REMEDY" >&2
  exit 1
fi
