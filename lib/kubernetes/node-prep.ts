import { KubeProxyMode, KubernetesSpec } from '../topology';
import { KUBE_PACKAGES, kubernetesPatch } from './kubernetes-repo';
import { OsProfile } from '../os-profiles';
import { DISABLE_FIREWALLD, ensurePackages } from '../os-profiles/packages';
import { INSTALL_IF_CHANGED, lines, paragraph, scriptHeader, shq } from '../formats/shell';
import { containerdConfigure, containerdVersionCheck } from './containerd';
import { kubernetesMinor } from './kubernetes-repo';

/** Kernel modules kube-proxy's IPVS mode needs besides the ones every node needs. */
const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];
const BASE_MODULES = ['overlay', 'br_netfilter'];

function kernelModules(spec: KubernetesSpec): string[] {
  return spec.kubeProxyMode === KubeProxyMode.IPVS ? [...BASE_MODULES, ...IPVS_MODULES] : [...BASE_MODULES];
}

/** Packages on every Kubernetes node besides containerd and the kube tools. */
function toolPackages(spec: KubernetesSpec, profile: OsProfile): string[] {
  const base = [...profile.nodeToolPackages];
  return spec.kubeProxyMode === KubeProxyMode.IPVS ? [...base, 'ipset', 'ipvsadm'] : base;
}

const SELINUX_PERMISSIVE = [
  '# kubeadm does not support SELinux enforcing without policy work: permissive now and at boot.',
  'if command -v getenforce >/dev/null && [ "$(getenforce)" = Enforcing ]; then',
  '  setenforce 0',
  'fi',
  "if [ -f /etc/selinux/config ]; then sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config; fi",
].join('\n');

export const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf';
export const MODULES_FILE = '/etc/modules-load.d/kubernetes.conf';

export function renderSysctl(): string {
  return lines(
    '# Bridged pod traffic must pass iptables (kube-proxy, flannel), and nodes route pod traffic.',
    'net.bridge.bridge-nf-call-iptables = 1',
    'net.bridge.bridge-nf-call-ip6tables = 1',
    'net.ipv4.ip_forward = 1',
  );
}

export function renderModulesLoad(spec: KubernetesSpec): string {
  return lines('# Loaded at boot by systemd-modules-load.', ...kernelModules(spec));
}

/**
 * kubelet 1.35 and later refuse to start on cgroup v1 (KubeletConfiguration failCgroupV1 defaults
 * to true): checked first, before the script changes anything, with what to do on this family.
 */
export function cgroupV2Check(profile: OsProfile): string {
  return lines(
    '# kubelet 1.35 and later refuse cgroup v1 (failCgroupV1): check before changing anything, not deep in kubeadm.',
    'cgroup_fs=$(stat -fc %T /sys/fs/cgroup)',
    'if [ "$cgroup_fs" != cgroup2fs ]; then',
    `  echo "prepare-node.sh: $HOSTNAME mounts /sys/fs/cgroup as $cgroup_fs, not cgroup2fs (cgroup v2): kubelet 1.35 and later refuse cgroup v1 (failCgroupV1)." >&2`,
    `  echo ${shq(profile.cgroupV2Remedy)} >&2`,
    '  exit 1',
    'fi',
  );
}

/**
 * The installed kubeadm must be of the topology's version: packages already installed are never
 * moved by this script, so a changed `kubernetes.version` stops here instead of "succeeding".
 */
export function kubeadmVersionCheck(spec: KubernetesSpec): string {
  const patch = kubernetesPatch(spec);
  const wanted = patch ? `v${patch}` : `v${kubernetesMinor(spec)}.x`;
  return lines(
    'kubeadm_version=$(kubeadm version -o short)',
    'case "$kubeadm_version" in',
    `  ${patch ? wanted : `v${kubernetesMinor(spec)}.[0-9]*`}) ;;`,
    '  *)',
    `    echo "prepare-node.sh: kubeadm $kubeadm_version is installed, but kubernetes.version is ${spec.version} (${wanted}): this script installs missing packages and never moves installed ones." >&2`,
    "    echo 'Upgrade the cluster with kubeadm upgrade (one minor at a time: kubeadm upgrade plan / apply on the control plane, kubeadm upgrade node on the others, with the packages), or set kubernetes.version back to what runs.' >&2",
    '    exit 1',
    '    ;;',
    'esac',
  );
}

function containerdPackages(spec: KubernetesSpec, profile: OsProfile): string {
  return lines(
    paragraph(profile.containerdRepository, ensurePackages(profile.packageManager, ['containerd.io'])),
    containerdVersionCheck(spec, profile),
  );
}

/** kubelet, kubeadm and kubectl of the spec's minor (pinned to its patch, if any), held there. */
function kubernetesPackages(spec: KubernetesSpec, profile: OsProfile): string | false {
  const packaging = profile.kubernetes;
  const patch = kubernetesPatch(spec);
  return paragraph(
    packaging.repository(spec),
    ensurePackages(profile.packageManager, KUBE_PACKAGES, {
      installSpec: (p) => (patch ? packaging.pinned(p, patch) : p),
      installFlags: packaging.installFlags,
    }),
    packaging.hold?.(KUBE_PACKAGES),
  );
}

/**
 * prepare-node.sh: everything a host needs before `kubeadm init` or `kubeadm join`.
 * Expects modules-load.conf and sysctl.conf beside it. The same bytes on every node of a family
 * (it names no host), so it is written once per synth however many workers there are.
 */
export function renderPrepareNode(spec: KubernetesSpec, profile: OsProfile): string {
  return lines(
    scriptHeader(`Prepares this node for kubeadm (${profile.family}): swap, kernel, containerd, kubelet/kubeadm/kubectl ${spec.version}.`),
    'cd "$(dirname "$0")"',
    cgroupV2Check(profile),
    INSTALL_IF_CHANGED,
    '# The kubelet refuses to start with swap on: off now, and commented out in fstab for the next boot.',
    'swapoff -a',
    "sed -ri '/^[^#].*[[:space:]]swap[[:space:]]/s/^/#/' /etc/fstab",
    '',
    `install_if_changed modules-load.conf ${MODULES_FILE} 0644 || true`,
    `for module in ${kernelModules(spec).join(' ')}; do`,
    '  modprobe "$module"',
    'done',
    `install_if_changed sysctl.conf ${SYSCTL_FILE} 0644 || true`,
    'sysctl --quiet --system',
    '',
    paragraph(profile.selinux && SELINUX_PERMISSIVE, profile.firewalld && DISABLE_FIREWALLD),
    ensurePackages(profile.packageManager, toolPackages(spec, profile)),
    '',
    containerdPackages(spec, profile),
    kubernetesPackages(spec, profile),
    kubeadmVersionCheck(spec),
    containerdConfigure(),
    'systemctl enable kubelet',
  );
}
