import { ResolvedConfig } from './config-schema';
import { prefixLengthOf } from './ipv4';

/**
 * The Topology: one fully resolved description of the whole system. Every renderer and
 * construct reads it; nothing else holds an address, a port or a host name.
 *
 * It is the resolved config (every field of `CONFIG_SCHEMA` present, per-host defaults applied)
 * plus derived facts, computed once here so that no two readers compute them twice:
 * - `loadBalancer.master`, `loadBalancer.backups`: who starts as VRRP MASTER, and the BACKUPs
 * - `loadBalancer.vipPrefixLength`: the prefix the VIP is added with
 * - `sudoPrefix` on every host: how a root command is run over SSH
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
/** The NAT firewall, with one NIC on each network. */
export type GatewayHost = ResolvedConfig['gateway'] & HostFacts;

/** Facts derived from the load balancer section. */
export interface LoadBalancerFacts {
  /** The load balancer that starts as VRRP MASTER: the one with the highest priority (one of `hosts`). */
  readonly master: LoadBalancerHost;
  /** The others, which start as BACKUP, from the highest priority to the lowest. */
  readonly backups: readonly LoadBalancerHost[];
  /** Prefix length the VIP is added with: that of `networks.internal` (24 for 192.168.10.0/24). */
  readonly vipPrefixLength: number;
}

export type LoadBalancerSpec = Omit<ResolvedConfig['loadBalancer'], 'hosts'> & {
  readonly hosts: readonly LoadBalancerHost[];
} & LoadBalancerFacts;

export interface Topology {
  readonly networks: ResolvedConfig['networks'];
  readonly controlPlane: InternalHost;
  readonly workers: readonly WorkerHost[];
  readonly loadBalancer: LoadBalancerSpec;
  readonly gateway: GatewayHost;
  readonly client: InternalHost;
  readonly kubernetes: ResolvedConfig['kubernetes'];
  readonly workload: ResolvedConfig['workload'];
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
    },
    gateway: withHostFacts(config.gateway),
    client: withHostFacts(config.client),
    kubernetes: config.kubernetes,
    workload: config.workload,
    provisioning: config.provisioning,
    serviceUrl: `http://${config.gateway.outside.address}:${config.loadBalancer.listenPort}/`,
  };
}
