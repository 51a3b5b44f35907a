import { LoadBalancerHost, Topology } from '../topology';
import { OsProfile } from '../os-profiles';
import { ensurePackages } from '../os-profiles/packages';
import { shq } from '../formats/shell';

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
 * peers and the LB port, in the zone of its internal NIC, at runtime and permanently. Every
 * change is preceded by a query, so a re-run changes nothing. Without this a stock RHEL
 * public zone drops VRRP (every load balancer becomes MASTER: split brain) and rejects the port.
 */
export function renderFirewalldOpenings(t: Topology, host: LoadBalancerHost): string {
  const port = `${t.loadBalancer.listenPort}/tcp`;
  return [
    '# firewalld, where it runs (RHEL\'s default): its zones drop VRRP, so every load balancer would be',
    '# MASTER at once, and reject the LB port. Open exactly those, at runtime and permanently.',
    'if systemctl is-active --quiet firewalld; then',
    `  zone=$(firewall-cmd --get-zone-of-interface=${shq(host.interface)} 2>/dev/null) || zone=$(firewall-cmd --get-default-zone)`,
    '  # firewalld_allow runtime|permanent rich-rule|port VALUE: adds VALUE unless the zone has it.',
    '  firewalld_allow() {',
    '    local args=(--zone="$zone")',
    '    if [ "$1" = permanent ]; then args+=(--permanent); fi',
    '    if ! firewall-cmd "${args[@]}" --query-"$2"="$3" >/dev/null 2>&1; then',
    '      firewall-cmd "${args[@]}" --add-"$2"="$3" >/dev/null',
    '    fi',
    '  }',
    '  for scope in runtime permanent; do',
    ...vrrpRichRules(t, host).map((rule) => `    firewalld_allow "$scope" rich-rule ${shq(rule)}`),
    `    firewalld_allow "$scope" port ${port}`,
    '  done',
    'fi',
  ].join('\n');
}

/**
 * Shell that gives nginx and keepalived what SELinux denies them by default, where SELinux is
 * enabled: the LB port labelled http_port_t (nginx, as httpd_t, binds only those), and the
 * booleans, persistently (-P). It never turns SELinux off or permissive. Empty for a family
 * that does not ship SELinux.
 */
export function renderSelinuxPolicy(t: Topology, profile: OsProfile): string | false {
  if (profile.selinuxPolicyPackages.length === 0) return false;
  const port = t.loadBalancer.listenPort;
  return [
    '# SELinux, where enabled (RHEL\'s default: enforcing). Set up in permissive mode too, so that',
    '# turning enforcing on later breaks nothing. SELinux itself is left as it is.',
    'if command -v getenforce >/dev/null 2>&1 && [ "$(getenforce)" != Disabled ]; then',
    ...ensurePackages(profile.packageManager, profile.selinuxPolicyPackages).split('\n').map((l) => `  ${l}`),
    '  # awk reads the whole list (no early exit, so no SIGPIPE under pipefail).',
    `  if ! semanage port -l | awk -v port=${port} '$1 == "http_port_t" && $2 == "tcp" { for (i = 3; i <= NF; i++) { sub(/,$/, "", $i); if ($i == port) found = 1 } } END { exit !found }'; then`,
    '    # -a fails when the policy already gives the port another type; -m then changes it.',
    `    semanage port -a -t http_port_t -p tcp ${port} 2>/dev/null || semanage port -m -t http_port_t -p tcp ${port}`,
    '  fi',
    `  for boolean in ${LB_SELINUX_BOOLEANS.join(' ')}; do`,
    '    if [ "$(getsebool "$boolean" | awk \'{print $NF}\')" != on ]; then',
    '      setsebool -P "$boolean" on',
    '    fi',
    '  done',
    'fi',
  ].join('\n');
}
