import { LoadBalancerHost, Topology } from '../topology';
import { printIptablesRestore, Ruleset } from '../formats/ruleset';
import { lines, shellBody, ShellPart, shellScript } from '../formats/shell';

/**
 * In-flight forwarding: what keeps a planned move of the VIP (failback, a drain, `systemctl stop
 * nginx`) from resetting the requests in flight at that instant.
 *
 * nginx's connections live in the process of the load balancer that accepted them; when the VIP
 * moves, the gateway sends their next segments to the new holder, whose kernel has no socket for
 * them and answers with a reset: measured in the lab, about one failback or drain in ten lost a
 * request that way. So each load balancer keeps the VIP on lo (it answers no ARP for it there: see
 * the sysctl file) and a small mangle ruleset: a segment to VIP:port that is not a connection's
 * first and belongs to no socket of this host is marked, copied to every peer (iptables TEE) and
 * dropped here. The peer that owns the connection takes the copy (the VIP is local to it); a peer
 * that does not drops a marked segment instead of resetting it, and never passes it on (no loop).
 * New connections (SYNs) are always served by whoever holds the VIP.
 *
 * A copy to a peer that is gone would only delay a reset its client will get anyway, so on becoming
 * MASTER keepalived runs the script's `master` step, which stops copying to every peer whose LB port
 * does not answer (powered off, power lost, nginx died), and keeps probing the others for a while.
 */

/** PREROUTING jumps here for every packet; one rule picks the segments to the VIP's port that are not SYNs. */
export const IN_FLIGHT_ENTRY_CHAIN = 'K8S_HA_EDGE_LB';
/** The segments picked: this host's own connections return, the others are copied to the peers. */
export const IN_FLIGHT_CHAIN = 'K8S_HA_EDGE_IN_FLIGHT';
export const IN_FLIGHT_RULES_FILE = '/etc/keepalived/k8s-ha-edge-in-flight.rules';
export const IN_FLIGHT_SCRIPT = '/etc/keepalived/k8s-ha-edge-in-flight.sh';
export const IN_FLIGHT_UNIT = 'k8s-ha-edge-in-flight.service';
/**
 * The DSCP value a load balancer sets on a segment it passes on (45: no standard per-hop behaviour
 * uses it), so the peer that receives it never passes it on again.
 */
export const PASSED_ON_DSCP = 0x2d;
/**
 * How long the `master` step waits for a peer's LB port. A live peer on the same network answers in
 * a millisecond; the bound is how long copies may still go to a peer that has just died.
 */
const PEER_PROBE_SECONDS = 0.5;
/**
 * How long the new MASTER keeps probing (once a second) the peers it still copies to: connections
 * that were in flight at a move end within this in practice (a download lasting longer is reset
 * only if its load balancer goes down after it).
 */
const PEER_WATCH_SECONDS = 300;
/** The pid of that watch, so that a later transition (or the unit's stop) ends it. */
export const IN_FLIGHT_WATCH_PID_FILE = '/run/k8s-ha-edge-in-flight.watch';

/** Whether a load balancer gets in-flight forwarding: the topology asks for it and there is a peer to pass to. */
export function forwardsInFlight(t: Topology): boolean {
  return t.loadBalancer.forwardInFlight && t.loadBalancer.hosts.length > 1;
}

function peersOf(t: Topology, host: LoadBalancerHost): string[] {
  return t.loadBalancer.hosts.filter((h) => h.name !== host.name).map((h) => h.address);
}

/** The ruleset loaded with `iptables-restore --noflush`: only its own chains of the mangle table, nothing else touched. */
export function inFlightRuleset(t: Topology, host: LoadBalancerHost): Ruleset {
  const lb = t.loadBalancer;
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
            { comment: 'Passed on by a peer, and not ours: dropped, never reset nor passed on again.', dscp: PASSED_ON_DSCP, target: { jump: 'DROP' } },
            { comment: 'Marked as passed on, copied to every peer, dropped here.', target: { jump: 'DSCP', setDscp: PASSED_ON_DSCP } },
            ...peersOf(t, host).map((peer) => ({ target: { jump: 'TEE' as const, gateway: peer } })),
            { target: { jump: 'DROP' } },
          ],
        },
      ],
    }],
  };
}

/** The peers an in-flight chain copies to, read from `iptables -S <IN_FLIGHT_CHAIN>` (the printer's TEE rules). */
export function copiedTo(chainRules: string): string[] {
  return [...chainRules.matchAll(/-j TEE --gateway (\S+)/g)].map((m) => m[1]);
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
      RULES_FILE: IN_FLIGHT_RULES_FILE,
      VIP: t.loadBalancer.vip,
      LISTEN_PORT: t.loadBalancer.listenPort,
      PEERS: peersOf(t, host),
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
