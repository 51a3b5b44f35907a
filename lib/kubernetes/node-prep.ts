import { KubeProxyMode, KubernetesSpec, Topology } from '../topology';
import { KUBE_PACKAGES, kubeadmVersionParams, kubernetesPatch } from './kubernetes-repo';
import { OsProfile } from '../os-profiles';
import { DISABLE_FIREWALLD, ensurePackages } from '../os-profiles/packages';
import { INSTALL_IF_CHANGED, lines, paragraph, shellBody, ShellPart, shellScript } from '../formats/shell';
import { containerdConfigure, containerdVersionCheck } from './containerd';
import { timeSyncSetup } from './time-sync';

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

const SELINUX_PERMISSIVE = shellBody('kubernetes/selinux-permissive.sh');

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
export function cgroupV2Check(profile: OsProfile): ShellPart {
  return shellBody('kubernetes/cgroup-v2-check.sh', { CGROUP_V2_REMEDY: profile.cgroupV2Remedy });
}

/**
 * The installed kubeadm must be of the topology's version: packages already installed are never
 * moved by this script, so a changed `kubernetes.version` stops here instead of "succeeding".
 */
export function kubeadmVersionCheck(spec: KubernetesSpec): ShellPart {
  return shellBody('kubernetes/kubeadm-version-check.sh', kubeadmVersionParams(spec));
}

/** kubelet, kubeadm and kubectl of the spec's minor (pinned to its patch, if any), held there; after the repository. */
function kubernetesPackages(spec: KubernetesSpec, profile: OsProfile): string | false {
  const packaging = profile.kubernetes;
  const patch = kubernetesPatch(spec);
  return paragraph(
    ensurePackages(profile.packageManager, KUBE_PACKAGES, {
      installSpec: (p) => (patch ? packaging.pinned(p, patch) : p),
      installFlags: packaging.installFlags,
    }),
    packaging.hold?.(KUBE_PACKAGES),
  );
}

/**
 * prepare-node.sh: everything a host needs before `kubeadm init` or `kubeadm join`.
 * Expects modules-load.conf and sysctl.conf beside it (and chrony.conf when timeSync names servers).
 * The same bytes on every node of a family (it names no host), so it is written once per synth
 * however many workers there are.
 */
export function renderPrepareNode(spec: KubernetesSpec, profile: OsProfile, timeSync: Topology['timeSync']): string {
  return shellScript(
    `Prepares this node for kubeadm (${profile.family}): swap, kernel, time sync, containerd, kubelet/kubeadm/kubectl ${spec.version}.`,
    'cd "$(dirname "$0")"',
    cgroupV2Check(profile),
    INSTALL_IF_CHANGED,
    shellBody('kubernetes/prepare-node.sh', { KERNEL_MODULES: kernelModules(spec), MODULES_FILE, SYSCTL_FILE }),
    profile.selinux && SELINUX_PERMISSIVE,
    paragraph(profile.firewalld && DISABLE_FIREWALLD),
    ensurePackages(profile.packageManager, toolPackages(spec, profile)),
    '',
    // Before the kube tools: kubeadm refuses a join whose token or certificates the node's clock makes look not yet valid.
    ...timeSyncSetup(timeSync, profile),
    '',
    profile.containerdRepository,
    // Held like kubelet, kubeadm and kubectl: an ordinary upgrade of the host must not move the runtime under them.
    paragraph(ensurePackages(profile.packageManager, ['containerd.io']), profile.packageManager.hold(['containerd.io'])),
    containerdVersionCheck(spec, profile),
    profile.kubernetes.repository(spec),
    kubernetesPackages(spec, profile),
    kubeadmVersionCheck(spec),
    containerdConfigure(),
    'systemctl enable kubelet',
  );
}
