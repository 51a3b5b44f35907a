import { OsFamily } from '../topology';
import { kubernetesRepoUrl } from '../kubernetes/kubernetes-repo';
import { shellBody, shq } from '../formats/shell';
import { OsProfile, PackageManager } from './os-profile';

const apt: PackageManager = {
  // One package per query: dpkg-query prints several statuses without a separator.
  isInstalled: `dpkg-query -W -f='\${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'`,
  beforeInstall: (answers) => [...answers.map((line) => `echo ${shq(line)} | debconf-set-selections`), 'apt-get update -q'],
  install: (flags) => `DEBIAN_FRONTEND=noninteractive apt-get install -y -q${flags} "\${missing[@]}"`,
  upgrade: (pkg) => `apt-mark unhold ${pkg} && apt-get update && apt-get install --only-upgrade -y ${pkg}`,
  // apt-mark hold of a held package only says so: nothing changes.
  hold: (packages) => `apt-mark hold ${packages.join(' ')} >/dev/null`,
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
  iptablesPackages: ['iptables'],
  nodeToolPackages: ['ca-certificates', 'curl', 'gpg', 'conntrack'],
  gatewayPairPackages: ['keepalived', 'conntrackd', 'conntrack'],
  selinux: false,
  selinuxPolicyPackages: [],
  firewalld: false,
  containerdRepository: shellBody('os-profiles/debian-containerd-repository.sh', { DOCKER_REPO_BASE, DOCKER_DISTRIBUTIONS }),
  // Debian 11+ and Ubuntu 21.10+ boot with cgroup v2 unless told otherwise on the kernel command line.
  cgroupV2Remedy: 'Remove systemd.unified_cgroup_hierarchy=0 from GRUB_CMDLINE_LINUX in /etc/default/grub (Debian 11+ and Ubuntu 21.10+ boot with cgroup v2 without it), run update-grub, then reboot.',
  kubernetes: {
    repository: (spec) => shellBody('os-profiles/debian-kubernetes-repository.sh', { KUBERNETES_REPO_URL: kubernetesRepoUrl(spec, 'deb') }),
    pinned: (pkg, patch) => `${pkg}=${patch}-*`,
    installFlags: ['--allow-change-held-packages'],
    hold: (packages) => `# Held: an unattended upgrade must not move the cluster to another minor.\napt-mark hold ${packages.join(' ')} >/dev/null`,
    move: shellBody('os-profiles/debian-kubernetes-move.sh').text.trimEnd(),
  },
  // Debian's chrony (it replaces systemd-timesyncd: both provide time-daemon) keeps its files under /etc/chrony/.
  timeSync: { packages: ['chrony'], service: 'chrony', config: '/etc/chrony/chrony.conf', driftFile: '/var/lib/chrony/chrony.drift' },
};
