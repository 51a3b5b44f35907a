import { OsFamily } from '../topology';
import { kubernetesRepoUrl } from '../kubernetes/kubernetes-repo';
import { shq } from '../formats/shell';
import { OsProfile, PackageManager } from './os-profile';

const apt: PackageManager = {
  // One package per query: dpkg-query prints several statuses without a separator.
  isInstalled: `dpkg-query -W -f='\${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'`,
  beforeInstall: (answers) => [...answers.map((line) => `echo ${shq(line)} | debconf-set-selections`), 'apt-get update -q'],
  install: (flags) => `DEBIAN_FRONTEND=noninteractive apt-get install -y -q${flags} "\${missing[@]}"`,
  upgrade: (pkg) => `apt-get update && apt-get install --only-upgrade -y ${pkg}`,
};

/** Docker's apt repositories: one per distribution, linux/debian and linux/ubuntu, chosen by $ID at apply time. */
const DOCKER_REPO_BASE = 'https://download.docker.com/linux';
/** The distributions Docker publishes containerd.io for under DOCKER_REPO_BASE (a derivative's $ID is not among them). */
const DOCKER_DISTRIBUTIONS = ['debian', 'ubuntu'];

/** Debian and its derivatives: apt, /etc/iptables, no SELinux or firewalld. */
export const DEBIAN_PROFILE: OsProfile = {
  family: OsFamily.DEBIAN,
  packageManager: apt,
  nginx: {
    user: 'www-data',
    // libnginx-mod-stream drops 50-mod-stream.conf here.
    moduleInclude: '/etc/nginx/modules-enabled/*.conf',
    packages: ['nginx', 'libnginx-mod-stream'],
  },
  firewallPersistence: {
    // netfilter-persistent restores both files at boot (iptables-persistent's plugins 15-ip4tables and 25-ip6tables).
    ipv4: { file: '/etc/iptables/rules.v4', service: 'netfilter-persistent' },
    ipv6: { file: '/etc/iptables/rules.v6', service: 'netfilter-persistent' },
    packages: ['iptables', 'iptables-persistent'],
    answers: ['iptables-persistent iptables-persistent/autosave_v4 boolean false', 'iptables-persistent iptables-persistent/autosave_v6 boolean false'],
  },
  nodeToolPackages: ['ca-certificates', 'curl', 'gpg', 'conntrack'],
  selinux: false,
  selinuxPolicyPackages: [],
  firewalld: false,
  containerdRepository: [
    '# Docker keeps one repository per distribution: linux/debian and linux/ubuntu, each by release code name.',
    '. /etc/os-release',
    'case "$ID" in',
    `  ${DOCKER_DISTRIBUTIONS.join('|')}) ;;`,
    `  *) echo "prepare-node.sh: no containerd.io repository for ID=$ID in /etc/os-release (Docker publishes ${DOCKER_DISTRIBUTIONS.join(' and ')})" >&2; exit 1 ;;`,
    'esac',
    'install -d -m 0755 /etc/apt/keyrings',
    `if [ ! -s /etc/apt/keyrings/docker.asc ]; then`,
    `  curl -fsSL --retry 5 "${DOCKER_REPO_BASE}/$ID/gpg" -o /etc/apt/keyrings/docker.asc`,
    'fi',
    `echo "deb [signed-by=/etc/apt/keyrings/docker.asc] ${DOCKER_REPO_BASE}/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list.new`,
    'if install_if_changed /etc/apt/sources.list.d/docker.list.new /etc/apt/sources.list.d/docker.list 0644; then',
    '  apt-get update -q',
    'fi',
    'rm -f /etc/apt/sources.list.d/docker.list.new',
  ].join('\n'),
  // Debian 11+ and Ubuntu 21.10+ boot with cgroup v2 unless told otherwise on the kernel command line.
  cgroupV2Remedy: 'Remove systemd.unified_cgroup_hierarchy=0 from GRUB_CMDLINE_LINUX in /etc/default/grub (Debian 11+ and Ubuntu 21.10+ boot with cgroup v2 without it), run update-grub, then reboot.',
  kubernetes: {
    repository: (spec) => {
      const url = kubernetesRepoUrl(spec, 'deb');
      return [
        'install -d -m 0755 /etc/apt/keyrings',
        `if [ ! -s /etc/apt/keyrings/kubernetes.gpg ]; then`,
        `  curl -fsSL --retry 5 ${shq(`${url}Release.key`)} | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg`,
        'fi',
        `echo ${shq(`deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] ${url} /`)} > /etc/apt/sources.list.d/kubernetes.list.new`,
        'if install_if_changed /etc/apt/sources.list.d/kubernetes.list.new /etc/apt/sources.list.d/kubernetes.list 0644; then',
        '  apt-get update -q',
        'fi',
        'rm -f /etc/apt/sources.list.d/kubernetes.list.new',
      ].join('\n');
    },
    pinned: (pkg, patch) => `${pkg}=${patch}-*`,
    installFlags: ['--allow-change-held-packages'],
    hold: (packages) => `# Held: an unattended upgrade must not move the cluster to another minor.\napt-mark hold ${packages.join(' ')} >/dev/null`,
  },
};
