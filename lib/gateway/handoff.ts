import { GatewayHost } from '../topology';
import { HashLimit, printIptablesRestore, Ruleset } from '../formats/ruleset';
import { shellBody, ShellPart } from '../formats/shell';

/**
 * The handoff: what keeps a connection alive when its packets reach the gateway of a pair that does not
 * know it, while the other gateway does.
 *
 * conntrackd copies each gateway's connections to its peer, but a copy is not instant, and the MASTER
 * commits its peer's copies into its kernel only once, when it becomes MASTER. So when the VIPs move
 * between two live gateways (a failback, a drain), a connection opened in that instant can straddle
 * them: its SYN went through one gateway (which NATed it), its answer comes back through the other,
 * which has no entry for it, drops it as INVALID, and the client's next try comes a second later
 * (measured in the lab: about one failback in ten lost a request that way). The same happens to the
 * packets of established connections that reach the new MASTER before its commit ends.
 *
 * So a gateway of a pair hands such a packet to its peer instead of dropping it: a TCP segment that is
 * not a SYN, that conntrack cannot place (INVALID, or NEW), and that is not for one of this gateway's own
 * addresses (its SSH) goes unchanged (TEE, from the mangle table, before any NAT) to the peer's own inside
 * address, and is dropped here. The peer, which knows the connection, NATs and forwards it as its own.
 *
 * Loop-free whatever a path does to a header: a handed-off packet is recognised on arrival by the
 * sending peer's MAC address (learned from the neighbour table, where conntrackd's and keepalived's
 * traffic between the two keeps it) and is never handed back: if the peer cannot place it either, nobody
 * can, and it is dropped. Until the peer's MAC is known, every such packet is dropped, as it would be
 * without the handoff (the filter table drops INVALID and non-SYN NEW segments anyway), so the handoff
 * can only ever save a packet, never send one anywhere twice. A rate limit per connection bounds what any
 * bug could still amplify.
 */

/** PREROUTING (mangle) jumps here for every packet; one rule picks the TCP segments conntrack cannot place. */
export const HANDOFF_ENTRY_CHAIN = 'K8S_HA_EDGE_GW';
/** The segments picked: this gateway's own connections stay here, a peer's handoffs are dropped, the rest go to the peer. */
export const HANDOFF_CHAIN = 'K8S_HA_EDGE_GW_HANDOFF';
/**
 * Filled by the script: the peer's MAC address, dropping what the peer handed over. Its one rule in the
 * file drops everything, so that nothing is handed off until the script has learned the peer's MAC.
 */
export const HANDOFF_FROM_PEER_CHAIN = 'K8S_HA_EDGE_GW_FROM_PEER';
export const HANDOFF_RULES_FILE = '/etc/keepalived/k8s-ha-edge-gateway-handoff.rules';
/**
 * The inside interface's reverse-path filter, loose: a client's segment handed over by the peer arrives on
 * the inside NIC from an outside address, which the strict filter (rp_filter 1, RHEL's default) drops.
 */
export const HANDOFF_SYSCTL_FILE = '/etc/sysctl.d/99-k8s-ha-edge-gateway-handoff.conf';
/**
 * At most this many segments a second handed off per client connection (srcip, srcport), beyond: dropped,
 * as without the handoff. A download's ACKs stay far below; a loop would not.
 */
export const HANDOFF_RATE: HashLimit = { perSecond: 10000, burst: 1000, mode: ['srcip', 'srcport'], name: 'k8s-ha-edge-gw' };
/** How often (seconds) the transition script looks for a new peer MAC in the neighbour table. */
export const PEER_MAC_REFRESH_SECONDS = 1;

/**
 * The handoff's chains (mangle table), loaded with `iptables-restore --noflush`: only these chains are
 * emptied and refilled, nothing else is touched; the script hooks the entry chain into PREROUTING once.
 */
export function handoffRuleset(host: GatewayHost, peer: GatewayHost): Ruleset {
  return {
    comment: `k8s-ha-edge handoff on ${host.name}: segments of connections only ${peer.name} knows go to ${peer.name}. Generated from the topology.`,
    tables: [{
      name: 'mangle',
      chains: [
        {
          name: HANDOFF_ENTRY_CHAIN,
          rules: [{
            comment: 'TCP segments conntrack cannot place (INVALID, or NEW but not a SYN); a SYN always opens its connection here.',
            tcpNotSyn: true, ctstate: ['INVALID', 'NEW'], target: { jump: 'CHAIN', chain: HANDOFF_CHAIN },
          }],
        },
        {
          name: HANDOFF_CHAIN,
          rules: [
            { comment: "This gateway's own connections (SSH to its own addresses) are never handed off.", destination: host.inside.address, target: { jump: 'RETURN' } },
            { destination: host.outside.address, target: { jump: 'RETURN' } },
            { inInterface: 'lo', target: { jump: 'RETURN' } },
            { comment: `Handed over by ${peer.name} (its MAC; the script fills the chain): never handed back.`, target: { jump: 'CHAIN', chain: HANDOFF_FROM_PEER_CHAIN } },
            {
              // TEE takes one off the copy's TTL at PREROUTING (to end loops between two hosts) but wraps a 0 to 255.
              comment: 'A TTL of 0 or 1: never handed off (so even two gateways that both mistook each other\'s MAC could pass a segment back and forth only until its TTL runs out).',
              ttl: { op: 'lt', value: 2 }, target: { jump: 'DROP' },
            },
            { comment: `At most ${HANDOFF_RATE.perSecond} segments a second per client connection: whatever goes wrong, nothing is amplified beyond.`, hashlimitAbove: HANDOFF_RATE, target: { jump: 'DROP' } },
            { comment: `Unchanged, before any NAT, to ${peer.name}, which knows the connection.`, target: { jump: 'TEE', gateway: peer.inside.address } },
            { comment: 'Handed off: dropped here.', target: { jump: 'DROP' } },
          ],
        },
        {
          name: HANDOFF_FROM_PEER_CHAIN,
          rules: [{ comment: `Until the script learns ${peer.name}'s MAC address: nothing is handed off.`, target: { jump: 'DROP' } }],
        },
      ],
    }],
  };
}

export function renderHandoffRules(host: GatewayHost, peer: GatewayHost): string {
  return printIptablesRestore(handoffRuleset(host, peer));
}

/**
 * The sysctl key of the inside NIC's reverse-path filter. An interface name may hold dots (a VLAN:
 * eth0.10), so such a key is written with slashes, which sysctl.d reads as the separators then.
 */
export function rpFilterKey(host: GatewayHost): string {
  const nic = host.inside.interface;
  return nic.includes('.') ? `net/ipv4/conf/${nic}/rp_filter` : `net.ipv4.conf.${nic}.rp_filter`;
}

/** The sysctl file: the inside NIC's reverse-path filter loose (see HANDOFF_SYSCTL_FILE). */
export function renderHandoffSysctl(host: GatewayHost): string {
  return [
    '# k8s-ha-edge gateway of a pair: segments the peer hands over arrive on the inside NIC from outside addresses (loose: 2).',
    `${rpFilterKey(host)} = 2`,
    '',
  ].join('\n');
}

/** The handoff's shell functions (arm, refresh), part of the transition script. */
export function handoffFunctions(host: GatewayHost, peer: GatewayHost): ShellPart {
  return shellBody('gateway/handoff.sh', {
    HANDOFF_RULES_FILE,
    ENTRY_CHAIN: HANDOFF_ENTRY_CHAIN,
    HANDOFF_CHAIN,
    FROM_PEER_CHAIN: HANDOFF_FROM_PEER_CHAIN,
    PEER_ADDRESS: peer.inside.address,
    INSIDE_INTERFACE: host.inside.interface,
  });
}
