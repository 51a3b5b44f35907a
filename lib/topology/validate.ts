import { ResolvedConfig } from './config-schema';
import { LOAD_BALANCER_RESERVED_PORTS, NODE_PORT_RANGE, SUPPORTED_KUBERNETES_MINORS } from './defaults';
import { TopologyProblem } from './errors';
import { formatCidr, Ipv4Network } from './ipv4';
import {
  addressIn,
  applyRules,
  applyToEach,
  cidr,
  distinct,
  inRange,
  Located,
  matching,
  networkOf,
  notOverlapping,
  RuleTable,
} from './rules';

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

const INTERFACE_EXPECTED = 'a Linux interface name of 1-15 characters';

/** The config with its networks parsed once: the subject of the section tables. */
interface Subject {
  readonly t: ResolvedConfig;
  readonly internal?: Ipv4Network;
  readonly external?: Ipv4Network;
  readonly pods?: Ipv4Network;
  readonly services?: Ipv4Network;
}

type Network = 'internal' | 'external';

/** One host and the config it sits in. */
interface HostSubject<H> {
  readonly host: H;
  readonly s: Subject;
}

const NETWORKS: RuleTable<Subject> = [
  cidr('networks.internal', (s) => s.t.networks.internal),
  cidr('networks.external', (s) => s.t.networks.external),
  notOverlapping('networks.external', (s) => s.t.networks.external, (s) => s.external,
    'networks.internal', (s) => s.internal, (s) => s.t.networks.internal),
];

const WORKERS: RuleTable<Subject> = [
  { path: 'workers', value: () => [], fails: (s) => s.t.workers.length === 0, expected: 'at least one worker' },
];

const LOAD_BALANCER_HOSTS: RuleTable<Subject> = [
  { path: 'loadBalancer.hosts', value: () => [], fails: (s) => s.t.loadBalancer.hosts.length === 0, expected: 'at least one load balancer' },
];

/** Every host: its name and SSH user. */
const HOST_ACCESS: RuleTable<HostSubject<{ readonly name: string; readonly sshUser: string }>> = [
  matching('name', (h) => h.host.name, DNS_LABEL, 'a lowercase RFC 1123 label (a-z, 0-9, "-"), at most 63 characters'),
  matching('sshUser', (h) => h.host.sshUser, UNIX_USER, 'a Unix user name'),
];

type HostWithNic = HostSubject<ResolvedConfig['controlPlane']>;

/** A host with one NIC on `network`: its name and user, the NIC's name, its address inside the network. */
const hostOn = (network: Network): RuleTable<HostWithNic> => [
  ...HOST_ACCESS,
  matching('interface', (h) => h.host.interface, INTERFACE_NAME, INTERFACE_EXPECTED),
  ...addressIn<HostWithNic>('address', (h) => h.host.address, (h) => h.s[network], `networks.${network}`),
];
const INTERNAL_HOST = hostOn('internal');
const EXTERNAL_HOST = hostOn('external');

const LOAD_BALANCER_HOST: RuleTable<HostSubject<ResolvedConfig['loadBalancer']['hosts'][number]>> = [
  ...INTERNAL_HOST,
  inRange('priority', (h) => h.host.priority, 1, 254, 'a VRRP priority'),
];

const GATEWAY: RuleTable<Subject> = [
  matching('gateway.inside.interface', (s) => s.t.gateway.inside.interface, INTERFACE_NAME, INTERFACE_EXPECTED),
  matching('gateway.outside.interface', (s) => s.t.gateway.outside.interface, INTERFACE_NAME, INTERFACE_EXPECTED),
  {
    path: 'gateway.outside.interface',
    value: (s) => s.t.gateway.outside.interface,
    fails: (s) => s.t.gateway.inside.interface === s.t.gateway.outside.interface,
    expected: 'a NIC other than gateway.inside.interface',
  },
  ...addressIn<Subject>('gateway.inside.address', (s) => s.t.gateway.inside.address, (s) => s.internal, 'networks.internal'),
  ...addressIn<Subject>('gateway.outside.address', (s) => s.t.gateway.outside.address, (s) => s.external, 'networks.external'),
];

const VIP: RuleTable<Subject> = addressIn<Subject>('loadBalancer.vip', (s) => s.t.loadBalancer.vip, (s) => s.internal, 'networks.internal');

/** The load balancers' settings. */
const LOAD_BALANCER: RuleTable<Subject> = [
  inRange('loadBalancer.listenPort', (s) => s.t.loadBalancer.listenPort, 1, 65535, 'a TCP port'),
  {
    path: 'loadBalancer.listenPort',
    value: (s) => s.t.loadBalancer.listenPort,
    fails: (s) => LOAD_BALANCER_RESERVED_PORTS.has(s.t.loadBalancer.listenPort),
    expected: (s) => {
      const port = s.t.loadBalancer.listenPort;
      return `a port the load balancers do not already use (${port} is ${LOAD_BALANCER_RESERVED_PORTS.get(port)})`;
    },
  },
  inRange('loadBalancer.vrrp.routerId', (s) => s.t.loadBalancer.vrrp.routerId, 1, 255, 'a VRRP virtual_router_id'),
  inRange('loadBalancer.vrrp.advertIntervalSeconds', (s) => s.t.loadBalancer.vrrp.advertIntervalSeconds, 1, 255),
  inRange('loadBalancer.healthCheck.intervalSeconds', (s) => s.t.loadBalancer.healthCheck.intervalSeconds, 1, 3600),
  inRange('loadBalancer.healthCheck.fall', (s) => s.t.loadBalancer.healthCheck.fall, 1, 100),
  inRange('loadBalancer.healthCheck.rise', (s) => s.t.loadBalancer.healthCheck.rise, 1, 100),
  inRange('loadBalancer.healthCheck.weight', (s) => s.t.loadBalancer.healthCheck.weight, -253, 253, 'a keepalived weight'),
  inRange('loadBalancer.healthCheck.timeoutSeconds', (s) => s.t.loadBalancer.healthCheck.timeoutSeconds, 1, 3600),
  inRange('loadBalancer.upstream.maxFails', (s) => s.t.loadBalancer.upstream.maxFails, 0, 100),
  inRange('loadBalancer.upstream.failTimeoutSeconds', (s) => s.t.loadBalancer.upstream.failTimeoutSeconds, 1, 3600),
  inRange('loadBalancer.upstream.connectTimeoutMs', (s) => s.t.loadBalancer.upstream.connectTimeoutMs, 1, 60000, 'milliseconds'),
];

const SUPPORTED_MINORS_TEXT = SUPPORTED_KUBERNETES_MINORS.map((minor) => `1.${minor}`).join(', ');

/** The Pod or Service network, as parsed, for the overlap rules. */
const shown = (network: Ipv4Network | undefined) => (network === undefined ? undefined : formatCidr(network));

const KUBERNETES: RuleTable<Subject> = [
  {
    path: 'kubernetes.version',
    value: (s) => s.t.kubernetes.version,
    fails: (s) => {
      const version = KUBERNETES_VERSION.exec(s.t.kubernetes.version);
      return !version || !SUPPORTED_KUBERNETES_MINORS.includes(Number(version[1]));
    },
    expected: `a supported Kubernetes minor: ${SUPPORTED_MINORS_TEXT} (optionally with a patch, e.g. 1.${SUPPORTED_KUBERNETES_MINORS[0]}.2)`,
  },
  matching('kubernetes.flannelVersion', (s) => s.t.kubernetes.flannelVersion, SEMVER_TAG, 'a flannel release tag such as v0.27.4'),
  matching('kubernetes.joinTokenTtl', (s) => s.t.kubernetes.joinTokenTtl, DURATION, 'a positive duration such as 15m, 1h'),
  inRange('kubernetes.apiServerPort', (s) => s.t.kubernetes.apiServerPort, 1, 65535, 'a TCP port'),
  cidr('kubernetes.podCidr', (s) => s.t.kubernetes.podCidr),
  cidr('kubernetes.serviceCidr', (s) => s.t.kubernetes.serviceCidr),
  notOverlapping('kubernetes.podCidr', (s) => shown(s.pods), (s) => s.pods,
    'networks.internal', (s) => s.internal, (s) => s.t.networks.internal),
  notOverlapping('kubernetes.podCidr', (s) => shown(s.pods), (s) => s.pods,
    'networks.external', (s) => s.external, (s) => s.t.networks.external),
  notOverlapping('kubernetes.podCidr', (s) => shown(s.pods), (s) => s.pods,
    'kubernetes.serviceCidr', (s) => s.services, (s) => s.t.kubernetes.serviceCidr),
  notOverlapping('kubernetes.serviceCidr', (s) => shown(s.services), (s) => s.services,
    'networks.internal', (s) => s.internal, (s) => s.t.networks.internal),
  notOverlapping('kubernetes.serviceCidr', (s) => shown(s.services), (s) => s.services,
    'networks.external', (s) => s.external, (s) => s.t.networks.external),
];

const WORKLOAD: RuleTable<Subject> = [
  matching('workload.name', (s) => s.t.workload.name, DNS_LABEL, 'a lowercase RFC 1123 label'),
  {
    path: 'workload.name',
    value: (s) => s.t.workload.name,
    fails: (s) => s.t.workload.name.length + 1 + Math.max(...s.t.workers.map((w) => w.name.length), 0) > 63,
    expected: 'a name short enough that "<name>-<worker>" fits in 63 characters',
  },
  matching('workload.namespace', (s) => s.t.workload.namespace, DNS_LABEL, 'a Kubernetes namespace name'),
  matching('workload.image', (s) => s.t.workload.image, /^[^\s]+$/, 'a container image reference'),
  matching('workload.appLabel', (s) => s.t.workload.appLabel, LABEL_VALUE, 'a Kubernetes label value (at most 63 characters)'),
  { path: 'workload.appLabel', value: (s) => s.t.workload.appLabel, fails: (s) => s.t.workload.appLabel === '', expected: 'a non-empty label value' },
  matching('workload.hostPath', (s) => s.t.workload.hostPath, ABSOLUTE_PATH, 'an absolute path'),
  matching('workload.mountPath', (s) => s.t.workload.mountPath, ABSOLUTE_PATH, 'an absolute path'),
  inRange('workload.containerPort', (s) => s.t.workload.containerPort, 1, 65535, 'a TCP port'),
  inRange('workload.servicePort', (s) => s.t.workload.servicePort, 1, 65535, 'a TCP port'),
  inRange('workload.nodePort', (s) => s.t.workload.nodePort, NODE_PORT_RANGE.min, NODE_PORT_RANGE.max, 'a NodePort'),
];

/** Every host's name with its path, in config order: the first use of a name wins, later ones clash. */
function hostNames(t: ResolvedConfig): Located<string>[] {
  return [
    { path: 'controlPlane.name', value: t.controlPlane.name },
    ...t.workers.map((w, i) => ({ path: `workers[${i}].name`, value: w.name })),
    ...t.loadBalancer.hosts.map((h, i) => ({ path: `loadBalancer.hosts[${i}].name`, value: h.name })),
    { path: 'gateway.name', value: t.gateway.name },
    { path: 'client.name', value: t.client.name },
  ];
}

/** Every address and the VIP with its path, in config order. */
function addresses(t: ResolvedConfig): Located<string>[] {
  return [
    { path: 'controlPlane.address', value: t.controlPlane.address },
    ...t.workers.map((w, i) => ({ path: `workers[${i}].address`, value: w.address })),
    ...t.loadBalancer.hosts.map((h, i) => ({ path: `loadBalancer.hosts[${i}].address`, value: h.address })),
    { path: 'gateway.inside.address', value: t.gateway.inside.address },
    { path: 'gateway.outside.address', value: t.gateway.outside.address },
    { path: 'client.address', value: t.client.address },
    { path: 'loadBalancer.vip', value: t.loadBalancer.vip },
  ];
}

const PROVISIONING: RuleTable<Subject> = [
  {
    path: 'provisioning.httpAddress',
    value: (s) => s.t.provisioning.httpAddress,
    fails: (s) => s.t.provisioning.backend === 'http' && !/^https?:\/\/[^/\s]+(\/\S*)?$/.test(s.t.provisioning.httpAddress),
    expected: 'an http:// or https:// URL when provisioning.backend is http',
  },
  {
    path: 'provisioning.stateDir',
    value: (s) => s.t.provisioning.stateDir,
    fails: (s) => s.t.provisioning.stateDir.trim() === '' || /(^|\/)(cdktf\.out|dist)(\/|$)/.test(s.t.provisioning.stateDir),
    expected: 'a directory outside the synthesized output (dist/, cdktf.out/), e.g. state',
  },
  inRange('provisioning.sshTimeoutSeconds', (s) => s.t.provisioning.sshTimeoutSeconds, 1, 3600),
];

/** Every problem in a resolved config, section by section; an empty list means it is valid. */
export function validateConfig(t: ResolvedConfig): TopologyProblem[] {
  const s: Subject = {
    t,
    internal: networkOf(t.networks.internal),
    external: networkOf(t.networks.external),
    pods: networkOf(t.kubernetes.podCidr),
    services: networkOf(t.kubernetes.serviceCidr),
  };
  const inConfig = <H>(host: H): HostSubject<H> => ({ host, s });
  const priorities = t.loadBalancer.hosts.map((h, i) => ({ path: `loadBalancer.hosts[${i}].priority`, value: h.priority }));
  return [
    ...applyRules('', s, NETWORKS),
    ...applyRules('controlPlane', inConfig(t.controlPlane), INTERNAL_HOST),
    ...applyRules('', s, WORKERS),
    ...applyToEach('workers', t.workers, inConfig, INTERNAL_HOST),
    ...applyRules('', s, LOAD_BALANCER_HOSTS),
    ...applyToEach('loadBalancer.hosts', t.loadBalancer.hosts, inConfig, LOAD_BALANCER_HOST),
    ...distinct(priorities, (first) =>
      `a priority different from ${first} (equal priorities make the MASTER a coin toss)`),
    ...applyRules('gateway', inConfig(t.gateway), HOST_ACCESS),
    ...applyRules('', s, GATEWAY),
    ...applyRules('client', inConfig(t.client), EXTERNAL_HOST),
    ...applyRules('', s, VIP),
    ...distinct(hostNames(t), (first) => `a host name not already used by ${first}`),
    ...distinct(addresses(t), (first) => `an address not already used by ${first}`),
    ...applyRules('', s, LOAD_BALANCER),
    ...applyRules('', s, KUBERNETES),
    ...applyRules('', s, WORKLOAD),
    ...applyRules('', s, PROVISIONING),
  ];
}
