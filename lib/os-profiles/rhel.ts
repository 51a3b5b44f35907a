import { OsFamily } from '../topology';
import { KUBE_PACKAGES, kubernetesRepoUrl } from '../kubernetes/kubernetes-repo';
import { shellBody } from '../formats/shell';
import { OsProfile, PackageManager } from './os-profile';

const dnf: PackageManager = {
  isInstalled: 'rpm -q "$package" >/dev/null 2>&1',
  beforeInstall: () => [],
  install: (flags) => `dnf install -y -q${flags} "\${missing[@]}"`,
  upgrade: (pkg) => `dnf versionlock delete ${pkg} && dnf upgrade -y ${pkg}`,
  // The versionlock plugin (python3-dnf-plugin-versionlock, one of nodeToolPackages) locks the installed
  // version; a package with a lock entry (name-epoch:version-release.*) is left alone.
  hold: (packages) => packages.map((pkg) => `dnf -q versionlock list 2>/dev/null | grep -Eq '(^|:)${pkg.replace(/\./g, '\\.')}-[0-9]' || dnf -q versionlock add ${pkg} >/dev/null`).join('\n'),
};

const DOCKER_REPO = 'https://download.docker.com/linux/centos/docker-ce.repo';

/** RHEL and its rebuilds (Rocky, Alma, CentOS Stream): dnf, SELinux, firewalld, /etc/sysconfig. */
export const RHEL_PROFILE: OsProfile = {
  family: OsFamily.RHEL,
  packageManager: dnf,
  nginx: {
    user: 'nginx',
    // nginx-mod-stream drops mod-stream.conf here.
    moduleInclude: '/usr/share/nginx/modules/*.conf',
    packages: ['nginx', 'nginx-mod-stream'],
  },
  firewallPersistence: {
    // iptables-services ships both units.
    ipv4: { file: '/etc/sysconfig/iptables', service: 'iptables' },
    ipv6: { file: '/etc/sysconfig/ip6tables', service: 'ip6tables' },
    packages: ['iptables-services'],
    answers: [],
  },
  iptablesPackages: ['iptables-nft'],
  nodeToolPackages: ['curl', 'conntrack-tools', 'python3-dnf-plugin-versionlock'],
  // RHEL ships conntrackd and the conntrack tool in one package.
  gatewayPairPackages: ['keepalived', 'conntrack-tools'],
  selinux: true,
  // semanage lives in policycoreutils-python-utils (RHEL 8 and later).
  selinuxPolicyPackages: ['policycoreutils-python-utils'],
  firewalld: true,
  containerdRepository: shellBody('os-profiles/rhel-containerd-repository.sh', { DOCKER_REPO }),
  // EL8 boots with cgroup v1; EL9 and later with v2.
  cgroupV2Remedy: 'On EL8: grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1, then reboot (EL9 and later boot with cgroup v2).',
  kubernetes: {
    repository: (spec) => shellBody('os-profiles/rhel-kubernetes-repository.sh', { KUBERNETES_REPO_URL: kubernetesRepoUrl(spec, 'rpm'), KUBE_PACKAGES }),
    pinned: (pkg, patch) => `${pkg}-${patch}`,
    installFlags: ['--disableexcludes=kubernetes'],
    move: shellBody('os-profiles/rhel-kubernetes-move.sh').text.trimEnd(),
  },
  timeSync: { packages: ['chrony'], service: 'chronyd', config: '/etc/chrony.conf', driftFile: '/var/lib/chrony/drift' },
};
