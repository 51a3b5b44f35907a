import {
  LOAD_BALANCER_RESERVED_PORTS,
  NODE_PORT_RANGE,
  SUPPORTED_KUBERNETES_MINORS,
} from './defaults';
import { show, TopologyProblem } from './errors';
import { contains, formatCidr, Ipv4Network, isNetworkOrBroadcast, overlaps, parseCidr, parseIpv4 } from './ipv4';
import { Topology } from './types';

/** RFC 1123 label: what Kubernetes accepts as a node name segment and a Pod name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Linux interface names: at most 15 bytes, no slash, colon or whitespace. */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const ABSOLUTE_PATH = /^\/[^\0\s]*$/;
const KUBERNETES_VERSION = /^1\.([0-9]+)(\.[0-9]+)?$/;
const SEMVER_TAG = /^v[0-9]+\.[0-9]+\.[0-9]+$/;
const DURATION = /^[1-9][0-9]*(s|m|h)$/;

/** Collects problems; each check names the config path it looked at. */
class Checker {
  readonly problems: TopologyProblem[] = [];

  fail(path: string, got: unknown, expected: string): void {
    this.problems.push({ path, got: show(got), expected });
  }

  integerIn(path: string, value: number, min: number, max: number, what = 'an integer'): void {
    if (!Number.isInteger(value) || value < min || value > max) this.fail(path, value, `${what} in ${min}-${max}`);
  }

  matches(path: string, value: string, pattern: RegExp, expected: string): boolean {
    if (pattern.test(value)) return true;
    this.fail(path, value, expected);
    return false;
  }

  network(path: string, value: string): Ipv4Network | undefined {
    const parsed = parseCidr(value);
    if ('error' in parsed) {
      this.fail(path, value, parsed.error);
      return undefined;
    }
    return parsed;
  }

  /** An address that must be a usable host address inside `network`. */
  addressIn(path: string, value: string, network: Ipv4Network | undefined, networkPath: string): number | undefined {
    const address = parseIpv4(value);
    if (address === undefined) {
      this.fail(path, value, 'an IPv4 address such as 192.168.10.20');
      return undefined;
    }
    if (network === undefined) return address;
    if (!contains(network, address)) {
      this.fail(path, value, `an address inside ${formatCidr(network)} (${networkPath})`);
    } else if (isNetworkOrBroadcast(network, address)) {
      this.fail(path, value, `a host address of ${formatCidr(network)}, not its network or broadcast address`);
    }
    return address;
  }
}

/** Every problem in a resolved topology; an empty list means it is valid. */
export function validateTopology(t: Topology): TopologyProblem[] {
  const c = new Checker();

  const internal = c.network('networks.internal', t.networks.internal);
  const external = c.network('networks.external', t.networks.external);
  if (internal && external && overlaps(internal, external)) {
    c.fail('networks.external', t.networks.external, `a network that does not overlap networks.internal (${t.networks.internal})`);
  }

  // Every host and the VIP, so that names and addresses can be checked for clashes in one place.
  const names: Array<{ path: string; name: string }> = [];
  const addresses: Array<{ path: string; value: string }> = [];
  const hostAccess = (path: string, host: { name: string; sshUser: string }) => {
    c.matches(`${path}.name`, host.name, DNS_LABEL, 'a lowercase RFC 1123 label (a-z, 0-9, "-"), at most 63 characters');
    c.matches(`${path}.sshUser`, host.sshUser, UNIX_USER, 'a Unix user name');
    names.push({ path: `${path}.name`, name: host.name });
  };
  const internalHost = (path: string, host: Topology['controlPlane']) => {
    hostAccess(path, host);
    c.matches(`${path}.interface`, host.interface, INTERFACE_NAME, 'a Linux interface name of 1-15 characters');
    c.addressIn(`${path}.address`, host.address, internal, 'networks.internal');
    addresses.push({ path: `${path}.address`, value: host.address });
  };

  internalHost('controlPlane', t.controlPlane);
  if (t.workers.length === 0) c.fail('workers', [], 'at least one worker');
  t.workers.forEach((worker, i) => internalHost(`workers[${i}]`, worker));

  const lb = t.loadBalancer;
  if (lb.hosts.length === 0) c.fail('loadBalancer.hosts', [], 'at least one load balancer');
  lb.hosts.forEach((host, i) => {
    internalHost(`loadBalancer.hosts[${i}]`, host);
    c.integerIn(`loadBalancer.hosts[${i}].priority`, host.priority, 1, 254, 'a VRRP priority');
  });
  const seenPriorities = new Map<number, number>();
  lb.hosts.forEach((host, i) => {
    const first = seenPriorities.get(host.priority);
    if (first !== undefined) {
      c.fail(`loadBalancer.hosts[${i}].priority`, host.priority,
        `a priority different from loadBalancer.hosts[${first}].priority (equal priorities make the MASTER a coin toss)`);
    } else {
      seenPriorities.set(host.priority, i);
    }
  });

  hostAccess('gateway', t.gateway);
  for (const side of ['inside', 'outside'] as const) {
    c.matches(`gateway.${side}.interface`, t.gateway[side].interface, INTERFACE_NAME, 'a Linux interface name of 1-15 characters');
    addresses.push({ path: `gateway.${side}.address`, value: t.gateway[side].address });
  }
  if (t.gateway.inside.interface === t.gateway.outside.interface) {
    c.fail('gateway.outside.interface', t.gateway.outside.interface, 'a NIC other than gateway.inside.interface');
  }
  c.addressIn('gateway.inside.address', t.gateway.inside.address, internal, 'networks.internal');
  c.addressIn('gateway.outside.address', t.gateway.outside.address, external, 'networks.external');

  hostAccess('client', t.client);
  c.matches('client.interface', t.client.interface, INTERFACE_NAME, 'a Linux interface name of 1-15 characters');
  c.addressIn('client.address', t.client.address, external, 'networks.external');
  addresses.push({ path: 'client.address', value: t.client.address });

  c.addressIn('loadBalancer.vip', lb.vip, internal, 'networks.internal');
  addresses.push({ path: 'loadBalancer.vip', value: lb.vip });

  const firstName = new Map<string, string>();
  for (const { path, name } of names) {
    const first = firstName.get(name);
    if (first !== undefined) c.fail(path, name, `a host name not already used by ${first}`);
    else firstName.set(name, path);
  }
  const firstAddress = new Map<string, string>();
  for (const { path, value } of addresses) {
    const first = firstAddress.get(value);
    if (first !== undefined) c.fail(path, value, `an address not already used by ${first}`);
    else firstAddress.set(value, path);
  }

  c.integerIn('loadBalancer.listenPort', lb.listenPort, 1, 65535, 'a TCP port');
  const reserved = LOAD_BALANCER_RESERVED_PORTS.get(lb.listenPort);
  if (reserved !== undefined) {
    c.fail('loadBalancer.listenPort', lb.listenPort, `a port the load balancers do not already use (${lb.listenPort} is ${reserved})`);
  }
  c.integerIn('loadBalancer.vrrp.routerId', lb.vrrp.routerId, 1, 255, 'a VRRP virtual_router_id');
  c.integerIn('loadBalancer.vrrp.advertIntervalSeconds', lb.vrrp.advertIntervalSeconds, 1, 255);
  c.integerIn('loadBalancer.healthCheck.intervalSeconds', lb.healthCheck.intervalSeconds, 1, 3600);
  c.integerIn('loadBalancer.healthCheck.fall', lb.healthCheck.fall, 1, 100);
  c.integerIn('loadBalancer.healthCheck.rise', lb.healthCheck.rise, 1, 100);
  c.integerIn('loadBalancer.healthCheck.weight', lb.healthCheck.weight, -253, 253, 'a keepalived weight');
  c.integerIn('loadBalancer.healthCheck.timeoutSeconds', lb.healthCheck.timeoutSeconds, 1, 3600);
  c.integerIn('loadBalancer.upstream.maxFails', lb.upstream.maxFails, 0, 100);
  c.integerIn('loadBalancer.upstream.failTimeoutSeconds', lb.upstream.failTimeoutSeconds, 1, 3600);
  c.integerIn('loadBalancer.upstream.connectTimeoutMs', lb.upstream.connectTimeoutMs, 1, 60000, 'milliseconds');

  const k = t.kubernetes;
  const version = KUBERNETES_VERSION.exec(k.version);
  const supported = SUPPORTED_KUBERNETES_MINORS.map((minor) => `1.${minor}`).join(', ');
  if (!version || !SUPPORTED_KUBERNETES_MINORS.includes(Number(version[1]))) {
    c.fail('kubernetes.version', k.version, `a supported Kubernetes minor: ${supported} (optionally with a patch, e.g. 1.${SUPPORTED_KUBERNETES_MINORS[0]}.2)`);
  }
  c.matches('kubernetes.flannelVersion', k.flannelVersion, SEMVER_TAG, 'a flannel release tag such as v0.27.4');
  c.matches('kubernetes.joinTokenTtl', k.joinTokenTtl, DURATION, 'a positive duration such as 15m, 1h');
  c.integerIn('kubernetes.apiServerPort', k.apiServerPort, 1, 65535, 'a TCP port');
  const pods = c.network('kubernetes.podCidr', k.podCidr);
  const services = c.network('kubernetes.serviceCidr', k.serviceCidr);
  const clashes: Array<[string, Ipv4Network | undefined, string, Ipv4Network | undefined, string]> = [
    ['kubernetes.podCidr', pods, 'networks.internal', internal, t.networks.internal],
    ['kubernetes.podCidr', pods, 'networks.external', external, t.networks.external],
    ['kubernetes.podCidr', pods, 'kubernetes.serviceCidr', services, k.serviceCidr],
    ['kubernetes.serviceCidr', services, 'networks.internal', internal, t.networks.internal],
    ['kubernetes.serviceCidr', services, 'networks.external', external, t.networks.external],
  ];
  for (const [path, a, otherPath, b, otherValue] of clashes) {
    if (a && b && overlaps(a, b)) c.fail(path, formatCidr(a), `a network that does not overlap ${otherPath} (${otherValue})`);
  }

  const w = t.workload;
  c.matches('workload.name', w.name, DNS_LABEL, 'a lowercase RFC 1123 label');
  const longest = Math.max(...t.workers.map((worker) => worker.name.length), 0);
  if (w.name.length + 1 + longest > 63) {
    c.fail('workload.name', w.name, `a name short enough that "<name>-<worker>" fits in 63 characters`);
  }
  c.matches('workload.namespace', w.namespace, DNS_LABEL, 'a Kubernetes namespace name');
  c.matches('workload.image', w.image, /^[^\s]+$/, 'a container image reference');
  c.matches('workload.appLabel', w.appLabel, LABEL_VALUE, 'a Kubernetes label value (at most 63 characters)');
  if (w.appLabel === '') c.fail('workload.appLabel', w.appLabel, 'a non-empty label value');
  c.matches('workload.hostPath', w.hostPath, ABSOLUTE_PATH, 'an absolute path');
  c.matches('workload.mountPath', w.mountPath, ABSOLUTE_PATH, 'an absolute path');
  c.integerIn('workload.containerPort', w.containerPort, 1, 65535, 'a TCP port');
  c.integerIn('workload.servicePort', w.servicePort, 1, 65535, 'a TCP port');
  c.integerIn('workload.nodePort', w.nodePort, NODE_PORT_RANGE.min, NODE_PORT_RANGE.max, 'a NodePort');

  return c.problems;
}
