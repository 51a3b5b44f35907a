import { GatewayHost, SSH_PORT, Topology } from '../topology';
import { osProfile } from '../os-profiles';
import { ensurePackages, DISABLE_FIREWALLD } from '../os-profiles/packages';
import { printIptablesRestore, Rule, Ruleset } from '../formats/ruleset';
import { INSTALL_IF_CHANGED, shellBody, shellScript } from '../formats/shell';
import { CONNTRACKD_SYNC_PORT, pairSetup, peerOf } from './pair';

const ICMP_ECHO_REQUEST = 8;

/**
 * What a gateway of a pair accepts from its peer on top of a single gateway's INPUT rules: the peer's VRRP
 * adverts on both networks (keepalived's two instances), and its conntrackd state sync on the inside.
 */
function fromPeer(host: GatewayHost, peer: GatewayHost): Rule[] {
  return [
    {
      comment: `VRRP from ${peer.name} on both networks: the pair moves the inside and the outside VIP together.`,
      source: peer.inside.address, inInterface: host.inside.interface, vrrp: true, target: { jump: 'ACCEPT' },
    },
    { source: peer.outside.address, inInterface: host.outside.interface, vrrp: true, target: { jump: 'ACCEPT' } },
    {
      comment: `conntrackd's state sync from ${peer.name} only: the connections (and their NAT) it holds, ready before it fails.`,
      source: peer.inside.address, destination: host.inside.address, inInterface: host.inside.interface,
      udpDestinationPort: CONNTRACKD_SYNC_PORT, target: { jump: 'ACCEPT' },
    },
  ];
}

/**
 * A gateway's whole IPv4 ruleset: loading it with `iptables-restore` replaces the nat and filter
 * tables in one step, so applying it twice gives the same tables. Both gateways of a pair get the same
 * rules but for their own addresses: the NAT is to and from the VIPs, so a connection keeps its
 * addresses whichever gateway forwards it.
 */
export function gatewayRuleset(t: Topology, host: GatewayHost = t.gateway.hosts[0]): Ruleset {
  const g = t.gateway;
  const peer = peerOf(t, host);
  const inside = g.inside.interface;
  const outside = g.outside.interface;
  const port = t.loadBalancer.listenPort;
  const vip = t.loadBalancer.vip;
  const internal = t.networks.internal;
  const replies: Rule = { ctstate: ['RELATED', 'ESTABLISHED'], target: { jump: 'ACCEPT' } };
  return {
    comment: 'iptables-restore ruleset for the k8s-ha-edge gateway. Generated from the topology.',
    tables: [
      {
        name: 'nat',
        chains: [
          {
            name: 'PREROUTING',
            policy: 'ACCEPT',
            rules: [{
              comment: `DNAT: clients reach ${g.outside.address}:${port}, served by the load balancers' VIP.`,
              destination: g.outside.address, inInterface: outside, tcpDestinationPort: port,
              target: { jump: 'DNAT', toDestination: `${vip}:${port}` },
            }],
          },
          { name: 'INPUT', policy: 'ACCEPT', rules: [] },
          { name: 'OUTPUT', policy: 'ACCEPT', rules: [] },
          {
            name: 'POSTROUTING',
            policy: 'ACCEPT',
            rules: [{
              comment: `SNAT: the whole internal network leaves as ${g.outside.address}.`,
              source: internal, outInterface: outside,
              target: { jump: 'SNAT', toSource: g.outside.address },
            }],
          },
        ],
      },
      {
        name: 'filter',
        chains: [
          {
            name: 'INPUT',
            policy: 'DROP',
            rules: [
              { inInterface: 'lo', target: { jump: 'ACCEPT' } },
              replies,
              peer === undefined ? {
                comment: `SSH from the inside only: the operator's terraform reaches the gateway on ${g.inside.address}.`,
                source: internal, inInterface: inside, tcpDestinationPort: SSH_PORT, target: { jump: 'ACCEPT' },
              } : {
                // Never on the VIP: SSH there would reach whichever gateway holds it, under another host key.
                comment: `SSH from the inside only, to this gateway's own address: the operator's terraform reaches ${host.name} on ${host.inside.address}.`,
                source: internal, destination: host.inside.address, inInterface: inside, tcpDestinationPort: SSH_PORT, target: { jump: 'ACCEPT' },
              },
              ...(peer === undefined ? [] : fromPeer(host, peer)),
              { icmpType: ICMP_ECHO_REQUEST, target: { jump: 'ACCEPT' } },
            ],
          },
          {
            name: 'FORWARD',
            policy: 'DROP',
            rules: [
              {
                comment: 'First: packets conntrack cannot place (out-of-window, stray, forged) never reach an ACCEPT below.',
                ctstate: ['INVALID'], target: { jump: 'DROP' },
              },
              {
                // conntrack's default loose mode (nf_conntrack_tcp_loose=1) takes a bare mid-stream ACK as
                // NEW, not INVALID: without this rule the DNAT accept below would forward ACK floods to the VIP,
                // which the load balancers' in-flight forwarding then copies to every peer.
                comment: 'Then: a TCP segment that would open a connection but is not a SYN (a mid-stream ACK that loose conntrack calls NEW).',
                tcpNotSyn: true, ctstate: ['NEW'], target: { jump: 'DROP' },
              },
              replies,
              {
                comment: 'The DNAT flow, and nothing else, from outside to inside.',
                destination: vip, inInterface: outside, outInterface: inside, tcpDestinationPort: port, ctstate: ['DNAT'],
                target: { jump: 'ACCEPT' },
              },
              { source: internal, inInterface: inside, outInterface: outside, target: { jump: 'ACCEPT' } },
            ],
          },
          { name: 'OUTPUT', policy: 'ACCEPT', rules: [] },
        ],
      },
    ],
  };
}

/** ICMPv6 types: echo request, and the neighbour discovery messages IPv6 cannot work without (RFC 4861). */
const ICMPV6 = { ECHO_REQUEST: 128, ROUTER_SOLICITATION: 133, ROUTER_ADVERTISEMENT: 134, NEIGHBOR_SOLICITATION: 135, NEIGHBOR_ADVERTISEMENT: 136 } as const;

/**
 * The gateway's IPv6 ruleset, with the IPv4 ruleset's intent: sshd listens on :: too, so without
 * it SSH would be open to the outside over IPv6 (link-local addresses exist on every NIC with
 * IPv6 on). The topology routes no IPv6, so nothing is forwarded and there is no nat table.
 */
export function gatewayRuleset6(t: Topology): Ruleset {
  const g = t.gateway;
  const accept = { jump: 'ACCEPT' } as const;
  return {
    comment: 'ip6tables-restore ruleset for the k8s-ha-edge gateway. Generated from the topology.',
    tables: [{
      name: 'filter',
      chains: [
        {
          name: 'INPUT',
          policy: 'DROP',
          rules: [
            { inInterface: 'lo', target: accept },
            { ctstate: ['RELATED', 'ESTABLISHED'], target: accept },
            { comment: 'Neighbour discovery: without it no IPv6 address on a link is reachable at all.', icmpv6Type: ICMPV6.ROUTER_SOLICITATION, target: accept },
            { icmpv6Type: ICMPV6.ROUTER_ADVERTISEMENT, target: accept },
            { icmpv6Type: ICMPV6.NEIGHBOR_SOLICITATION, target: accept },
            { icmpv6Type: ICMPV6.NEIGHBOR_ADVERTISEMENT, target: accept },
            { icmpv6Type: ICMPV6.ECHO_REQUEST, target: accept },
            {
              comment: `SSH from the inside interface only, as over IPv4 (${g.inside.interface}).`,
              inInterface: g.inside.interface, tcpDestinationPort: SSH_PORT, target: accept,
            },
          ],
        },
        { name: 'FORWARD', policy: 'DROP', rules: [] },
        { name: 'OUTPUT', policy: 'ACCEPT', rules: [] },
      ],
    }],
  };
}

/** firewall6.rules: the gateway's IPv6 ruleset in ip6tables-restore format. */
export function renderFirewall6Rules(t: Topology): string {
  return printIptablesRestore(gatewayRuleset6(t));
}

/** firewall.rules: a gateway's ruleset in iptables-restore format. */
export function renderFirewallRules(t: Topology, host: GatewayHost = t.gateway.hosts[0]): string {
  return printIptablesRestore(gatewayRuleset(t, host));
}

export const FORWARDING_SYSCTL_FILE = '/etc/sysctl.d/99-gateway-forwarding.conf';

/**
 * setup-gateway.sh: the ruleset applied atomically and persisted, then forwarding on (now and at boot);
 * on a gateway of a pair, then conntrackd and keepalived (see pair.ts).
 */
export function renderSetupGateway(t: Topology, host: GatewayHost = t.gateway.hosts[0]): string {
  const profile = osProfile(host);
  const persisted = profile.firewallPersistence;
  const pair = t.gateway.pair !== undefined;
  return shellScript(
    pair
      ? `Turns ${host.name} into one of the pair of NAT firewalls between ${t.networks.internal} and ${t.networks.external}.`
      : `Turns ${host.name} into the NAT firewall between ${t.networks.internal} and ${t.networks.external}.`,
    'cd "$(dirname "$0")"',
    INSTALL_IF_CHANGED,
    // On every family, not only where firewalld is the default: its zones would filter beside this ruleset.
    DISABLE_FIREWALLD,
    ensurePackages(profile.packageManager, [...persisted.packages, ...(pair ? profile.gatewayPairPackages : [])], { answers: persisted.answers }),
    '',
    shellBody('gateway/setup-gateway.sh', {
      FORWARDING_SYSCTL_FILE,
      RULES_V4_FILE: persisted.ipv4.file,
      RULES_V6_FILE: persisted.ipv6.file,
      FIREWALL_SERVICES: [...new Set([persisted.ipv4.service, persisted.ipv6.service])],
    }),
    pair && '',
    pair && pairSetup(host),
  );
}
