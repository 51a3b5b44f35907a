import { OsFamily, SSH_PORT, Topology } from '../topology';
import { ensurePackages, DISABLE_FIREWALLD } from './packages';
import { INSTALL_IF_CHANGED, lines, scriptHeader } from './shell';

/** Where each family's boot-time service reads the saved IPv4 ruleset. */
export const PERSISTED_RULES: Record<OsFamily, { file: string; service: string; packages: string[] }> = {
  [OsFamily.DEBIAN]: { file: '/etc/iptables/rules.v4', service: 'netfilter-persistent', packages: ['iptables', 'iptables-persistent'] },
  [OsFamily.RHEL]: { file: '/etc/sysconfig/iptables', service: 'iptables', packages: ['iptables-services'] },
};

/**
 * The gateway's whole IPv4 ruleset, for `iptables-restore`: loading it replaces the nat
 * and filter tables in one step, so applying it twice gives the same tables.
 */
export function renderFirewallRules(t: Topology): string {
  const g = t.gateway;
  const inside = g.inside.interface;
  const outside = g.outside.interface;
  const port = t.loadBalancer.listenPort;
  const vip = t.loadBalancer.vip;
  const internal = t.networks.internal;
  return lines(
    '# iptables-restore ruleset for the k8s-ha-edge gateway. Generated from the topology.',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    `# DNAT: clients reach ${g.outside.address}:${port}, served by the load balancers' VIP.`,
    `-A PREROUTING -d ${g.outside.address}/32 -i ${outside} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${vip}:${port}`,
    `# SNAT: the whole internal network leaves as ${g.outside.address}.`,
    `-A POSTROUTING -s ${internal} -o ${outside} -j SNAT --to-source ${g.outside.address}`,
    'COMMIT',
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    `# SSH from the inside only: the operator's terraform reaches the gateway on ${g.inside.address}.`,
    `-A INPUT -s ${internal} -i ${inside} -p tcp -m tcp --dport ${SSH_PORT} -j ACCEPT`,
    '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT',
    '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '# The DNAT flow, and nothing else, from outside to inside.',
    `-A FORWARD -d ${vip}/32 -i ${outside} -o ${inside} -p tcp -m tcp --dport ${port} -m conntrack --ctstate DNAT -j ACCEPT`,
    `-A FORWARD -s ${internal} -i ${inside} -o ${outside} -j ACCEPT`,
    'COMMIT',
  );
}

export const FORWARDING_SYSCTL_FILE = '/etc/sysctl.d/99-gateway-forwarding.conf';

/** setup-gateway.sh: forwarding on (now and at boot) and the ruleset applied atomically and persisted. */
export function renderSetupGateway(t: Topology): string {
  const family = t.gateway.osFamily;
  const persisted = PERSISTED_RULES[family];
  return lines(
    scriptHeader(`Turns ${t.gateway.name} into the NAT firewall between ${t.networks.internal} and ${t.networks.external}.`),
    'cd "$(dirname "$0")"',
    INSTALL_IF_CHANGED,
    family === OsFamily.RHEL && DISABLE_FIREWALLD,
    ensurePackages(family, persisted.packages, family === OsFamily.DEBIAN
      ? { debconf: ['iptables-persistent iptables-persistent/autosave_v4 boolean false', 'iptables-persistent iptables-persistent/autosave_v6 boolean false'] }
      : {}),
    '',
    "printf 'net.ipv4.ip_forward = 1\\n' > forwarding.conf",
    `install_if_changed forwarding.conf ${FORWARDING_SYSCTL_FILE} 0644 || true`,
    'if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then',
    '  sysctl --quiet -w net.ipv4.ip_forward=1',
    'fi',
    '',
    '# One atomic replace of the nat and filter tables; --test first, so a bad file changes nothing.',
    'iptables-restore --test < firewall.rules',
    'iptables-restore < firewall.rules',
    `install_if_changed firewall.rules ${persisted.file} 0600 || true`,
    `systemctl enable --quiet ${persisted.service}`,
  );
}
