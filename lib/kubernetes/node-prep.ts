import { KubeProxyMode, KubernetesSpec } from '../topology';
import { KUBE_PACKAGES, kubernetesPatch } from './kubernetes-repo';
import { OsProfile } from '../os-profiles';
import { DISABLE_FIREWALLD, ensurePackages } from '../os-profiles/packages';
import { INSTALL_IF_CHANGED, lines, paragraph, scriptHeader } from '../formats/shell';

/** Kernel modules kube-proxy's IPVS mode needs besides the ones every node needs. */
const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];
const BASE_MODULES = ['overlay', 'br_netfilter'];

export function kernelModules(spec: KubernetesSpec): string[] {
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

function containerdSetup(profile: OsProfile): string {
  return lines(
    paragraph(profile.containerdRepository, ensurePackages(profile.packageManager, ['containerd.io'])),
    '# The kubelet uses the systemd cgroup driver; containerd must agree or pods restart in a loop.',
    'install -d -m 0755 /etc/containerd',
    "containerd config default | sed -e 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml.new",
    "grep -q 'SystemdCgroup = true' /etc/containerd/config.toml.new",
    'if install_if_changed /etc/containerd/config.toml.new /etc/containerd/config.toml 0644; then',
    '  systemctl restart containerd',
    'fi',
    'rm -f /etc/containerd/config.toml.new',
    'systemctl enable --now containerd',
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
 * Expects modules-load.conf and sysctl.conf beside it.
 */
export function renderPrepareNode(spec: KubernetesSpec, profile: OsProfile, hostName: string): string {
  return lines(
    scriptHeader(`Prepares ${hostName} for kubeadm (${profile.family}): swap, kernel, containerd, kubelet/kubeadm/kubectl ${spec.version}.`),
    'cd "$(dirname "$0")"',
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
    containerdSetup(profile),
    '',
    kubernetesPackages(spec, profile),
    'systemctl enable kubelet',
  );
}
