import { FlannelManifestSource, ResolvedConfig } from './config-schema';
import { BUNDLED_FLANNEL_VERSION, CONTROL_PLANE_RESERVED_PORTS, flannelManifestUrlOf, LOAD_BALANCER_RESERVED_PORTS, NODE_PORT_RANGE, SUPPORTED_KUBERNETES_MINORS, SYSTEM_DIRECTORIES } from './defaults';
import { show, TopologyProblem } from './errors';
import { contains, formatCidr, Ipv4Network, parseIpv4 } from './ipv4';
import { bundleResourceIds, NULL_PROVIDER_ID, pageBundleId, podName, PROTOTYPE_MEMBER_ID, serviceName, WORKLOAD_BUNDLE_ID } from './names';
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

/** RFC 1123 label (Kubernetes' DNS-1123 label): node names, Pod names, namespaces. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** RFC 1035 label (Kubernetes' DNS-1035 label): Service names; a letter first. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/**
 * Linux interface names. The kernel's dev_valid_name (net/core/dev.c) refuses an empty name, one of
 * IFNAMSIZ (16) bytes or more, "." and "..", and any "/", ":" or whitespace; narrowed here to the
 * characters that need no quoting in any file. "all" and "default" pass dev_valid_name but name the
 * per-protocol settings directories (/proc/sys/net/ipv4/conf/all, .../default): `ip link add all
 * type veth peer name p` fails with EINVAL (seen on Linux 6.18 in a fresh network namespace), and
 * keepalived or iptables pointed at them would act on no NIC.
 */
const INTERFACE_NAME = /^(?!(\.\.?|all|default)$)[A-Za-z0-9_.-]{1,15}$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const ABSOLUTE_PATH = /^\/[^\0\s]*$/;
/** 1.N or 1.N.P, without leading zeros (1.036 is not 1.36). */
const KUBERNETES_VERSION = /^1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$/;
const SEMVER_TAG = /^v[0-9]+\.[0-9]+\.[0-9]+$/;
const DURATION = /^[1-9][0-9]*(s|m|h)$/;
/**
 * The characters of systemd's calendar events (systemd.time(7): weekdays, dates, times, *, ranges,
 * lists, repetitions, ~ for the last days of a month, a time zone name): the value goes into a unit
 * file, so a newline or a quote could add a directive. Whether systemd understands it is its own
 * check (systemd-analyze calendar), which synth cannot run for every host's systemd.
 */
const ON_CALENDAR = /^(?=.{1,100}$)[A-Za-z0-9*][A-Za-z0-9*:,./~ _+-]*$/;
const SHA256_OR_EMPTY = /^([0-9a-f]{64})?$/;
/** A DNS name (RFC 1123 labels, dot-separated) or a dotted IPv4 address: both fit this. */
const HOST_NAME_OR_ADDRESS = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

/** An image reference by the grammar of distribution/reference: [domain[:port]/]path[:tag][@digest]. */
const IMAGE_REFERENCE = (() => {
  const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
  const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const tag = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
  const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
  return new RegExp(`^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`);
})();
/** The reference grammar limits the name to 255 characters; the bound also keeps the regex fast. */
const IMAGE_REFERENCE_MAX = 255 + 1 + 128 + 1 + 200;

const INTERFACE_EXPECTED = 'a Linux interface name of 1-15 characters (A-Z a-z 0-9 _ . -), not ".", "..", "all" or "default"';

/**
 * Go's time.Duration is an int64 count of nanoseconds: time.ParseDuration (which kubeadm uses for a
 * token's TTL) refuses anything above 2^63-1 ns, about 2562047h47m16s.
 */
const GO_DURATION_MAX_NS = 2n ** 63n - 1n;
const DURATION_UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** Whether a DURATION-shaped text (digits and s, m or h) fits a Go time.Duration. */
function fitsGoDuration(text: string): boolean {
  const match = /^([0-9]+)([smh])$/.exec(text);
  return match !== null && BigInt(match[1]) * DURATION_UNIT_NS[match[2]] <= GO_DURATION_MAX_NS;
}

/**
 * kubeadm's limits on the cluster's networks (cmd/kubeadm/app/apis/kubeadm/validation/validation.go,
 * ValidateNetworking; the numbers in cmd/kubeadm/app/constants): a Service network holds at least
 * MinimumAddressesInServiceSubnet = 10 addresses (the DNS Service is the tenth) and spans at most
 * MaximumBitsForServiceSubnet = 20 host bits (/12 for IPv4); the Pod network holds at least one
 * node's range (node-cidr-mask-size-ipv4, 24 unless set, and this tool does not set it) and at most
 * PodSubnetNodeMaskMaxDiff = 16 bits more (/8).
 */
const SERVICE_PREFIX = { widest: 12, narrowest: 28 };
const NODE_CIDR_MASK_SIZE = 24;
const POD_PREFIX_WIDEST = NODE_CIDR_MASK_SIZE - 16;

/** Namespaces of the cluster itself: the workload's manifest creates its namespace, and destroy deletes it. */
const SYSTEM_NAMESPACE = /^kube-/;

/** C0 control characters other than tab, newline and carriage return, and DEL. */
const CONTROL_CHARACTER = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** `scheme://user:password@host`: credentials in the URL itself. */
const URL_CREDENTIALS = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/;

/** The URL with any credentials replaced, so an error message does not print a password. */
function withoutCredentials(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1<credentials>@');
}

/** Linux's PATH_MAX (4096 with the final NUL) and NAME_MAX: longer paths fail on every host. */
const PATH_MAX_BYTES = 4095;
const NAME_MAX_BYTES = 255;

/** Whether a path fits Linux's limits, on the whole and in each of its components. */
function fitsPathLimits(path: string): boolean {
  return Buffer.byteLength(path) <= PATH_MAX_BYTES && path.split('/').every((segment) => Buffer.byteLength(segment) <= NAME_MAX_BYTES);
}

/** Why `path` is not a normalised absolute path, or undefined when it is one. */
function absolutePathProblem(path: string): string | undefined {
  if (!ABSOLUTE_PATH.test(path)) return 'an absolute path';
  if (!fitsPathLimits(path)) return `a path of at most ${PATH_MAX_BYTES} bytes, each component at most ${NAME_MAX_BYTES} (Linux's PATH_MAX and NAME_MAX)`;
  const segments = path.split('/').slice(1);
  if (path !== '/' && segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'a normalised absolute path (no "..", ".", "//" or trailing "/")';
  }
  return undefined;
}

/** Why a mountPath cannot hold the pages in the container, or undefined when it can. */
function mountPathProblem(path: string): string | undefined {
  const problem = absolutePathProblem(path);
  if (problem !== undefined) return problem;
  return path === '/' ? 'a directory below / (mounting over the container\'s root hides the image)' : undefined;
}

/** Why a hostPath cannot serve the pages, or undefined when it can. */
function hostPathProblem(path: string): string | undefined {
  const problem = absolutePathProblem(path);
  if (problem !== undefined) return problem;
  const system = SYSTEM_DIRECTORIES.find((d) => path === d.path || (d.subtree && path.startsWith(`${d.path}/`)));
  if (system) {
    return `a directory of its own, not the system directory ${system.path}${system.subtree ? ' or anything below it' : ''} (the Pods mount it and index.html is written into it)`;
  }
  return undefined;
}

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

/** Host key types OpenSSH offers as host keys (ssh-keyscan's and the .pub files' first field). */
const HOST_KEY_TYPES = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
];

/**
 * Whether `line` is an SSH public key line, "type base64 [comment]", whose base64 blob really is a
 * key of that type (the blob starts with the type name, length-prefixed, as RFC 4253 encodes it).
 */
function isSshPublicKeyLine(line: string): boolean {
  const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})( [^\n]*)?$/.exec(line);
  if (!match || !HOST_KEY_TYPES.includes(match[1])) return false;
  const blob = Buffer.from(match[2], 'base64');
  if (blob.length < 4 + match[1].length) return false;
  const length = blob.readUInt32BE(0);
  return length === match[1].length && blob.subarray(4, 4 + length).toString('latin1') === match[1];
}

/** Every host: its name, SSH user and (optional) host key. */
const HOST_ACCESS: RuleTable<HostSubject<{ readonly name: string; readonly sshUser: string; readonly hostKey: string }>> = [
  matching('name', (h) => h.host.name, DNS_LABEL, 'a lowercase RFC 1123 label (a-z, 0-9, "-"), at most 63 characters'),
  matching('sshUser', (h) => h.host.sshUser, UNIX_USER, 'a Unix user name'),
  {
    path: 'hostKey',
    value: (h) => h.host.hostKey,
    fails: (h) => h.host.hostKey !== '' && !isSshPublicKeyLine(h.host.hostKey),
    expected: `an SSH public key line "<type> <base64> [comment]" (${HOST_KEY_TYPES.slice(0, 2).join(', ')}, …), e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub, or empty`,
  },
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

/** A worker: a host on the internal network, and its page. */
const WORKER: RuleTable<HostSubject<ResolvedConfig['workers'][number]>> = [
  ...INTERNAL_HOST,
  {
    // A NUL or another control character is no text a browser shows, and Graphviz refuses it in the picture's labels.
    path: 'page',
    value: (h) => (h.host.page.length > 60 ? `${h.host.page.slice(0, 57)}...` : h.host.page),
    fails: (h) => CONTROL_CHARACTER.test(h.host.page),
    expected: 'text without NUL or other control characters (tabs and line breaks are fine)',
  },
];

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

type PairHost = HostSubject<ResolvedConfig['gateway']['hosts'][number]>;

/** A host of a gateway pair: name, user, key, priority, and its own address on each network. */
const GATEWAY_PAIR_HOST: RuleTable<PairHost> = [
  ...HOST_ACCESS,
  inRange('priority', (h) => h.host.priority, 1, 254, 'a VRRP priority'),
  ...addressIn<PairHost>('insideAddress', (h) => h.host.insideAddress, (h) => h.s.internal, 'networks.internal'),
  ...addressIn<PairHost>('outsideAddress', (h) => h.host.outsideAddress, (h) => h.s.external, 'networks.external'),
];

/** The number of gateways, and the pair's VRRP settings. */
const GATEWAY_PAIR: RuleTable<Subject> = [
  {
    // One host with VIPs would be a pair without a peer: keepalived and conntrackd with nobody to fail over to.
    path: 'gateway.hosts',
    value: (s) => `${s.t.gateway.hosts.length} host${s.t.gateway.hosts.length === 1 ? '' : 's'}`,
    fails: (s) => s.t.gateway.hosts.length !== 0 && s.t.gateway.hosts.length !== 2,
    expected: 'none (one gateway: gateway.name, gateway.inside.address, gateway.outside.address) or exactly two (a pair sharing those two addresses as VIPs)',
  },
  inRange('gateway.vrrp.routerId', (s) => s.t.gateway.vrrp.routerId, 1, 255, 'a VRRP virtual_router_id'),
  {
    // Both VRRP groups advertise on the internal network: one id for two groups makes each drop the other's adverts.
    path: 'gateway.vrrp.routerId',
    value: (s) => s.t.gateway.vrrp.routerId,
    fails: (s) => s.t.gateway.hosts.length > 0 && s.t.gateway.vrrp.routerId === s.t.loadBalancer.vrrp.routerId,
    expected: (s) => `a virtual_router_id other than loadBalancer.vrrp.routerId (${s.t.loadBalancer.vrrp.routerId}): the gateways and the load balancers share the internal network`,
  },
  {
    path: 'gateway.vrrp.advertIntervalMs',
    value: (s) => s.t.gateway.vrrp.advertIntervalMs,
    fails: (s) => {
      const ms = s.t.gateway.vrrp.advertIntervalMs;
      return !(Number.isInteger(ms / 10) && ms >= 10 && ms <= 40_950);
    },
    expected: 'a multiple of 10 from 10 to 40950 (VRRP version 3 sends centiseconds)',
  },
  inRange('gateway.vrrp.preemptDelaySeconds', (s) => s.t.gateway.vrrp.preemptDelaySeconds, 0, 300, 'a preempt delay'),
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
  {
    path: 'loadBalancer.vrrp.version',
    value: (s) => s.t.loadBalancer.vrrp.version,
    fails: (s) => s.t.loadBalancer.vrrp.version !== 2 && s.t.loadBalancer.vrrp.version !== 3,
    expected: '2 or 3',
  },
  {
    // VRRPv3 carries the interval in centiseconds (12 bits), VRRPv2 in whole seconds (8 bits).
    path: 'loadBalancer.vrrp.advertIntervalMs',
    value: (s) => s.t.loadBalancer.vrrp.advertIntervalMs,
    fails: (s) => {
      const { version, advertIntervalMs: ms } = s.t.loadBalancer.vrrp;
      return version === 2 ? !(Number.isInteger(ms / 1000) && ms >= 1000 && ms <= 255_000) : !(Number.isInteger(ms / 10) && ms >= 10 && ms <= 40_950);
    },
    expected: (s) => (s.t.loadBalancer.vrrp.version === 2
      ? 'a multiple of 1000 from 1000 to 255000 (VRRP version 2 sends whole seconds)'
      : 'a multiple of 10 from 10 to 40950 (VRRP version 3 sends centiseconds)'),
  },
  // keepalived accepts 0-1000; more than 5 minutes on the BACKUP after the preferred host is healthy is a misconfiguration.
  inRange('loadBalancer.vrrp.preemptDelaySeconds', (s) => s.t.loadBalancer.vrrp.preemptDelaySeconds, 0, 300, 'a preempt delay'),
  inRange('loadBalancer.healthCheck.intervalSeconds', (s) => s.t.loadBalancer.healthCheck.intervalSeconds, 1, 3600),
  inRange('loadBalancer.healthCheck.fall', (s) => s.t.loadBalancer.healthCheck.fall, 1, 100),
  inRange('loadBalancer.healthCheck.rise', (s) => s.t.loadBalancer.healthCheck.rise, 1, 100),
  inRange('loadBalancer.healthCheck.weight', (s) => s.t.loadBalancer.healthCheck.weight, -253, 253, 'a keepalived weight'),
  {
    // A failed load balancer must end below every healthy one, or it keeps the VIP while nginx is down.
    path: 'loadBalancer.healthCheck.weight',
    value: (s) => s.t.loadBalancer.healthCheck.weight,
    fails: (s) => {
      const weight = s.t.loadBalancer.healthCheck.weight;
      return weight !== 0 && Math.abs(weight) <= prioritySpread(s.t);
    },
    expected: (s) => {
      const spread = prioritySpread(s.t);
      return `0 (FAULT on failure) or a weight whose size exceeds the priority spread ${spread} of the load balancers (e.g. ${-(spread + 1)}); `
        + 'otherwise the MASTER keeps the VIP when its nginx dies';
    },
  },
  inRange('loadBalancer.healthCheck.timeoutSeconds', (s) => s.t.loadBalancer.healthCheck.timeoutSeconds, 1, 3600),
  inRange('loadBalancer.upstream.maxFails', (s) => s.t.loadBalancer.upstream.maxFails, 0, 100),
  inRange('loadBalancer.upstream.failTimeoutSeconds', (s) => s.t.loadBalancer.upstream.failTimeoutSeconds, 1, 3600),
  inRange('loadBalancer.upstream.connectTimeoutMs', (s) => s.t.loadBalancer.upstream.connectTimeoutMs, 1, 60000, 'milliseconds'),
];

/** Highest minus lowest priority of the load balancers: what a weight must exceed to move the VIP. */
function prioritySpread(t: ResolvedConfig): number {
  const priorities = t.loadBalancer.hosts.map((h) => h.priority);
  return priorities.length < 2 ? 0 : Math.max(...priorities) - Math.min(...priorities);
}

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
  matching('kubernetes.flannelVersion', (s) => s.t.kubernetes.flannelVersion, SEMVER_TAG, 'a flannel release tag such as v0.28.9'),
  matching('kubernetes.flannelManifestSha256', (s) => s.t.kubernetes.flannelManifestSha256, SHA256_OR_EMPTY,
    'a sha256 digest in 64 lowercase hex digits (curl -fsSL <manifest URL> | sha256sum), or empty'),
  {
    path: 'kubernetes.flannelVersion',
    value: (s) => s.t.kubernetes.flannelVersion,
    fails: (s) => s.t.kubernetes.flannelManifestSource === FlannelManifestSource.BUNDLED && s.t.kubernetes.flannelVersion !== BUNDLED_FLANNEL_VERSION,
    expected: `${BUNDLED_FLANNEL_VERSION}, the release whose manifest is bundled; for another release set kubernetes.flannelManifestSource: download and its kubernetes.flannelManifestSha256`,
  },
  {
    path: 'kubernetes.flannelManifestSha256',
    value: (s) => s.t.kubernetes.flannelManifestSha256,
    fails: (s) => s.t.kubernetes.flannelManifestSource === FlannelManifestSource.DOWNLOAD && s.t.kubernetes.flannelManifestSha256 === '',
    expected: (s) => `with flannelManifestSource download, the sha256 of ${flannelManifestUrlOf(s.t.kubernetes.flannelVersion)} `
      + '(curl -fsSL <that URL> | sha256sum on a trusted network, compared with a second source): nothing downloaded is applied unverified',
  },
  {
    path: 'kubernetes.flannelManifestSha256',
    value: (s) => s.t.kubernetes.flannelManifestSha256,
    fails: (s) => s.t.kubernetes.flannelManifestSource === FlannelManifestSource.BUNDLED && s.t.kubernetes.flannelManifestSha256 !== '',
    expected: 'empty with flannelManifestSource bundled (the shipped manifest\'s digest is computed at synth); set kubernetes.flannelManifestSource: download to check a downloaded release asset',
  },
  matching('kubernetes.controlPlaneEndpoint', (s) => s.t.kubernetes.controlPlaneEndpoint, HOST_NAME_OR_ADDRESS,
    'a DNS name or an IPv4 address without a port (the port is kubernetes.apiServerPort)'),
  {
    // On the internal network only the VIP (the load balancers proxy the API there) and the control plane
    // itself answer on the API port: any other address there is a slip, and kubeadm would wait on it for minutes.
    path: 'kubernetes.controlPlaneEndpoint',
    value: (s) => s.t.kubernetes.controlPlaneEndpoint,
    fails: (s) => endpointNobodyServes(s),
    expected: (s) => `the load balancers' VIP (${s.t.loadBalancer.vip}), a DNS name, or the control plane's own address `
      + `(${s.t.controlPlane.address}, for a site built when that was the default): no other address of networks.internal serves the API`,
  },
  matching('kubernetes.joinTokenTtl', (s) => s.t.kubernetes.joinTokenTtl, DURATION, 'a positive duration such as 15m, 1h'),
  {
    path: 'kubernetes.joinTokenTtl',
    value: (s) => s.t.kubernetes.joinTokenTtl,
    fails: (s) => DURATION.test(s.t.kubernetes.joinTokenTtl) && !fitsGoDuration(s.t.kubernetes.joinTokenTtl),
    expected: 'a duration of at most 2562047h (the longest Go time.Duration, which kubeadm parses it into)',
  },
  matching('kubernetes.etcdBackup.schedule', (s) => s.t.kubernetes.etcdBackup.schedule, ON_CALENDAR,
    "a systemd OnCalendar expression such as daily, hourly, weekly or '*-*-* 03:00:00' (letters, digits, spaces and * : - , . / ~ only; check it with systemd-analyze calendar)"),
  inRange('kubernetes.etcdBackup.keep', (s) => s.t.kubernetes.etcdBackup.keep, 1, 365, 'a number of snapshots'),
  inRange('kubernetes.apiServerPort', (s) => s.t.kubernetes.apiServerPort, 1, 65535, 'a TCP port'),
  {
    path: 'kubernetes.apiServerPort',
    value: (s) => s.t.kubernetes.apiServerPort,
    fails: (s) => apiServerPortClash(s.t) !== undefined,
    expected: (s) => `a port the control plane does not already use (${s.t.kubernetes.apiServerPort} is ${apiServerPortClash(s.t)})`,
  },
  {
    // The load balancers listen on both on every address: the service on one, the control-plane endpoint on the other.
    path: 'kubernetes.apiServerPort',
    value: (s) => s.t.kubernetes.apiServerPort,
    fails: (s) => s.t.kubernetes.apiServerPort === s.t.loadBalancer.listenPort,
    expected: (s) => `a port other than loadBalancer.listenPort (${s.t.loadBalancer.listenPort}): the load balancers serve the service on that one and proxy the API (the control-plane endpoint) on this one`,
  },
  cidr('kubernetes.podCidr', (s) => s.t.kubernetes.podCidr),
  cidr('kubernetes.serviceCidr', (s) => s.t.kubernetes.serviceCidr),
  {
    path: 'kubernetes.serviceCidr',
    value: (s) => s.t.kubernetes.serviceCidr,
    fails: (s) => s.services !== undefined && (s.services.prefixLength < SERVICE_PREFIX.widest || s.services.prefixLength > SERVICE_PREFIX.narrowest),
    expected: `a network from /${SERVICE_PREFIX.widest} to /${SERVICE_PREFIX.narrowest}: kubeadm refuses a Service network wider than /${SERVICE_PREFIX.widest} `
      + 'or with fewer than 10 addresses (the DNS Service takes the tenth)',
  },
  {
    path: 'kubernetes.podCidr',
    value: (s) => s.t.kubernetes.podCidr,
    fails: (s) => s.pods !== undefined && (s.pods.prefixLength > NODE_CIDR_MASK_SIZE || s.pods.prefixLength < POD_PREFIX_WIDEST),
    expected: `a network from /${POD_PREFIX_WIDEST} to /${NODE_CIDR_MASK_SIZE}: kubeadm gives each node a /${NODE_CIDR_MASK_SIZE} of it `
      + `and refuses a Pod network smaller than one node's /${NODE_CIDR_MASK_SIZE} or more than 16 bits wider`,
  },
  {
    // Every node (the control plane and each worker) takes a /24 of the Pod network; a node left without one has no Pod network.
    path: 'kubernetes.podCidr',
    value: (s) => s.t.kubernetes.podCidr,
    fails: (s) => s.pods !== undefined && s.pods.prefixLength <= NODE_CIDR_MASK_SIZE
      && 2 ** (NODE_CIDR_MASK_SIZE - s.pods.prefixLength) < s.t.workers.length + 1,
    expected: (s) => `a network with a /${NODE_CIDR_MASK_SIZE} for each of the ${s.t.workers.length + 1} nodes (the control plane and the workers), `
      + `e.g. a /${NODE_CIDR_MASK_SIZE - Math.ceil(Math.log2(s.t.workers.length + 1))}`,
  },
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

/** An IPv4 endpoint inside networks.internal that is neither the VIP nor the control plane's address. */
function endpointNobodyServes(s: Subject): boolean {
  const endpoint = s.t.kubernetes.controlPlaneEndpoint;
  const address = parseIpv4(endpoint);
  return address !== undefined && s.internal !== undefined && contains(s.internal, address)
    && endpoint !== s.t.loadBalancer.vip && endpoint !== s.t.controlPlane.address;
}

/** What already uses the API server's port on the control plane, or undefined. */
function apiServerPortClash(t: ResolvedConfig): string | undefined {
  const port = t.kubernetes.apiServerPort;
  if (port === t.workload.nodePort) return 'workload.nodePort, served by kube-proxy on every node';
  if (port >= NODE_PORT_RANGE.min && port <= NODE_PORT_RANGE.max) return `in the NodePort range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`;
  return CONTROL_PLANE_RESERVED_PORTS.get(port);
}

/** The final object names, each with the Kubernetes rule it must pass (the API server's own). */
function workloadNameRules(): RuleTable<Subject> {
  const longestWorker = (s: Subject) => s.t.workers.reduce((a, w) => (w.name.length > a.length ? w.name : a), '');
  return [
    {
      path: 'workload.name',
      value: (s) => s.t.workload.name,
      fails: (s) => !DNS_1035_LABEL.test(serviceName(s.t.workload)),
      expected: (s) => `a name whose Service name ${JSON.stringify(serviceName(s.t.workload))} is a DNS-1035 label (a-z first, then a-z, 0-9, "-", at most 63 characters)`,
    },
    {
      path: 'workload.name',
      value: (s) => s.t.workload.name,
      fails: (s) => s.t.workers.some((w) => !DNS_LABEL.test(podName(s.t.workload, w.name))),
      expected: (s) => `a name short enough that the Pod name ${JSON.stringify(podName(s.t.workload, longestWorker(s)))} is a DNS-1123 label (at most 63 characters)`,
    },
  ];
}

const WORKLOAD: RuleTable<Subject> = [
  matching('workload.name', (s) => s.t.workload.name, DNS_LABEL, 'a lowercase RFC 1123 label'),
  ...workloadNameRules(),
  matching('workload.namespace', (s) => s.t.workload.namespace, DNS_LABEL, 'a Kubernetes namespace name (a DNS-1123 label: a-z, 0-9, "-", at most 63 characters)'),
  {
    path: 'workload.namespace',
    value: (s) => s.t.workload.namespace,
    fails: (s) => SYSTEM_NAMESPACE.test(s.t.workload.namespace),
    expected: 'a namespace of its own, not one starting with "kube-" (Kubernetes reserves that prefix: kube-system, kube-public, '
      + 'kube-node-lease and flannel\'s kube-flannel hold the cluster itself, and destroy deletes the workload\'s namespace)',
  },
  {
    path: 'workload.image',
    value: (s) => s.t.workload.image,
    fails: (s) => s.t.workload.image.length > IMAGE_REFERENCE_MAX || !IMAGE_REFERENCE.test(s.t.workload.image),
    expected: 'a container image reference such as nginx:1.14 or registry.example:5000/team/nginx:1.27@sha256:<digest>',
  },
  matching('workload.appLabel', (s) => s.t.workload.appLabel, LABEL_VALUE, 'a Kubernetes label value (at most 63 characters)'),
  { path: 'workload.appLabel', value: (s) => s.t.workload.appLabel, fails: (s) => s.t.workload.appLabel === '', expected: 'a non-empty label value' },
  {
    path: 'workload.hostPath',
    value: (s) => s.t.workload.hostPath,
    fails: (s) => hostPathProblem(s.t.workload.hostPath) !== undefined,
    expected: (s) => hostPathProblem(s.t.workload.hostPath) ?? '',
  },
  {
    path: 'workload.mountPath',
    value: (s) => s.t.workload.mountPath,
    fails: (s) => mountPathProblem(s.t.workload.mountPath) !== undefined,
    expected: (s) => mountPathProblem(s.t.workload.mountPath) ?? '',
  },
  inRange('workload.containerPort', (s) => s.t.workload.containerPort, 1, 65535, 'a TCP port'),
  inRange('workload.servicePort', (s) => s.t.workload.servicePort, 1, 65535, 'a TCP port'),
  inRange('workload.nodePort', (s) => s.t.workload.nodePort, NODE_PORT_RANGE.min, NODE_PORT_RANGE.max, 'a NodePort'),
];

/** The fields bundle ids are made from: the hosts' names (a resolved config or a Topology). */
interface Named { readonly name: string }
export interface BundleNaming {
  readonly controlPlane: Named;
  readonly workers: readonly Named[];
  readonly loadBalancer: { readonly hosts: readonly Named[] };
  /** A config's gateway section (a name, and a pair's hosts or none), or a Topology's (its machines). */
  readonly gateway: { readonly name?: string; readonly hosts: readonly Named[] };
  readonly client: Named;
  readonly workload: Named;
}

/** The gateway machines' names: a pair's two at gateway.hosts[i].name, or the one gateway at gateway.name. */
function gatewayNames(g: BundleNaming['gateway']): Located<string>[] {
  if (g.hosts.length >= 2) return g.hosts.map((h, i) => ({ path: `gateway.hosts[${i}].name`, value: h.name }));
  return [{ path: 'gateway.name', value: g.name ?? g.hosts[0]?.name ?? '' }];
}

/** Every host's name with its path, in config order: the first use of a name wins, later ones clash. */
function hostNames(t: BundleNaming): Located<string>[] {
  return [
    { path: 'controlPlane.name', value: t.controlPlane.name },
    ...t.workers.map((w, i) => ({ path: `workers[${i}].name`, value: w.name })),
    ...t.loadBalancer.hosts.map((h, i) => ({ path: `loadBalancer.hosts[${i}].name`, value: h.name })),
    ...gatewayNames(t.gateway),
    { path: 'client.name', value: t.client.name },
  ];
}

/**
 * Every bundle a config plans, by id, with the field its id comes from and that field's value (as the
 * bundles of lib/kubernetes, lib/load-balancer, lib/gateway and lib/client make them): the workload's,
 * each worker's page bundle, and each host's own bundle (its name). A test holds the plan to this list.
 * In this order the fixed and derived ids come first, so a clash is reported at the host name.
 */
export function bundleIdsOf(t: BundleNaming): Array<{ readonly id: string; readonly path: string; readonly given: string; readonly what: string }> {
  return [
    { id: WORKLOAD_BUNDLE_ID, path: 'workload.name', given: t.workload.name, what: 'the bundle that applies the workload' },
    ...t.workers.map((w, i) => ({ id: pageBundleId(w.name), path: `workers[${i}].name`, given: w.name, what: `the page bundle of workers[${i}] ${show(w.name)}` })),
    ...hostNames(t).map((host) => ({ id: host.value, path: host.path, given: host.value, what: `the bundle of ${host.path.replace(/\.name$/, '')} ${show(host.value)}` })),
  ];
}

/**
 * Host names become bundle ids, and each bundle id the ids of its Terraform resources (see
 * bundleResourceIds) and a directory in dist/. Two equal ids would make one resource silently
 * overwrite another in a stack's JSON (a host never provisioned, or never torn down), so every
 * generated id must be unique, and none may be the id of a stack's provider (`null`) or `constructor`.
 * Derived from the functions that make the ids, not from a list of suffixes.
 */
function generatedIdClashes(t: BundleNaming): TopologyProblem[] {
  const taken = new Map<string, string>([
    [NULL_PROVIDER_ID, 'the id of the null provider in each stack'],
    [PROTOTYPE_MEMBER_ID, 'a name the constructs library mistakes for an existing construct (a member of every JavaScript object)'],
  ]);
  // Every generated id with its owner; a host's own bundle id (its name as given) last, so that a
  // name that equals a derived id ("node01-teardown") is the one reported.
  const hostIds = new Set(hostNames(t).map((h) => h.path));
  const generated = bundleIdsOf(t).flatMap((bundle) => Object.entries(bundleResourceIds(bundle.id)).map(([role, id]) => ({
    id, bundle, owner: role === 'setup' ? bundle.what : `the ${role} resource of ${bundle.what}`, asGiven: role === 'setup' && hostIds.has(bundle.path),
  })));
  const ordered = [...generated.filter((g) => !g.asGiven), ...generated.filter((g) => g.asGiven)];
  // The clashes of each field; of a host's, the one of its own bundle id is the most direct to report.
  const clashes = new Map<string, TopologyProblem & { direct: boolean }>();
  for (const { id, bundle, owner, asGiven } of ordered) {
    const first = taken.get(id);
    if (first === undefined) {
      taken.set(id, owner);
      continue;
    }
    // A name equal to another host's is reported once, by the rule on distinct host names.
    if (asGiven && hostNames(t).filter((h) => h.value === bundle.id).length > 1) continue;
    const known = clashes.get(bundle.path);
    if (known && (known.direct || !asGiven)) continue;
    clashes.set(bundle.path, {
      path: bundle.path,
      got: show(bundle.given),
      expected: `a name none of whose generated ids is already taken: ${show(id)} (${owner}) is also ${first}`,
      direct: asGiven,
    });
  }
  const problems: TopologyProblem[] = [...clashes.values()].map(({ path, got, expected }) => ({ path, got, expected }));
  return problems;
}

/** Every address and the VIP with its path, in config order. */
function addresses(t: ResolvedConfig): Located<string>[] {
  return [
    { path: 'controlPlane.address', value: t.controlPlane.address },
    ...t.workers.map((w, i) => ({ path: `workers[${i}].address`, value: w.address })),
    ...t.loadBalancer.hosts.map((h, i) => ({ path: `loadBalancer.hosts[${i}].address`, value: h.address })),
    { path: 'gateway.inside.address', value: t.gateway.inside.address },
    { path: 'gateway.outside.address', value: t.gateway.outside.address },
    ...t.gateway.hosts.flatMap((h, i) => [
      { path: `gateway.hosts[${i}].insideAddress`, value: h.insideAddress },
      { path: `gateway.hosts[${i}].outsideAddress`, value: h.outsideAddress },
    ]),
    { path: 'client.address', value: t.client.address },
    { path: 'loadBalancer.vip', value: t.loadBalancer.vip },
  ];
}

const PROVISIONING: RuleTable<Subject> = [
  {
    path: 'provisioning.httpAddress',
    value: (s) => s.t.provisioning.httpAddress,
    fails: (s) => s.t.provisioning.backend === 'http' && !/^https?:\/\/[^/\x00-\x20\x7f]+(\/[\x21-\x7e]*)?$/.test(s.t.provisioning.httpAddress),
    expected: 'an http:// or https:// URL when provisioning.backend is http',
  },
  {
    // The address is written into every stack's cdk.tf.json; Terraform's http backend reads the credentials from its environment.
    path: 'provisioning.httpAddress',
    value: (s) => withoutCredentials(s.t.provisioning.httpAddress),
    fails: (s) => URL_CREDENTIALS.test(s.t.provisioning.httpAddress),
    expected: 'a URL without credentials (they would be written in clear into every cdk.tf.json): '
      + 'give them to terraform as TF_HTTP_USERNAME and TF_HTTP_PASSWORD',
  },
  {
    path: 'provisioning.stateDir',
    value: (s) => s.t.provisioning.stateDir,
    fails: (s) => s.t.provisioning.stateDir.trim() === '' || /(^|\/)(cdktf\.out|dist)(\/|$)/.test(s.t.provisioning.stateDir),
    expected: 'a directory outside the synthesized output (dist/, cdktf.out/), e.g. state',
  },
  {
    path: 'provisioning.stateDir',
    value: (s) => s.t.provisioning.stateDir,
    fails: (s) => !fitsPathLimits(s.t.provisioning.stateDir),
    expected: `a path of at most ${PATH_MAX_BYTES} bytes, each component at most ${NAME_MAX_BYTES} (Linux's PATH_MAX and NAME_MAX)`,
  },
  {
    // Set but unused: a forgotten `backend: http` would otherwise keep the state locally without a word.
    path: 'provisioning.httpAddress',
    value: (s) => withoutCredentials(s.t.provisioning.httpAddress),
    fails: (s) => s.t.provisioning.backend !== 'http' && s.t.provisioning.httpAddress !== '',
    expected: 'empty unless provisioning.backend is http (set backend: http to keep the state on that server)',
  },
  inRange('provisioning.sshTimeoutSeconds', (s) => s.t.provisioning.sshTimeoutSeconds, 1, 3600),
];

/**
 * Control characters in any text of the config: none is meaningful in a name, an address or a
 * path, and each would end up in shell scripts, Terraform JSON and the picture. A page may hold
 * tabs and line breaks. Walked without recursion; the path of each is given like the rules' paths.
 */
function controlCharacters(t: ResolvedConfig): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const stack: Array<[string, unknown]> = [['', t]];
  while (stack.length > 0) {
    const [path, value] = stack.pop()!;
    if (typeof value === 'string') {
      const allowed = /^workers\[\d+\]\.page$/.test(path) ? CONTROL_CHARACTER : /[\x00-\x1f\x7f]/;
      // The page has its own rule (which shows the page shortened); httpAddress is shown without credentials.
      if (allowed.test(value) && !/\.page$/.test(path)) {
        problems.push({ path, got: show(path === 'provisioning.httpAddress' ? withoutCredentials(value) : value), expected: 'text without control characters (NUL, line breaks, escapes)' });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([`${path}[${i}]`, item]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) stack.push([path === '' ? key : `${path}.${key}`, item]);
    }
  }
  return problems.reverse();
}

const TIME_SERVER: RuleTable<ResolvedConfig['timeSync']['servers'][number]> = [
  // One word: it becomes a `server` line of chrony.conf, where a space would start an option.
  matching('address', (server) => server.address, HOST_NAME_OR_ADDRESS, 'a DNS name or an IPv4 address (no port, no options)'),
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
    ...applyToEach('workers', t.workers, inConfig, WORKER),
    ...applyRules('', s, LOAD_BALANCER_HOSTS),
    ...applyToEach('loadBalancer.hosts', t.loadBalancer.hosts, inConfig, LOAD_BALANCER_HOST),
    ...distinct(priorities, (first) =>
      `a priority different from ${first} (equal priorities make the MASTER a coin toss)`),
    ...applyRules('gateway', inConfig(t.gateway), HOST_ACCESS),
    ...applyRules('', s, GATEWAY),
    ...applyRules('', s, GATEWAY_PAIR),
    ...applyToEach('gateway.hosts', t.gateway.hosts, inConfig, GATEWAY_PAIR_HOST),
    ...distinct(t.gateway.hosts.map((h, i) => ({ path: `gateway.hosts[${i}].priority`, value: h.priority })), (first) =>
      `a priority different from ${first} (equal priorities make the MASTER a coin toss)`),
    ...applyRules('client', inConfig(t.client), EXTERNAL_HOST),
    ...applyRules('', s, VIP),
    ...distinct(hostNames(t), (first) => `a host name not already used by ${first}`),
    ...generatedIdClashes(t),
    ...distinct(addresses(t), (first) => `an address not already used by ${first}`),
    ...applyRules('', s, LOAD_BALANCER),
    ...applyRules('', s, KUBERNETES),
    ...applyToEach('timeSync.servers', t.timeSync.servers, (server) => server, TIME_SERVER),
    ...applyRules('', s, WORKLOAD),
    ...applyRules('', s, PROVISIONING),
    ...controlCharacters(t),
  ];
}

/** The fields that describe the one gateway: with a pair, each host gives its own instead. */
export const SINGLE_GATEWAY_FIELDS = ['name', 'osFamily', 'sshUser', 'hostKey'] as const;

/**
 * Fields of the one gateway that a config layer gives beside a pair: each host of a pair has its own name,
 * user and key, so such a field would be silently unused. `layers` are the config as given (before defaults).
 */
export function singleGatewayFieldsBesidePair(layers: readonly unknown[], config: ResolvedConfig): TopologyProblem[] {
  if (config.gateway.hosts.length === 0) return [];
  const given = (layer: unknown, field: string): unknown => {
    const gateway = typeof layer === 'object' && layer !== null ? (layer as Record<string, unknown>).gateway : undefined;
    return typeof gateway === 'object' && gateway !== null ? (gateway as Record<string, unknown>)[field] : undefined;
  };
  return SINGLE_GATEWAY_FIELDS.flatMap((field) => {
    const value = layers.map((layer) => given(layer, field)).find((v) => v !== undefined);
    return value === undefined ? [] : [{
      path: `gateway.${field}`,
      got: show(value),
      expected: `no value with a gateway pair (gateway.hosts): each host of the pair sets its own ${field} (gateway.hosts[i].${field})`,
    }];
  });
}
