import { LoadBalancerHost, Topology } from '../topology';
import { OsProfile } from '../os-profiles';
import { ensurePackages } from '../os-profiles/packages';
import { shellBody, ShellPart } from '../formats/shell';

/** keepalived's VRRPv2 multicast group (RFC 3768): where adverts go unless they are unicast. */
const VRRP_MULTICAST_GROUP = '224.0.0.18';

/** SELinux booleans a load balancer needs: nginx (httpd_t) connecting to the NodePorts, keepalived's check connecting to the LB port. */
const LB_SELINUX_BOOLEANS = ['httpd_can_network_connect', 'keepalived_connect_any'] as const;

/**
 * The firewalld rich rules a load balancer needs for VRRP: exactly protocol vrrp (112), from each
 * other load balancer, to this host (unicast) or to the VRRP group (multicast).
 */
export function vrrpRichRules(t: Topology, host: LoadBalancerHost): string[] {
  const destination = t.loadBalancer.vrrp.unicast ? host.address : VRRP_MULTICAST_GROUP;
  return t.loadBalancer.hosts
    .filter((h) => h.name !== host.name)
    .map((peer) => `rule family="ipv4" source address="${peer.address}" destination address="${destination}" protocol value="vrrp" accept`);
}

/**
 * Shell that opens, where firewalld runs, exactly what the load balancer needs: VRRP from its
 * peers, the LB port and the API port (the control-plane endpoint), in the zone of its internal NIC, at runtime and permanently. Every
 * change is preceded by a query, so a re-run changes nothing. Without this a stock RHEL
 * public zone drops VRRP (every load balancer becomes MASTER: split brain) and rejects the port.
 * The logic is lib/load-balancer/firewalld-openings.sh; the rich rules are this host's.
 */
export function renderFirewalldOpenings(t: Topology, host: LoadBalancerHost): ShellPart {
  return shellBody('load-balancer/firewalld-openings.sh', {
    LB_INTERFACE: host.interface,
    VRRP_RICH_RULES: vrrpRichRules(t, host),
    LB_PORT: t.loadBalancer.listenPort,
    API_PORT: t.kubernetes.apiServerPort,
  });
}

/**
 * Shell that gives nginx and keepalived what SELinux denies them by default, where SELinux is
 * enabled: the LB port and the API port labelled http_port_t (nginx, as httpd_t, binds only those), and the
 * booleans, persistently (-P). It never turns SELinux off or permissive. Nothing (false) for a
 * family that does not ship SELinux. The logic is lib/load-balancer/selinux-policy.sh; before it,
 * the function it calls to install semanage's package, in the family's package manager's commands
 * (generated: they differ by family).
 */
export function renderSelinuxPolicy(t: Topology, profile: OsProfile): ShellPart | false {
  if (profile.selinuxPolicyPackages.length === 0) return false;
  const body = shellBody('load-balancer/selinux-policy.sh', { LB_PORT: t.loadBalancer.listenPort, API_PORT: t.kubernetes.apiServerPort, SELINUX_BOOLEANS: LB_SELINUX_BOOLEANS });
  return {
    params: body.params,
    // Like the other generated pieces, no final newline: the script's joins place the blank lines.
    text: [
      '# install_selinux_policy_packages: semanage\'s package, for the SELinux step below; run only where SELinux is enabled.',
      'install_selinux_policy_packages() {',
      ...ensurePackages(profile.packageManager, profile.selinuxPolicyPackages).split('\n').map((l) => `  ${l}`),
      '}',
      body.text.trimEnd(),
    ].join('\n'),
  };
}
