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
 * - arrives from a peer's MAC address: a copy, passed along a chain (never copied afresh, whatever the
 *   path did to its IP header): see below;
 * - on the VIP holder only: one copy (TEE, at a bounded rate per connection) to the first peer of the
 *   chain, with its TTL set to COPY_TTL; dropped here;
 * - on a load balancer that does not hold the VIP: dropped (the client's retransmission reaches the
 *   holder once the gateway's ARP entry moved).
 * New connections (SYNs) are always served by whoever holds the VIP.
 *
 * The chain. The load balancers stand in a fixed line, by falling priority (`copyLine`, the same on
 * every host). The holder copies to the first other load balancer of the line; each one that has no
 * socket for the copy passes it to the next of the line (the holder too, when the chain reaches it),
 * so a copy only ever moves forward along the line: it visits each load balancer at most once and
 * cannot loop, whatever a path does to DSCP or TTL, and in split brain too. A copy's TTL counts the
 * load balancers it visited (TEE takes one off at PREROUTING; the holder adds back the one it takes,
 * being no stop of its own chain): the one that gets it with LAST_COPY_TTL is the last that could own it,
 * so when it has no socket either, nobody has, and its TCP stack resets it (the client learns within a
 * round trip). A TTL no chain makes is dropped. A ring (the last passing back to the first, ended by the
 * holder) would need a holder to end it: a copy whose TTL a path rewrites would circle without end
 * while the VIP moves and nobody holds it; the line needs no one to end it.
 *
 * The peers' MAC addresses are not in the topology: the script learns them from the neighbour table
 * after probing the peers, so a copy is told from a client's segment by who sent it, not by a DSCP
 * mark (a switch port or a cloud QoS policy may rewrite DSCP: one segment looped 800,000 times in
 * 1.3 s when the guard rested on it). The rate limit bounds what any bug could still amplify.
 *
 * keepalived forks its notify scripts, in no promised order; every step of the script holds one lock
 * and applies the state in force (is the VIP on the VRRP interface?), so the last one to run leaves
 * the rules right whatever order the forks took.
 */

/** PREROUTING jumps here for every packet; one rule picks the segments to the VIP's port that are not SYNs. */
export const IN_FLIGHT_ENTRY_CHAIN = 'K8S_HA_EDGE_LB';
/** The segments picked: this host's own connections return, a peer's copies are settled, the rest copied or dropped. */
export const IN_FLIGHT_CHAIN = 'K8S_HA_EDGE_IN_FLIGHT';
/** Filled by the script: one rule per peer MAC address learned, sending a peer's copy to a relay chain, never to the copying. */
export const IN_FLIGHT_FROM_PEER_CHAIN = 'K8S_HA_EDGE_FROM_PEER';
/** A copy from a peer on a load balancer that does not hold the VIP: reset when last, passed on, or dropped. */
export const IN_FLIGHT_RELAY_CHAIN = 'K8S_HA_EDGE_RELAY';
/** A copy from a peer on the VIP holder (split brain, or the chain passing through it): passed on or dropped, never reset. */
export const IN_FLIGHT_HOLDER_RELAY_CHAIN = 'K8S_HA_EDGE_RELAY_HOLDER';
/** The copying, on the VIP holder only (empty on the others): rate limit, the copy's TTL, one TEE, drop. */
export const IN_FLIGHT_COPY_CHAIN = 'K8S_HA_EDGE_COPY';
export const IN_FLIGHT_RULES_FILE = '/etc/keepalived/k8s-ha-edge-in-flight.rules';
export const IN_FLIGHT_SCRIPT = '/etc/keepalived/k8s-ha-edge-in-flight.sh';
export const IN_FLIGHT_UNIT = 'k8s-ha-edge-in-flight.service';
/** The unit that arms the forwarding again after firewalld emptied the iptables tables (its start, reload or stop). */
export const IN_FLIGHT_REARM_UNIT = 'k8s-ha-edge-in-flight-rearm.service';
/** Every step of the script holds this lock: keepalived's notify forks and the unit never interleave. */
export const IN_FLIGHT_LOCK_FILE = '/run/k8s-ha-edge-in-flight.lock';
/**
 * The most segments per second one client connection gets copied (beyond: dropped here). A passed-on
 * download's ACKs stay far below (a 100 Mbit/s download sends about 4,000 a second); a loop would not.
 * 10000/s is the highest rate every hashlimit revision accepts.
 */
export const COPY_RATE: HashLimit = { perSecond: 10000, burst: 1000, mode: ['srcip', 'srcport'], name: 'k8s-ha-edge-tee' };
/**
 * The TTL the holder gives the segment it copies. Far from the TTLs hosts start with (64, 128, 255),
 * so that a path rewriting TTLs to one of those takes a copy out of the chain's range (dropped), rather
 * than making it look like one of the chain's.
 */
export const COPY_TTL = 200;
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
/** How long the script waits after firewalld's signal before it looks at its hook (and between its looks). */
const FIREWALLD_SETTLE_SECONDS = 3;
/** The pid of that watch, so that a later transition (or the unit's stop) ends it. */
export const IN_FLIGHT_WATCH_PID_FILE = '/run/k8s-ha-edge-in-flight.watch';

/** The load balancers in the order a copy travels: by falling priority, decided here, so the same on every host. */
export function copyLine(t: Topology): readonly LoadBalancerHost[] {
  return [t.loadBalancer.master, ...t.loadBalancer.backups];
}

/** The other load balancers in line order: the ones a copy from `host` (as holder) visits, in that order. */
export function peersOf(t: Topology, host: LoadBalancerHost): readonly LoadBalancerHost[] {
  return copyLine(t).filter((h) => h.name !== host.name);
}

/** The next load balancer of the line after `host`, the one it passes a copy to; undefined for the last. */
export function successorOf(t: Topology, host: LoadBalancerHost): LoadBalancerHost | undefined {
  const line = copyLine(t);
  return line[line.findIndex((h) => h.name === host.name) + 1];
}

/**
 * The TTL a copy arrives with at the last load balancer that could own it: the holder's copy visits
 * the N-1 others, and each TEE takes one off (the holder's own relaying adds its one back).
 */
export function lastCopyTtl(t: Topology): number {
  return COPY_TTL - (t.loadBalancer.hosts.length - 1);
}

/**
 * Where the holder sends its one copy, and with which TTL, when only `live` of its peers answer:
 * to the first live peer of the line, with a TTL that makes the last live one the chain's last
 * (`lastCopyTtl`): a dead peer before the first or after the last live one is left out. Undefined
 * when none is live (then nobody but this host can own a segment: its own TCP stack resets it).
 */
export function copyOrigin(t: Topology, holder: LoadBalancerHost, live: readonly string[] = peersOf(t, holder).map((h) => h.address)): { gateway: string; ttlSet: number } | undefined {
  const peers = peersOf(t, holder).map((h) => h.address);
  const first = peers.findIndex((p) => live.includes(p));
  if (first < 0) return undefined;
  const last = peers.length - 1 - [...peers].reverse().findIndex((p) => live.includes(p));
  return { gateway: peers[first], ttlSet: lastCopyTtl(t) + (last - first + 1) };
}

/** The chain a copy from a peer goes to: the holder relays, the others relay or reset. */
export function relayChainOf(role: InFlightRole): string {
  return role === 'holder' ? IN_FLIGHT_HOLDER_RELAY_CHAIN : IN_FLIGHT_RELAY_CHAIN;
}

/** The rule the script adds to IN_FLIGHT_FROM_PEER_CHAIN for a peer's MAC address. */
export function fromPeerRule(mac: string, role: InFlightRole): Rule {
  return { macSource: mac, target: { jump: 'CHAIN', chain: relayChainOf(role) } };
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
  const last = lastCopyTtl(t);
  const next = successorOf(t, host);
  // With two load balancers every copy is at its last stop: nothing is ever passed on.
  const passes = next !== undefined && lb.hosts.length > 2;
  const limit = rateLimit();
  const passOn: readonly Rule[] = !passes ? [] : [
    { comment: 'A TTL no chain makes (a path rewrote it): dropped.', ttl: { op: 'lt', value: last }, target: { jump: 'DROP' } },
    { ttl: { op: 'gt', value: COPY_TTL - 1 }, target: { jump: 'DROP' } },
    limit,
    { comment: `Not the last: passed on to ${next.name}, the next of the line.`, target: { jump: 'TEE', gateway: next.address } },
  ];
  // The holder is no stop of its own chain: a copy reaching it still has the load balancers after it to
  // visit, so it takes one TTL fewer than a stop would (at most COPY_TTL - 2, and the last stop's too).
  const holderPassOn: readonly Rule[] = !passes ? [] : [
    { comment: 'A TTL no chain makes (a path rewrote it, or every peer had it): dropped.', ttl: { op: 'lt', value: last }, target: { jump: 'DROP' } },
    { ttl: { op: 'gt', value: COPY_TTL - 2 }, target: { jump: 'DROP' } },
    limit,
    { comment: 'The holder is not a stop of the chain: the one the TEE takes off is added back.', target: { jump: 'TTL', ttlIncrement: 1 } },
    { comment: `Passed on to ${next.name}, the next of the line.`, target: { jump: 'TEE', gateway: next.address } },
  ];
  return {
    comment: `k8s-ha-edge in-flight forwarding on ${host.name}: segments of connections a peer serves go along the load balancers to it. Generated from the topology.`,
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
            { comment: 'A copy from a peer (its MAC address; the script fills the chain) goes to a relay chain, never to the copying.', target: { jump: 'CHAIN', chain: IN_FLIGHT_FROM_PEER_CHAIN } },
            { comment: 'On the VIP holder only: one copy, to the first peer of the line.', target: { jump: 'CHAIN', chain: IN_FLIGHT_COPY_CHAIN } },
            { comment: 'Not the holder: dropped; the retransmission reaches the holder once the gateway follows the VIP.', target: { jump: 'DROP' } },
          ],
        },
        { name: IN_FLIGHT_FROM_PEER_CHAIN, rules: [] },
        {
          name: IN_FLIGHT_RELAY_CHAIN,
          rules: [
            { comment: `TTL ${last}: every other load balancer had it before and none owns it, so nobody does: on to this host's TCP stack, which resets it.`, ttl: { op: 'eq', value: last }, target: { jump: 'ACCEPT' } },
            ...passOn,
            { comment: passes ? 'Passed on: dropped here.' : 'Out of the chain\'s range: dropped.', target: { jump: 'DROP' } },
          ],
        },
        {
          name: IN_FLIGHT_HOLDER_RELAY_CHAIN,
          rules: [
            ...holderPassOn,
            { comment: 'The holder never resets a copy (the peers after it in the line may own it): dropped here.', target: { jump: 'DROP' } },
          ],
        },
        {
          name: IN_FLIGHT_COPY_CHAIN,
          rules: role === 'standby' ? [] : copyRules(t, host),
        },
      ],
    }],
  };
}

function rateLimit(): Rule {
  return { comment: `At most ${COPY_RATE.perSecond} copies a second per client connection: whatever goes wrong, nothing is amplified beyond.`, hashlimitAbove: COPY_RATE, target: { jump: 'DROP' } };
}

/**
 * The holder's copy chain when `live` of its peers answer (all of them in RULES_FILE; the script
 * rebuilds the same rules after its probes): one copy to `copyOrigin`, or, with no live peer, on to
 * this host's TCP stack (nobody else can own the segment: reset here).
 */
export function copyRules(t: Topology, holder: LoadBalancerHost, live?: readonly string[]): readonly Rule[] {
  const origin = copyOrigin(t, holder, live);
  if (origin === undefined) return [{ comment: 'No peer answers: what no socket here owns is reset here.', target: { jump: 'ACCEPT' } }];
  return [
    {
      comment: 'A TTL in the range copies travel with: a peer\'s copy whose MAC address is not learned yet, never copied afresh (a client\'s segment has such a TTL only after 56 hops or more).',
      ttl: [{ op: 'gt', value: lastCopyTtl(t) - 1 }, { op: 'lt', value: COPY_TTL }], target: { jump: 'DROP' },
    },
    rateLimit(),
    { comment: `The copy's TTL counts the load balancers it visits: the last gets ${lastCopyTtl(t)}.`, target: { jump: 'TTL', ttlSet: origin.ttlSet } },
    { comment: 'One copy, to the first peer of the line.', target: { jump: 'TEE', gateway: origin.gateway } },
    { comment: 'Copied: dropped here.', target: { jump: 'DROP' } },
  ];
}

/** The peers a copy chain copies to, read from `iptables -S <IN_FLIGHT_COPY_CHAIN>` (the printer's TEE rules). */
export function copiedTo(chainRules: string): string[] {
  return [...chainRules.matchAll(/-j TEE --gateway (\S+)/g)].map((m) => m[1]);
}

/** What a load balancer's in-flight chains counted: the copies to each peer, and the copies from peers it took. */
export interface InFlightCounters {
  /** Packets copied (TEE) to each peer address: the holder's copies and the ones passed on. */
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
    if ([IN_FLIGHT_COPY_CHAIN, IN_FLIGHT_RELAY_CHAIN, IN_FLIGHT_HOLDER_RELAY_CHAIN].includes(chain) && tee) copiesTo[tee[1]] = (copiesTo[tee[1]] ?? 0) + Number(packets);
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
      RELAY_CHAIN: IN_FLIGHT_RELAY_CHAIN,
      HOLDER_RELAY_CHAIN: IN_FLIGHT_HOLDER_RELAY_CHAIN,
      LAST_TTL: lastCopyTtl(t),
      RULES_FILE: IN_FLIGHT_RULES_FILE,
      LOCK_FILE: IN_FLIGHT_LOCK_FILE,
      VIP: t.loadBalancer.vip,
      VRRP_INTERFACE: host.interface,
      LISTEN_PORT: t.loadBalancer.listenPort,
      PEERS: peersOf(t, host).map((h) => h.address),
      SETTLE_SECONDS,
      PROBE_SECONDS: PEER_PROBE_SECONDS,
      WATCH_SECONDS: PEER_WATCH_SECONDS,
      WATCH_PID_FILE: IN_FLIGHT_WATCH_PID_FILE,
      FIREWALLD_SETTLE_SECONDS,
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
    // firewalld empties every iptables table when it starts (1.3, Debian 12's): armed after it, or the
    // rules are gone after each boot. Ordering only: a host without firewalld is not held up.
    'After=firewalld.service',
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

/**
 * The unit that follows firewalld's signals and arms the forwarding again after firewalld emptied the
 * iptables tables (`firewall-cmd --reload`, a restart): without it, in-flight forwarding would be off
 * until the next VRRP transition. Stopped with the forwarding's unit (PartOf).
 */
export function renderInFlightRearmUnit(): string {
  return lines(
    '# k8s-ha-edge: in-flight forwarding armed again after firewalld emptied the iptables tables. Generated from the topology.',
    '[Unit]',
    'Description=k8s-ha-edge: arm in-flight forwarding again after firewalld reloaded or restarted',
    `After=${IN_FLIGHT_UNIT}`,
    `PartOf=${IN_FLIGHT_UNIT}`,
    '',
    '[Service]',
    `ExecStart=${IN_FLIGHT_SCRIPT} follow-firewalld`,
    'Restart=always',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
}

/** The part of setup-lb.sh that installs and arms it (the files come in the bundle). */
export function inFlightSetup(): ShellPart {
  return shellBody('load-balancer/in-flight-setup.sh', { IN_FLIGHT_RULES_FILE, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT, IN_FLIGHT_REARM_UNIT });
}

/** keepalived's notify commands: `master` on becoming MASTER, `arm` on becoming BACKUP or FAULT; as root (iptables). */
export function inFlightNotify(): { master: string; backup: string } {
  return { master: `${IN_FLIGHT_SCRIPT} master`, backup: `${IN_FLIGHT_SCRIPT} arm` };
}
