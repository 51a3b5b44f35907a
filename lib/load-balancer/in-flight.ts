import { LoadBalancerHost, Topology } from '../topology';
import { HashLimit, printIptablesRestore, Rule, Ruleset } from '../formats/ruleset';
import { lines, shellBody, ShellPart, shellScript } from '../formats/shell';

/**
 * In-flight forwarding: what keeps a planned move of the VIP (failback, a drain, `systemctl stop
 * nginx`) from resetting the requests in flight at that instant.
 *
 * nginx's connections live in the process of the load balancer that accepted them; when the VIP
 * moves, the gateway sends their next segments to the new holder, whose kernel has no socket for
 * them and answers with a reset: measured in the lab, about one failback or drain in ten lost a
 * request that way. So each load balancer keeps the VIP on lo (it answers no ARP for it there: see
 * the sysctl file) and a small mangle ruleset. A segment to VIP:port that is not a connection's first:
 * - belongs to a socket of this host: served here;
 * - arrives from a peer's MAC address (a copy the VIP holder passed on): never copied again, whatever
 *   the path did to its IP header; with two load balancers nobody else can own it, so this host's TCP
 *   stack resets it (the client fails at once instead of after its retransmission timeout); with three
 *   or more another peer may own it, so it is dropped;
 * - on the VIP holder only: copied (TEE) to every peer at a bounded rate per connection, dropped here;
 * - on a load balancer that does not hold the VIP: dropped (the client's retransmission reaches the
 *   holder once the gateway's ARP entry moved).
 * New connections (SYNs) are always served by whoever holds the VIP.
 *
 * The peers' MAC addresses are not in the topology: the script learns them from the neighbour table
 * after probing the peers, so the guard does not rest on a DSCP mark or a TTL (a switch port or a cloud
 * QoS policy may rewrite DSCP, and a copy's TTL has no floor: one segment looped 800,000 times in 1.3 s
 * before this guard). The rate limit bounds what any bug could still amplify.
 *
 * keepalived forks its notify scripts, in no promised order; every step of the script holds one lock
 * and applies the state in force (is the VIP on the VRRP interface?), so the last one to run leaves
 * the rules right whatever order the forks took.
 */

/** PREROUTING jumps here for every packet; one rule picks the segments to the VIP's port that are not SYNs. */
export const IN_FLIGHT_ENTRY_CHAIN = 'K8S_HA_EDGE_LB';
/** The segments picked: this host's own connections return, a peer's copies are settled, the rest copied or dropped. */
export const IN_FLIGHT_CHAIN = 'K8S_HA_EDGE_IN_FLIGHT';
/** Filled by the script: one rule per peer MAC address learned, so a copy from a peer is never copied again. */
export const IN_FLIGHT_FROM_PEER_CHAIN = 'K8S_HA_EDGE_FROM_PEER';
/** The copying, on the VIP holder only (empty on the others): rate limit, one TEE per peer, drop. */
export const IN_FLIGHT_COPY_CHAIN = 'K8S_HA_EDGE_COPY';
export const IN_FLIGHT_RULES_FILE = '/etc/keepalived/k8s-ha-edge-in-flight.rules';
export const IN_FLIGHT_SCRIPT = '/etc/keepalived/k8s-ha-edge-in-flight.sh';
export const IN_FLIGHT_UNIT = 'k8s-ha-edge-in-flight.service';
/** Every step of the script holds this lock: keepalived's notify forks and the unit never interleave. */
export const IN_FLIGHT_LOCK_FILE = '/run/k8s-ha-edge-in-flight.lock';
/**
 * The most segments per second one client connection gets copied (beyond: dropped here). A passed-on
 * download's ACKs stay far below (a 100 Mbit/s download sends about 4,000 a second); a loop would not.
 * 10000/s is the highest rate every hashlimit revision accepts.
 */
export const COPY_RATE: HashLimit = { perSecond: 10000, burst: 1000, mode: ['srcip', 'srcport'], name: 'k8s-ha-edge-tee' };
/**
 * How long the script probes a peer's LB port. A live peer on the same network answers in a
 * millisecond; the bound is how long copies may still go to a peer that has just died.
 */
const PEER_PROBE_SECONDS = 0.5;
/**
 * How long the new MASTER keeps probing (once a second) the peers it still copies to: connections
 * that were in flight at a move end within this in practice (a download lasting longer is reset
 * only if its load balancer goes down after it).
 */
const PEER_WATCH_SECONDS = 300;
/**
 * How long a step waits for the VIP to arrive on (`master`) or leave (`arm`) the VRRP interface
 * before it applies the state it finds: keepalived's notify and its address change race.
 */
const SETTLE_SECONDS = 1;
/** The pid of that watch, so that a later transition (or the unit's stop) ends it. */
export const IN_FLIGHT_WATCH_PID_FILE = '/run/k8s-ha-edge-in-flight.watch';

/** Whether a load balancer gets in-flight forwarding: the topology asks for it and there is a peer to pass to. */
export function forwardsInFlight(t: Topology): boolean {
  return t.loadBalancer.forwardInFlight && t.loadBalancer.hosts.length > 1;
}

function peersOf(t: Topology, host: LoadBalancerHost): string[] {
  return t.loadBalancer.hosts.filter((h) => h.name !== host.name).map((h) => h.address);
}

/**
 * What a load balancer does with a copy from a peer that no socket of its own owns: with two load
 * balancers the holder that passed it on owns none either, so nobody does and this host's TCP stack
 * resets it (ACCEPT: on to local delivery, where the VIP on lo has no socket for it); with three or
 * more another peer may own it, so it is dropped (its reset would kill that peer's connection).
 */
export function passedOnVerdict(t: Topology): 'ACCEPT' | 'DROP' {
  return t.loadBalancer.hosts.length === 2 ? 'ACCEPT' : 'DROP';
}

/** The rule the script adds to IN_FLIGHT_FROM_PEER_CHAIN for a peer's MAC address. */
export function fromPeerRule(t: Topology, mac: string): Rule {
  return { macSource: mac, target: { jump: passedOnVerdict(t) } };
}

/** Whether the rules are those of the VIP holder (it copies) or of a load balancer on standby (it never copies). */
export type InFlightRole = 'holder' | 'standby';

/**
 * The ruleset loaded with `iptables-restore --noflush`: only its own chains of the mangle table,
 * nothing else touched. The file holds the holder's; the script loads it without the copy chain's
 * rules on a load balancer that does not hold the VIP (the standby ruleset here), and adds the
 * from-peer rules it learned.
 */
export function inFlightRuleset(t: Topology, host: LoadBalancerHost, role: InFlightRole = 'holder'): Ruleset {
  const lb = t.loadBalancer;
  const passedOn = passedOnVerdict(t) === 'ACCEPT'
    ? 'with two load balancers nobody owns it, so it is reset here'
    : 'another peer may own it, so it is dropped';
  return {
    comment: `k8s-ha-edge in-flight forwarding on ${host.name}: segments of connections a peer serves go to the peers. Generated from the topology.`,
    tables: [{
      name: 'mangle',
      chains: [
        {
          name: IN_FLIGHT_ENTRY_CHAIN,
          rules: [{
            comment: `Segments to the VIP's port, but a connection's first (a SYN is served by whoever holds ${lb.vip}).`,
            destination: lb.vip, tcpDestinationPort: lb.listenPort, tcpNotSyn: true, target: { jump: 'CHAIN', chain: IN_FLIGHT_CHAIN },
          }],
        },
        {
          name: IN_FLIGHT_CHAIN,
          rules: [
            { comment: "A connection of this host's nginx: served here.", socket: true, target: { jump: 'RETURN' } },
            { comment: `A copy from a peer (its MAC address; the script fills the chain) is never copied again: ${passedOn}.`, target: { jump: 'CHAIN', chain: IN_FLIGHT_FROM_PEER_CHAIN } },
            { comment: 'On the VIP holder only: copied to every peer.', target: { jump: 'CHAIN', chain: IN_FLIGHT_COPY_CHAIN } },
            { comment: 'Not the holder: dropped; the retransmission reaches the holder once the gateway follows the VIP.', target: { jump: 'DROP' } },
          ],
        },
        { name: IN_FLIGHT_FROM_PEER_CHAIN, rules: [] },
        {
          name: IN_FLIGHT_COPY_CHAIN,
          rules: role === 'standby' ? [] : [
            { comment: `At most ${COPY_RATE.perSecond} copies a second per client connection: whatever goes wrong, nothing is amplified beyond.`, hashlimitAbove: COPY_RATE, target: { jump: 'DROP' } },
            ...peersOf(t, host).map((peer) => ({ target: { jump: 'TEE' as const, gateway: peer } })),
            { comment: 'Copied: dropped here.', target: { jump: 'DROP' } },
          ],
        },
      ],
    }],
  };
}

/** The peers a copy chain copies to, read from `iptables -S <IN_FLIGHT_COPY_CHAIN>` (the printer's TEE rules). */
export function copiedTo(chainRules: string): string[] {
  return [...chainRules.matchAll(/-j TEE --gateway (\S+)/g)].map((m) => m[1]);
}

/** What a load balancer's in-flight chains counted: the copies to each peer, and the copies from peers it took. */
export interface InFlightCounters {
  /** Packets copied (TEE) to each peer address. */
  readonly copiesTo: Readonly<Record<string, number>>;
  /** Packets recognised as a peer's copy (the from-peer chain's rules, summed). */
  readonly fromPeers: number;
}

/** The counters of the copy and from-peer chains, read from `iptables-save -c -t mangle` (`[packets:bytes] -A …` lines). */
export function inFlightCounters(save: string): InFlightCounters {
  const copiesTo: Record<string, number> = {};
  let fromPeers = 0;
  for (const m of save.matchAll(/^\[(\d+):\d+\] -A (\S+) (.*)$/gm)) {
    const [, packets, chain, rest] = m;
    const tee = /-j TEE --gateway (\S+)/.exec(rest);
    if (chain === IN_FLIGHT_COPY_CHAIN && tee) copiesTo[tee[1]] = (copiesTo[tee[1]] ?? 0) + Number(packets);
    if (chain === IN_FLIGHT_FROM_PEER_CHAIN) fromPeers += Number(packets);
  }
  return { copiesTo, fromPeers };
}

export function renderInFlightRules(t: Topology, host: LoadBalancerHost): string {
  return printIptablesRestore(inFlightRuleset(t, host));
}

/** in-flight.sh, installed as IN_FLIGHT_SCRIPT: `arm`, `master` and `disarm` (run by the unit and by keepalived's notify). */
export function renderInFlightScript(t: Topology, host: LoadBalancerHost): string {
  return shellScript(
    `In-flight forwarding on ${host.name}: the connections another load balancer serves stay with it when the VIP moves here.`,
    shellBody('load-balancer/in-flight.sh', {
      ENTRY_CHAIN: IN_FLIGHT_ENTRY_CHAIN,
      IN_FLIGHT_CHAIN,
      COPY_CHAIN: IN_FLIGHT_COPY_CHAIN,
      FROM_PEER_CHAIN: IN_FLIGHT_FROM_PEER_CHAIN,
      FROM_PEER_VERDICT: passedOnVerdict(t),
      RULES_FILE: IN_FLIGHT_RULES_FILE,
      LOCK_FILE: IN_FLIGHT_LOCK_FILE,
      VIP: t.loadBalancer.vip,
      VRRP_INTERFACE: host.interface,
      LISTEN_PORT: t.loadBalancer.listenPort,
      PEERS: peersOf(t, host),
      SETTLE_SECONDS,
      PROBE_SECONDS: PEER_PROBE_SECONDS,
      WATCH_SECONDS: PEER_WATCH_SECONDS,
      WATCH_PID_FILE: IN_FLIGHT_WATCH_PID_FILE,
    }),
  );
}

/** The unit that arms the forwarding at boot, before keepalived can move the VIP here, and disarms it when stopped. */
export function renderInFlightUnit(): string {
  return lines(
    '# k8s-ha-edge: in-flight forwarding of a load balancer (see the script). Generated from the topology.',
    '[Unit]',
    'Description=k8s-ha-edge: pass segments of connections another load balancer serves to it',
    'Before=keepalived.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${IN_FLIGHT_SCRIPT} arm`,
    `ExecReload=${IN_FLIGHT_SCRIPT} arm`,
    `ExecStop=${IN_FLIGHT_SCRIPT} disarm`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
}

/** The part of setup-lb.sh that installs and arms it (the files come in the bundle). */
export function inFlightSetup(): ShellPart {
  return shellBody('load-balancer/in-flight-setup.sh', { IN_FLIGHT_RULES_FILE, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT });
}

/** keepalived's notify commands: `master` on becoming MASTER, `arm` on becoming BACKUP or FAULT; as root (iptables). */
export function inFlightNotify(): { master: string; backup: string } {
  return { master: `${IN_FLIGHT_SCRIPT} master`, backup: `${IN_FLIGHT_SCRIPT} arm` };
}
