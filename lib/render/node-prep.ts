import { KubeProxyMode, KubernetesSpec, OsFamily } from '../topology';
import { kubernetesPatch, kubernetesRepoUrl } from './kubernetes-repo';
import { DISABLE_FIREWALLD, ensurePackages } from './packages';
import { INSTALL_IF_CHANGED, lines, scriptHeader, shq } from './shell';

/** Kernel modules kube-proxy's IPVS mode needs besides the ones every node needs. */
const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];
const BASE_MODULES = ['overlay', 'br_netfilter'];
const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'];

/** Docker's repositories carry containerd.io 2.x, which current Kubernetes needs; distributions lag behind. */
const CONTAINERD_REPO = {
  [OsFamily.RHEL]: 'https://download.docker.com/linux/centos/docker-ce.repo',
  [OsFamily.DEBIAN]: 'https://download.docker.com/linux/debian',
};

export function kernelModules(spec: KubernetesSpec): string[] {
  return spec.kubeProxyMode === KubeProxyMode.IPVS ? [...BASE_MODULES, ...IPVS_MODULES] : [...BASE_MODULES];
}

/** Packages on every Kubernetes node besides containerd and the kube tools. */
function toolPackages(spec: KubernetesSpec, family: OsFamily): string[] {
  const base = family === OsFamily.DEBIAN ? ['ca-certificates', 'curl', 'gpg', 'conntrack'] : ['curl', 'conntrack-tools'];
  return spec.kubeProxyMode === KubeProxyMode.IPVS ? [...base, 'ipset', 'ipvsadm'] : base;
}

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

function kubeRepoSetup(spec: KubernetesSpec, family: OsFamily): string {
  const patch = kubernetesPatch(spec);
  if (family === OsFamily.DEBIAN) {
    const url = kubernetesRepoUrl(spec, 'deb');
    return lines(
      'install -d -m 0755 /etc/apt/keyrings',
      `if [ ! -s /etc/apt/keyrings/kubernetes.gpg ]; then`,
      `  curl -fsSL --retry 5 ${shq(`${url}Release.key`)} | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg`,
      'fi',
      `echo ${shq(`deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] ${url} /`)} > /etc/apt/sources.list.d/kubernetes.list.new`,
      'if install_if_changed /etc/apt/sources.list.d/kubernetes.list.new /etc/apt/sources.list.d/kubernetes.list 0644; then',
      '  apt-get update -q',
      'fi',
      'rm -f /etc/apt/sources.list.d/kubernetes.list.new',
      ensurePackages(family, KUBE_PACKAGES, {
        installSpec: (p) => (patch ? `${p}=${patch}-*` : p),
        installFlags: ['--allow-change-held-packages'],
      }),
      '# Held: an unattended upgrade must not move the cluster to another minor.',
      `apt-mark hold ${KUBE_PACKAGES.join(' ')} >/dev/null`,
    );
  }
  const url = kubernetesRepoUrl(spec, 'rpm');
  return lines(
    'cat > /etc/yum.repos.d/kubernetes.repo.new <<EOF',
    '[kubernetes]',
    'name=Kubernetes',
    `baseurl=${url}`,
    'enabled=1',
    'gpgcheck=1',
    `gpgkey=${url}repodata/repomd.xml.key`,
    '# Held: only an explicit --disableexcludes=kubernetes may change these.',
    `exclude=${KUBE_PACKAGES.join(' ')} cri-tools kubernetes-cni`,
    'EOF',
    'install_if_changed /etc/yum.repos.d/kubernetes.repo.new /etc/yum.repos.d/kubernetes.repo 0644 || true',
    'rm -f /etc/yum.repos.d/kubernetes.repo.new',
    ensurePackages(family, KUBE_PACKAGES, {
      installSpec: (p) => (patch ? `${p}-${patch}` : p),
      installFlags: ['--disableexcludes=kubernetes'],
    }),
  );
}

function containerdSetup(family: OsFamily): string {
  const install = family === OsFamily.DEBIAN
    ? lines(
      'install -d -m 0755 /etc/apt/keyrings',
      `if [ ! -s /etc/apt/keyrings/docker.asc ]; then`,
      `  curl -fsSL --retry 5 ${shq(`${CONTAINERD_REPO[family]}/gpg`)} -o /etc/apt/keyrings/docker.asc`,
      'fi',
      '. /etc/os-release',
      `echo "deb [signed-by=/etc/apt/keyrings/docker.asc] ${CONTAINERD_REPO[family]} $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list.new`,
      'if install_if_changed /etc/apt/sources.list.d/docker.list.new /etc/apt/sources.list.d/docker.list 0644; then',
      '  apt-get update -q',
      'fi',
      'rm -f /etc/apt/sources.list.d/docker.list.new',
      ensurePackages(family, ['containerd.io']),
    )
    : lines(
      'if [ ! -f /etc/yum.repos.d/docker-ce.repo ]; then',
      `  curl -fsSL --retry 5 ${shq(CONTAINERD_REPO[family])} -o /etc/yum.repos.d/docker-ce.repo`,
      'fi',
      ensurePackages(family, ['containerd.io']),
    );
  return lines(
    install,
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

/**
 * prepare-node.sh: everything a host needs before `kubeadm init` or `kubeadm join`.
 * Expects modules-load.conf and sysctl.conf beside it.
 */
export function renderPrepareNode(spec: KubernetesSpec, family: OsFamily, hostName: string): string {
  return lines(
    scriptHeader(`Prepares ${hostName} for kubeadm (${family}): swap, kernel, containerd, kubelet/kubeadm/kubectl ${spec.version}.`),
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
    family === OsFamily.RHEL && lines(
      '# kubeadm does not support SELinux enforcing without policy work: permissive now and at boot.',
      'if command -v getenforce >/dev/null && [ "$(getenforce)" = Enforcing ]; then',
      '  setenforce 0',
      'fi',
      "if [ -f /etc/selinux/config ]; then sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config; fi",
      DISABLE_FIREWALLD,
    ),
    ensurePackages(family, toolPackages(spec, family)),
    '',
    containerdSetup(family),
    '',
    kubeRepoSetup(spec, family),
    'systemctl enable kubelet',
  );
}
