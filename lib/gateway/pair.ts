import { GatewayHost, GatewayPair, Topology } from '../topology';
import { BLANK, block, comment, ConfFile, directive, printConntrackdConf, printKeepalivedConf, quoted } from '../formats/directive-tree';
import { shellBody, ShellPart, shellScript } from '../formats/shell';
import {
  HANDOFF_CHAIN, HANDOFF_ENTRY_CHAIN, HANDOFF_FROM_PEER_CHAIN, HANDOFF_RULES_FILE, HANDOFF_SYSCTL_FILE, handoffFunctions,
  PEER_MAC_REFRESH_SECONDS, rpFilterKey,
} from './handoff';

/**
 * A gateway pair: two gateways that share the inside and the outside address as VIPs, so that the
 * site's default route and its public address survive either gateway.
 *
 * - keepalived moves both VIPs together (one vrrp_sync_group of an instance per network): a gateway
 *   that holds one VIP holds the other, and a gateway whose link on either network is down holds neither
 *   (each instance follows its own NIC and tracks the other one).
 * - conntrackd (FTFW mode, UDP between the gateways' own inside addresses) keeps the MASTER's connection
 *   table, NAT included, on the BACKUP. On becoming MASTER the BACKUP commits it into its kernel before
 *   forwarding a connection's next packet matters, so established connections, downloads and outbound
 *   connections alike, go on through the new MASTER. conntrackd commits TCP entries without window
 *   tracking (its TCPWindowTracking option defaults off), so the stateful ruleset's INVALID rule does not
 *   drop their packets after a move.
 * - keepalived writes its state changes to a FIFO read by one script (the transition script), which runs
 *   conntrack-tools' documented primary-backup steps in keepalived's order, one at a time.
 */

/** The sync group and its two instances. */
export const GATEWAY_SYNC_GROUP = 'GATEWAY_PAIR';
const INSIDE_INSTANCE = 'GATEWAY_INSIDE';
const OUTSIDE_INSTANCE = 'GATEWAY_OUTSIDE';

export const CONNTRACKD_CONFIG = '/etc/conntrackd/conntrackd.conf';
/** keepalived creates this FIFO and starts TRANSITION_SCRIPT with its path. */
export const TRANSITION_FIFO = '/run/k8s-ha-edge-gateway.fifo';
export const TRANSITION_SCRIPT = '/etc/keepalived/k8s-ha-edge-gateway-transition.sh';
const TRANSITION_LOCK_FILE = '/run/k8s-ha-edge-gateway-transition.lock';
/** The last state the transition script completed (MASTER, BACKUP or FAULT): what verify reads. */
export const GATEWAY_STATE_FILE = '/run/k8s-ha-edge-gateway.state';
/**
 * The drain file, as on the load balancers: `npm run drain` writes a non-zero value, `--undo` 0. Tracked
 * with weight 0 (keepalived ignores tracking weights inside a sync group), so a non-zero value puts the
 * pair's instances in FAULT: this gateway gives up both VIPs at once, with priority-0 adverts, and its
 * peer takes them.
 */
export const GATEWAY_DRAIN_FILE = '/etc/keepalived/k8s-ha-edge.drain';
const DRAIN_TRACK = 'drain';

/** The pair's facts; throws for a single gateway (the pair's files exist only for a pair). */
export function pairOf(t: Topology): GatewayPair {
  if (t.gateway.pair === undefined) throw new Error('gateway: got one gateway, expected a pair (gateway.hosts)');
  return t.gateway.pair;
}

/** UDP port of conntrackd's state sync between the gateways of a pair (the port conntrackd's examples use). */
export const CONNTRACKD_SYNC_PORT = 3780;

/** The other gateway of a pair, or undefined for a single gateway. */
export function peerOf(t: Topology, host: GatewayHost): GatewayHost | undefined {
  const pair = t.gateway.pair;
  if (pair === undefined) return undefined;
  return pair.master.name === host.name ? pair.backup : pair.master;
}

/** The other gateway of a pair; throws for a single gateway (the pair's files exist only for a pair). */
function peerOfPair(t: Topology, host: GatewayHost): GatewayHost {
  pairOf(t);
  return peerOf(t, host)!;
}

/**
 * keepalived.conf for a gateway of a pair. As on the load balancers: no `authentication` (VRRPv2's clear
 * text password protects nothing), every gateway starts BACKUP when there is a preempt delay (keepalived
 * applies it to that start state only) and only the preferred one waits before taking the VIPs back.
 */
export function gatewayKeepalivedConf(t: Topology, host: GatewayHost): ConfFile {
  const pair = pairOf(t);
  const peer = peerOfPair(t, host);
  const preferred = pair.master.name === host.name;
  const delay = preferred ? pair.vrrp.preemptDelaySeconds : 0;
  const state = pair.vrrp.preemptDelaySeconds === 0 && preferred ? 'MASTER' : 'BACKUP';
  const instance = (name: string, nic: 'inside' | 'outside', prefixLength: number) => block('vrrp_instance', [name], [
    directive('state', [state]),
    directive('interface', [host[nic].interface]),
    directive('virtual_router_id', [pair.vrrp.routerId]),
    directive('priority', [host.priority]),
    directive('advert_int', [String(pair.vrrp.advertIntervalMs / 1000)]),
    delay > 0 && directive('preempt_delay', [delay], {
      comment: `Back to the preferred gateway only after ${delay} s (keepalived applies this to a BACKUP start state only).`,
    }),
    pair.vrrp.unicast && directive('unicast_src_ip', [host[nic].address], { comment: 'Unicast adverts, for networks that drop VRRP multicast.' }),
    pair.vrrp.unicast && block('unicast_peer', [], [directive(peer[nic].address)]),
    block('virtual_ipaddress', [], [directive(`${t.gateway[nic].address}/${prefixLength}`, ['dev', host[nic].interface])]),
    // An instance follows its own NIC already; tracking the other one too, in a sync group, means a gateway
    // with either link down holds neither VIP (it could forward nothing).
    block('track_interface', [], [directive(host[nic === 'inside' ? 'outside' : 'inside'].interface)], {
      comment: 'Either link down: FAULT, and the sync group gives up both VIPs.',
    }),
    block('track_file', [], [directive(DRAIN_TRACK)]),
  ]);
  return {
    nodes: [
      comment('keepalived.conf for a k8s-ha-edge gateway of a pair. Generated from the topology.'),
      block('global_defs', [], [
        directive('router_id', [host.name]),
        directive('enable_script_security', [], { comment: 'Scripts run only if root owns them and their path.' }),
        directive('script_user', ['root'], { comment: 'The only script is the transition script, which drives conntrackd (root only).' }),
        directive('vrrp_version', [3], { comment: 'VRRPv3 (RFC 5798): sub-second advert intervals.' }),
        directive('vrrp_notify_fifo', [TRANSITION_FIFO], { comment: 'State changes, in order, to one reader: the transition script.' }),
        directive('vrrp_notify_fifo_script', [quoted(TRANSITION_SCRIPT), 'root']),
      ]),
      BLANK,
      block('track_file', [DRAIN_TRACK], [
        directive('file', [quoted(GATEWAY_DRAIN_FILE)], { comment: 'npm run drain writes a non-zero value (FAULT: the peer takes both VIPs), --undo writes 0.' }),
        directive('weight', [0]),
        directive('init_file', [0]),
      ]),
      BLANK,
      block('vrrp_sync_group', [GATEWAY_SYNC_GROUP], [
        block('group', [], [directive(INSIDE_INSTANCE), directive(OUTSIDE_INSTANCE)], {
          comment: 'The inside and the outside VIP always move together: a connection enters and leaves through one gateway.',
        }),
      ]),
      BLANK,
      instance(INSIDE_INSTANCE, 'inside', pair.insidePrefixLength),
      BLANK,
      instance(OUTSIDE_INSTANCE, 'outside', pair.outsidePrefixLength),
    ],
  };
}

export function renderGatewayKeepalivedConf(t: Topology, host: GatewayHost): string {
  return printKeepalivedConf(gatewayKeepalivedConf(t, host));
}

/**
 * conntrackd.conf for a gateway of a pair: FTFW (a reliable protocol: lost, reordered or corrupt sync
 * messages are recovered) over UDP from this gateway's inside address to its peer's. The connections of the
 * gateways themselves (SSH, the sync traffic, VRRP) are not synced: only what they forward matters to the
 * peer, and the VIPs are never ignored (every NATed connection has one of them).
 */
export function conntrackdConf(t: Topology, host: GatewayHost): ConfFile {
  const peer = peerOfPair(t, host);
  const own = t.gateway.hosts.flatMap((h) => [h.inside.address, h.outside.address]);
  return {
    nodes: [
      comment('conntrackd.conf for a k8s-ha-edge gateway of a pair. Generated from the topology.'),
      block('Sync', [], [
        block('Mode FTFW', [], [
          directive('ResendQueueSize', [131072]),
          directive('PurgeTimeout', [60]),
          directive('ACKWindowSize', [300]),
          directive('DisableExternalCache', ['no'], { comment: "The peer's connections wait in the external cache until this gateway becomes MASTER and commits them." }),
          directive('StartupResync', ['yes'], { comment: 'A gateway that (re)starts asks its peer for the whole table at once.' }),
        ]),
        block('UDP', [], [
          directive('IPv4_address', [host.inside.address]),
          directive('IPv4_Destination_Address', [peer.inside.address]),
          directive('Port', [CONNTRACKD_SYNC_PORT]),
          directive('Interface', [host.inside.interface]),
          directive('SndSocketBuffer', [1249280]),
          directive('RcvSocketBuffer', [1249280]),
          directive('Checksum', ['on']),
        ]),
      ]),
      block('General', [], [
        directive('Systemd', ['yes'], { comment: "The packages' unit is Type=notify." }),
        directive('HashSize', [32768]),
        directive('HashLimit', [131072]),
        directive('LogFile', ['no']),
        directive('Syslog', ['yes']),
        directive('LockFile', ['/var/lock/conntrack.lock']),
        block('UNIX', [], [directive('Path', ['/var/run/conntrackd.ctl'])]),
        directive('NetlinkBufferSize', [2097152]),
        directive('NetlinkBufferSizeMaxGrowth', [8388608]),
        directive('NetlinkOverrunResync', ['yes']),
        block('Filter From Userspace', [], [
          block('Protocol Accept', [], [directive('TCP'), directive('UDP'), directive('ICMP')]),
          block('Address Ignore', [], [
            directive('IPv4_address', ['127.0.0.1']),
            ...own.map((address) => directive('IPv4_address', [address])),
          ], { comment: "The gateways' own addresses: their own connections (SSH, sync, VRRP) stay theirs." }),
        ]),
      ]),
    ],
  };
}

export function renderConntrackdConf(t: Topology, host: GatewayHost): string {
  return printConntrackdConf(conntrackdConf(t, host));
}

/** gateway-transition.sh, installed as TRANSITION_SCRIPT and run by keepalived with its notify FIFO (and by setup with `--arm`). */
export function renderTransitionScript(t: Topology, host: GatewayHost): string {
  return shellScript(
    `keepalived's state changes on ${host.name}, in order: conntrackd's primary/backup steps for the pair's connection state; the handoff to the peer.`,
    handoffFunctions(host, peerOfPair(t, host)),
    shellBody('gateway/transition.sh', {
      CONNTRACKD_CONFIG, LOCK_FILE: TRANSITION_LOCK_FILE, STATE_FILE: GATEWAY_STATE_FILE, SYNC_GROUP: GATEWAY_SYNC_GROUP,
      PEER_MAC_REFRESH_SECONDS,
    }),
  );
}

/** The part of setup-gateway.sh that sets up the pair's keepalived, conntrackd and handoff (after the ruleset). */
export function pairSetup(host: GatewayHost): ShellPart {
  return shellBody('gateway/setup-pair.sh', {
    CONNTRACKD_CONFIG, TRANSITION_SCRIPT, HANDOFF_RULES_FILE, HANDOFF_SYSCTL_FILE, HANDOFF_RP_FILTER_KEY: rpFilterKey(host),
  });
}

/** The part of teardown-gateway.sh that stops the pair's keepalived (the VIPs move) and conntrackd, before the ruleset goes. */
export function pairTeardown(t: Topology, host: GatewayHost): ShellPart {
  const pair = pairOf(t);
  return shellBody('gateway/teardown-pair.sh', {
    CONNTRACKD_CONFIG, TRANSITION_SCRIPT, DRAIN_FILE: GATEWAY_DRAIN_FILE, STATE_FILE: GATEWAY_STATE_FILE,
    HANDOFF_RULES_FILE, HANDOFF_SYSCTL_FILE, ENTRY_CHAIN: HANDOFF_ENTRY_CHAIN, HANDOFF_CHAIN, FROM_PEER_CHAIN: HANDOFF_FROM_PEER_CHAIN,
    INSIDE_VIP: t.gateway.inside.address, INSIDE_INTERFACE: host.inside.interface, INSIDE_PREFIX_LENGTH: pair.insidePrefixLength,
    OUTSIDE_VIP: t.gateway.outside.address, OUTSIDE_INTERFACE: host.outside.interface, OUTSIDE_PREFIX_LENGTH: pair.outsidePrefixLength,
  });
}
