import { GatewayNic, GatewayVrrpSpec, ResolvedConfig } from './config-schema';
import { prefixLengthOf } from './ipv4';

/**
 * The Topology: one fully resolved description of the whole system. Every renderer and
 * construct reads it; nothing else holds an address, a port or a host name.
 *
 * It is the resolved config (every field of `CONFIG_SCHEMA` present, per-host defaults applied)
 * plus derived facts, computed once here so that no two readers compute them twice:
 * - `loadBalancer.master`, `loadBalancer.backups`: who starts as VRRP MASTER, and the BACKUPs
 * - `loadBalancer.vipPrefixLength`: the prefix the VIP is added with
 * - `loadBalancer.inFlight`: whether the load balancers forward in flight (asked, and a peer to pass to)
 * - `sudoPrefix` on every host: how a root command is run over SSH
 * - `gateway.hosts`: the gateway machines, one or a pair, in one shape; `gateway.pair`: the pair's facts
 * - `serviceUrl`: where a client reaches the service
 */

/** '' for root; `sudo -n ` (fails instead of prompting for a password) for any other user. */
export type SudoPrefix = '' | 'sudo -n ';

/** Facts derived from a host's fields. */
export interface HostFacts {
  /** Put before a command that must run as root over SSH: '' when `sshUser` is root, else 'sudo -n '. */
  readonly sudoPrefix: SudoPrefix;
}

/** How to reach and manage one machine. */
export type HostAccess = Pick<ResolvedConfig['gateway'], 'name' | 'osFamily' | 'sshUser' | 'hostKey'> & HostFacts;
/** A host with one NIC on the internal network (the client: on the external one). */
export type InternalHost = ResolvedConfig['controlPlane'] & HostFacts;
/** A Kubernetes worker: it runs one of the nginx Pods. */
export type WorkerHost = ResolvedConfig['workers'][number] & HostFacts;
/** A load balancer: nginx stream proxy plus keepalived. */
export type LoadBalancerHost = ResolvedConfig['loadBalancer']['hosts'][number] & HostFacts;
/**
 * A gateway machine, with one NIC on each network at its own address: the one gateway, or either host of a
 * pair (whose shared addresses, the VIPs, are `GatewaySpec.inside`/`outside`).
 */
export type GatewayHost = Pick<ResolvedConfig['gateway'], 'name' | 'osFamily' | 'sshUser' | 'hostKey'> & HostFacts & {
  readonly inside: GatewayNic;
  readonly outside: GatewayNic;
  /** VRRP priority in a pair; 0 for a single gateway (no VRRP). */
  readonly priority: number;
};

/** Facts of a gateway pair: who starts as MASTER, and the VRRP settings both share. */
export interface GatewayPair {
  /** The preferred MASTER: the host with the higher priority. */
  readonly master: GatewayHost;
  readonly backup: GatewayHost;
  readonly vrrp: GatewayVrrpSpec;
  /** Prefix lengths the VIPs are added with: those of `networks.internal` and `networks.external`. */
  readonly insidePrefixLength: number;
  readonly outsidePrefixLength: number;
}

export interface GatewaySpec {
  /** The inside NIC as the site sees it: its name, and the address inside hosts route through (a pair's inside VIP). */
  readonly inside: GatewayNic;
  /** The outside NIC as the site sees it: its name, and the public address (a pair's outside VIP). */
  readonly outside: GatewayNic;
  /** The gateway machines: one, or the two of a pair (in config order). */
  readonly hosts: readonly GatewayHost[];
  /** The pair's facts; undefined with one gateway. */
  readonly pair: GatewayPair | undefined;
}

/** Facts derived from the load balancer section. */
export interface LoadBalancerFacts {
  /** The load balancer that starts as VRRP MASTER: the one with the highest priority (one of `hosts`). */
  readonly master: LoadBalancerHost;
  /** The others, which start as BACKUP, from the highest priority to the lowest. */
  readonly backups: readonly LoadBalancerHost[];
  /** Prefix length the VIP is added with: that of `networks.internal` (24 for 192.168.10.0/24). */
  readonly vipPrefixLength: number;
  /**
   * Whether the load balancers get in-flight forwarding (lib/load-balancer/in-flight.ts): the topology
   * asks for it (`forwardInFlight`) and there is a peer to pass to. Decided here, read everywhere.
   */
  readonly inFlight: boolean;
}

export type LoadBalancerSpec = Omit<ResolvedConfig['loadBalancer'], 'hosts'> & {
  readonly hosts: readonly LoadBalancerHost[];
} & LoadBalancerFacts;

export interface Topology {
  readonly networks: ResolvedConfig['networks'];
  readonly controlPlane: InternalHost;
  readonly workers: readonly WorkerHost[];
  readonly loadBalancer: LoadBalancerSpec;
  readonly gateway: GatewaySpec;
  readonly client: InternalHost;
  readonly kubernetes: ResolvedConfig['kubernetes'];
  readonly workload: ResolvedConfig['workload'];
  readonly timeSync: ResolvedConfig['timeSync'];
  readonly provisioning: ResolvedConfig['provisioning'];
  /** Where a client reaches the service: `http://<gateway.outside.address>:<loadBalancer.listenPort>/`. */
  readonly serviceUrl: string;
}

/** The sudo prefix for an SSH user. */
function sudoPrefixFor(sshUser: string): SudoPrefix {
  return sshUser === 'root' ? '' : 'sudo -n ';
}

function withHostFacts<H extends { readonly sshUser: string }>(host: H): H & HostFacts {
  return { ...host, sudoPrefix: sudoPrefixFor(host.sshUser) };
}

/**
 * The Topology of a valid resolved config: its sections, less `hostDefaults` (already applied
 * to every host), with the derived facts. Expects a config that `validateConfig` accepted
 * (at least one load balancer, networks in CIDR form).
 */
export function resolveTopology(config: ResolvedConfig): Topology {
  const hosts = config.loadBalancer.hosts.map(withHostFacts);
  const [master, ...backups] = [...hosts].sort((a, b) => b.priority - a.priority);
  return {
    networks: config.networks,
    controlPlane: withHostFacts(config.controlPlane),
    workers: config.workers.map(withHostFacts),
    loadBalancer: {
      ...config.loadBalancer,
      hosts,
      master,
      backups,
      vipPrefixLength: prefixLengthOf(config.networks.internal),
      inFlight: config.loadBalancer.forwardInFlight && hosts.length > 1,
    },
    gateway: resolveGateway(config),
    client: withHostFacts(config.client),
    kubernetes: config.kubernetes,
    workload: config.workload,
    timeSync: config.timeSync,
    provisioning: config.provisioning,
    serviceUrl: `http://${config.gateway.outside.address}:${config.loadBalancer.listenPort}/`,
  };
}

/** The gateway section as machines: a pair's two hosts at their own addresses, or the one gateway. */
function resolveGateway(config: ResolvedConfig): GatewaySpec {
  const g = config.gateway;
  const nicAt = (nic: GatewayNic, address: string): GatewayNic => ({ interface: nic.interface, address });
  if (g.hosts.length === 0) {
    const single = withHostFacts({
      name: g.name, osFamily: g.osFamily, sshUser: g.sshUser, hostKey: g.hostKey, inside: g.inside, outside: g.outside, priority: 0,
    });
    return { inside: g.inside, outside: g.outside, hosts: [single], pair: undefined };
  }
  const hosts = g.hosts.map((h) => withHostFacts({
    name: h.name, osFamily: h.osFamily, sshUser: h.sshUser, hostKey: h.hostKey,
    inside: nicAt(g.inside, h.insideAddress), outside: nicAt(g.outside, h.outsideAddress), priority: h.priority,
  }));
  const [master, backup] = [...hosts].sort((a, b) => b.priority - a.priority);
  return {
    inside: g.inside,
    outside: g.outside,
    hosts,
    pair: {
      master, backup, vrrp: g.vrrp,
      insidePrefixLength: prefixLengthOf(config.networks.internal),
      outsidePrefixLength: prefixLengthOf(config.networks.external),
    },
  };
}
