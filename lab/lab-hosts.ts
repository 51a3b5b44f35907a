import { formatIpv4, parseCidr, parseIpv4, prefixLengthOf } from '../lib/topology/ipv4';
import { Topology } from '../lib/topology';

/** The hosts file lab/hosts.sh reads: networks, and hosts with their NICs. */
export interface LabHostsFile {
  readonly networks: Array<{ name: string; cidr: string }>;
  readonly hosts: Array<{
    name: string;
    kind?: 'netns-only';
    interfaces: Array<{ name: string; network: string; address: string }>;
    defaultGateway?: string;
  }>;
}

export const MGMT_HOST = 'mgmt';
const INSIDE = 'inside';
const OUTSIDE = 'outside';

/**
 * The management host's address: the highest host address of the internal network
 * that the topology does not use, so it can never clash with a host or the VIP.
 */
export function managementAddress(t: Topology): string {
  const net = parseCidr(t.networks.internal);
  if ('error' in net) throw new Error(`networks.internal: ${net.error}`);
  const used = new Set([
    t.controlPlane.address, ...t.workers.map((w) => w.address), ...t.loadBalancer.hosts.map((h) => h.address),
    t.loadBalancer.vip, t.gateway.inside.address, ...t.gateway.hosts.map((g) => g.inside.address),
  ].map((a) => parseIpv4(a)));
  const broadcast = net.base + 2 ** (32 - net.prefixLength) - 1;
  for (let candidate = broadcast - 1; candidate > net.base; candidate--) {
    if (!used.has(candidate)) return formatIpv4(candidate);
  }
  throw new Error(`networks.internal: got ${t.networks.internal}, expected room for a management host`);
}

/**
 * The topology's own machines as lab hosts, at the topology's own addresses. The control
 * plane is a plain container: Kubernetes cannot run in these containers (it and the workers are
 * stand-ins), but `npm run verify` reaches it and reports its checks as not checked.
 * Every inside host routes through the gateway's inside address (a pair's inside VIP), the client through its
 * outside address, as in the default topology.
 */
export function labHostsFile(t: Topology): LabHostsFile {
  const inside = prefixLengthOf(t.networks.internal);
  const outside = prefixLengthOf(t.networks.external);
  const internalHost = (name: string, nic: string, address: string) => ({
    name,
    interfaces: [{ name: nic, network: INSIDE, address: `${address}/${inside}` }],
    defaultGateway: t.gateway.inside.address,
  });
  return {
    networks: [{ name: INSIDE, cidr: t.networks.internal }, { name: OUTSIDE, cidr: t.networks.external }],
    hosts: [
      { ...internalHost(MGMT_HOST, 'eth0', managementAddress(t)), kind: 'netns-only' },
      ...t.loadBalancer.hosts.map((h) => internalHost(h.name, h.interface, h.address)),
      internalHost(t.controlPlane.name, t.controlPlane.interface, t.controlPlane.address),
      ...t.workers.map((w) => internalHost(w.name, w.interface, w.address)),
      // Each gateway at its own addresses: a pair's VIPs are keepalived's to add.
      ...t.gateway.hosts.map((g) => ({
        name: g.name,
        interfaces: [
          { name: g.inside.interface, network: INSIDE, address: `${g.inside.address}/${inside}` },
          { name: g.outside.interface, network: OUTSIDE, address: `${g.outside.address}/${outside}` },
        ],
      })),
      {
        name: t.client.name,
        interfaces: [{ name: t.client.interface, network: OUTSIDE, address: `${t.client.address}/${outside}` }],
        defaultGateway: t.gateway.outside.address,
      },
    ],
  };
}
