/**
 * No config can crash synth or pass a topology that cannot work. Each row is one case:
 * the config (a file's text or bytes, with its extension), and the message fragment of the
 * TopologyError, which synth reports with exit 2 and nothing written (the CLI rows at the end
 * prove that path for a few of them). Then a property test: random mutations of the example
 * configs give a plan or a TopologyError, never any other exception.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { synthWorkloadManifest } from '../constructs/k8s/workload-app';
import { buildStacksApp } from '../constructs/tf/stacks-app';
import { renderKeepalivedConf } from '../lib/load-balancer/keepalived';
import { STAGING_GUARD } from '../lib/plan/bundle';
import { planSynth } from '../lib/site-plan';
import { loadTopology, TopologyError, topologyWarnings } from '../lib/topology';
import { listFiles } from '../lib/kernel/files';
import { configFiles } from './trees';
import { SYNTH_PROGRAM } from './synth-program';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const { dir: scratch, write: configFile } = configFiles('k8s-ha-edge-topology-safety-');

function problemsOf(configPath: string): string {
  try {
    loadTopology({ configPath });
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    return error.message;
  }
  return '(accepted)';
}

const workers = (...names: string[]) => `workers:\n${names.map((n, i) => `  - {name: ${n}, address: 192.168.10.${20 + i}}\n`).join('')}`;

type Row = readonly [point: string, config: string | Uint8Array, extension: string, message: RegExp];
const ROWS: readonly Row[] = [
  ['6 __proto__ at the top', '__proto__: {x: 1}\n', 'yaml', /- __proto__: got an unknown key, expected one of hostDefaults/],
  ['6 constructor in a section', 'workload:\n  constructor: 1\n', 'yaml', /workload\.constructor: got an unknown key/],
  ['6 toString in a list item', 'workers:\n  - {name: a, address: 192.168.10.20, toString: 1}\n', 'yaml', /workers\[0\]\.toString: got an unknown key/],
  ['6 hasOwnProperty deep down', 'loadBalancer:\n  healthCheck:\n    hasOwnProperty: 1\n', 'yaml', /loadBalancer\.healthCheck\.hasOwnProperty: got an unknown key/],
  ['6 __proto__ in JSON', '{"workload": {"__proto__": {"name": "x"}}}', 'json', /workload\.__proto__: got an unknown key/],
  ['6 did you mean', 'loadBalancer:\n  vipp: 192.168.10.100\n', 'yaml', /loadBalancer\.vipp: got an unknown key, expected one of .* \(did you mean vip\?\)/],
  ['7 a host named workload', workers('workload'), 'yaml', /workers\[0\]\.name: got "workload", expected a name none of whose generated ids is already taken: "workload" \(the bundle of workers\[0\] "workload"\) is also the bundle that applies the workload/],
  ['7 workers w1 and w1-page', workers('w1', 'w1-page'), 'yaml', /workers\[1\]\.name: got "w1-page", expected a name none of whose generated ids is already taken: "w1-page" \(the bundle of workers\[1\] "w1-page"\) is also the page bundle of workers\[0\] "w1"/],
  ['7 a load balancer named like a page bundle', `${workers('web')}loadBalancer:\n  hosts:\n    - {name: web-page, address: 192.168.10.40, priority: 100}\n`, 'yaml', /loadBalancer\.hosts\[0\]\.name: got "web-page"/],
  ['7 a host named constructor (found by the property test)', 'client: {name: constructor}\n', 'yaml', /client\.name: got "constructor", expected a name none of whose generated ids is already taken: "constructor" .* is also a name the constructs library mistakes/],
  ['7 a host named null', 'controlPlane:\n  name: "null"\n', 'yaml', /controlPlane\.name: got "null", expected a name none of whose generated ids is already taken: "null" .* is also the id of the null provider/],
  // A name that is another bundle's generated resource id: one resource would overwrite the other in the stack's JSON.
  ['7 a worker named node01-teardown', workers('node01', 'node01-teardown'), 'yaml', /workers\[1\]\.name: got "node01-teardown", expected a name none of whose generated ids is already taken: "node01-teardown" \(the bundle of workers\[1\] "node01-teardown"\) is also the teardown resource of the bundle of workers\[0\] "node01"/],
  ['7 a worker named lb01-teardown', workers('node01', 'lb01-teardown'), 'yaml', /workers\[1\]\.name: got "lb01-teardown", .* "lb01-teardown" .* is also the teardown resource of the bundle of loadBalancer\.hosts\[0\] "lb01"/],
  ['7 a worker named master-teardown', workers('master-teardown'), 'yaml', /workers\[0\]\.name: got "master-teardown", .* is also the teardown resource of the bundle of controlPlane "master"/],
  ['7 a worker named node01-page-teardown', workers('node01', 'node01-page-teardown'), 'yaml', /workers\[1\]\.name: got "node01-page-teardown", .* is also the teardown resource of the page bundle of workers\[0\] "node01"/],
  ['7 a worker named workload-teardown', workers('workload-teardown'), 'yaml', /workers\[0\]\.name: got "workload-teardown", .* is also the teardown resource of the bundle that applies the workload/],
  ['7 a worker named like an address resource', workers('node01', 'node01-address'), 'yaml', /workers\[1\]\.name: got "node01-address", .* is also the address resource of the bundle of workers\[0\] "node01"/],
  ['7 a client named like the gateway\'s teardown', 'client: {name: gateway-teardown}\n', 'yaml', /client\.name: got "gateway-teardown", .* is also the teardown resource of the bundle of gateway "gateway"/],
  ['7 a load balancer named like a page bundle\'s address resource', `${workers('web')}loadBalancer:\n  hosts:\n    - {name: web-page-address, address: 192.168.10.40, priority: 100}\n`, 'yaml', /loadBalancer\.hosts\[0\]\.name: got "web-page-address", .* is also the address resource of the page bundle of workers\[0\] "web"/],
  ['8 weight within the priority gap', 'loadBalancer:\n  healthCheck: {weight: -5}\n', 'yaml', /loadBalancer\.healthCheck\.weight: got -5, expected 0 \(FAULT on failure\) or a weight whose size exceeds the priority spread 10/],
  ['8 weight equal to the gap', 'loadBalancer:\n  healthCheck: {weight: -10}\n', 'yaml', /loadBalancer\.healthCheck\.weight: got -10/],
  ['8 positive weight within the gap', 'loadBalancer:\n  healthCheck: {weight: 10}\n', 'yaml', /loadBalancer\.healthCheck\.weight: got 10/],
  ['11 interface "."', 'hostDefaults: {interface: "."}\n', 'yaml', /controlPlane\.interface: got "\.", expected a Linux interface name/],
  ['11 interface ".."', 'gateway:\n  inside: {interface: ".."}\n', 'yaml', /gateway\.inside\.interface: got "\.\.", expected a Linux interface name/],
  ['11 interface with a slash', 'client: {interface: "eth/0"}\n', 'yaml', /client\.interface: got "eth\/0"/],
  ['11 interface with a space', 'client: {interface: "eth 0"}\n', 'yaml', /client\.interface: got "eth 0"/],
  ['11 interface of 16 bytes', 'client: {interface: "abcdefghijklmnop"}\n', 'yaml', /client\.interface: got "abcdefghijklmnop"/],
  ['12 Service name not DNS-1035', 'workload: {name: 1web}\n', 'yaml', /workload\.name: got "1web", expected a name whose Service name "1web-svc" is a DNS-1035 label/],
  ['12 Pod name over 63', `workload: {name: ${'a'.repeat(57)}}\n`, 'yaml', /expected a name short enough that the Pod name "a{57}-node01" is a DNS-1123 label/],
  ['12 uppercase name', 'workload: {name: Web}\n', 'yaml', /workload\.name: got "Web", expected a lowercase RFC 1123 label/],
  ['12 leading dash', 'workload: {name: -web}\n', 'yaml', /workload\.name: got "-web"/],
  ['12 namespace not a DNS-1123 label', 'workload: {namespace: Team_A}\n', 'yaml', /workload\.namespace: got "Team_A", expected a Kubernetes namespace name/],
  ['12 label value over 63', `workload: {appLabel: ${'a'.repeat(64)}}\n`, 'yaml', /workload\.appLabel: got "a{64}", expected a Kubernetes label value/],
  ['13 hostPath with ..', 'workload: {hostPath: /data/../etc}\n', 'yaml', /workload\.hostPath: got "\/data\/\.\.\/etc", expected a normalised absolute path/],
  ['13 hostPath not normalised', 'workload: {hostPath: /data//pages/}\n', 'yaml', /workload\.hostPath: got "\/data\/\/pages\/", expected a normalised absolute path/],
  ['13 hostPath /', 'workload: {hostPath: /}\n', 'yaml', /workload\.hostPath: got "\/", expected a directory of its own, not the system directory \//],
  ['13 hostPath /etc', 'workload: {hostPath: /etc}\n', 'yaml', /not the system directory \/etc or anything below it/],
  ['13 hostPath below /proc', 'workload: {hostPath: /proc/1}\n', 'yaml', /not the system directory \/proc or anything below it/],
  ['13 hostPath /var', 'workload: {hostPath: /var}\n', 'yaml', /not the system directory \/var \(/],
  ['13 hostPath /home', 'workload: {hostPath: /home}\n', 'yaml', /not the system directory \/home \(/],
  ['14 image with $(id)', 'workload: {image: "nginx:$(id)"}\n', 'yaml', /workload\.image: got "nginx:\$\(id\)", expected a container image reference/],
  ['14 image with a space', 'workload: {image: "nginx 1.14"}\n', 'yaml', /workload\.image: got "nginx 1\.14"/],
  ['14 version 1.036', 'kubernetes: {version: "1.036"}\n', 'yaml', /kubernetes\.version: got "1\.036", expected a supported Kubernetes minor/],
  ['14 apiServerPort 22', 'kubernetes: {apiServerPort: 22}\n', 'yaml', /kubernetes\.apiServerPort: got 22, expected a port the control plane does not already use \(22 is SSH\)/],
  ['14 apiServerPort 10250', 'kubernetes: {apiServerPort: 10250}\n', 'yaml', /\(10250 is the kubelet's API\)/],
  ['14 apiServerPort 2379', 'kubernetes: {apiServerPort: 2379}\n', 'yaml', /\(2379 is etcd's client port\)/],
  ['14 apiServerPort 2380', 'kubernetes: {apiServerPort: 2380}\n', 'yaml', /\(2380 is etcd's peer port\)/],
  ['14 apiServerPort 10257', 'kubernetes: {apiServerPort: 10257}\n', 'yaml', /\(10257 is kube-controller-manager's port\)/],
  ['14 apiServerPort 10259', 'kubernetes: {apiServerPort: 10259}\n', 'yaml', /\(10259 is kube-scheduler's port\)/],
  ['14 apiServerPort 10256', 'kubernetes: {apiServerPort: 10256}\n', 'yaml', /\(10256 is kube-proxy's health port\)/],
  ['14 apiServerPort the NodePort', 'kubernetes: {apiServerPort: 30080}\nworkload: {nodePort: 30080}\n', 'yaml', /\(30080 is workload\.nodePort, served by kube-proxy on every node\)/],
  ['14 apiServerPort in the NodePort range', 'kubernetes: {apiServerPort: 31000}\n', 'yaml', /\(31000 is in the NodePort range 30000-32767\)/],
  // Only the VIP and the control plane answer on the API port inside: a worker's address as endpoint is a slip.
  ['14 controlPlaneEndpoint a worker', 'kubernetes: {controlPlaneEndpoint: 192.168.10.20}\n', 'yaml', /kubernetes\.controlPlaneEndpoint: got "192\.168\.10\.20", expected the load balancers' VIP \(192\.168\.10\.100\), a DNS name, or the control plane's own address \(192\.168\.10\.10/],
  // The load balancers listen on both ports on every address: one port cannot carry the service and the API.
  ['14 apiServerPort the LB port', 'kubernetes: {apiServerPort: 3344}\n', 'yaml', /kubernetes\.apiServerPort: got 3344, expected a port other than loadBalancer\.listenPort \(3344\)/],
  ['14 NodePort below the range', 'workload: {nodePort: 8080}\n', 'yaml', /workload\.nodePort: got 8080, expected a NodePort in 30000-32767/],
  ['14 NodePort above the range', 'workload: {nodePort: 32768}\n', 'yaml', /workload\.nodePort: got 32768, expected a NodePort in 30000-32767/],
  // No host can serve both the LB port and the NodePort: a load balancer on a node's address is rejected.
  ['14 LB port = NodePort on a host that serves both', 'loadBalancer:\n  listenPort: 30000\n  hosts:\n    - {name: lb01, address: 192.168.10.20, priority: 100}\n', 'yaml', /loadBalancer\.hosts\[0\]\.address: got "192\.168\.10\.20", expected an address not already used by workers\[0\]\.address/],
  ['15 a page that is not UTF-8', Buffer.concat([Buffer.from('workers:\n  - {name: a, address: 192.168.10.20, page: "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]), 'yaml', /\(file\): got bytes that are not UTF-8 \(at byte 57, line 2\), expected a UTF-8 text file/],
  ['15 invalid UTF-8 in JSON', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'json', /got bytes that are not UTF-8 \(at byte 2, line 1\)/],
  ['16 JSON with a syntax error', '{\n  "workload": {"name": "x",}\n}\n', 'json', /\(file\): got unparsable JSON \(.*position 29 \(line 2 column 28\)\), expected a JSON mapping/],
  ['16 YAML with a syntax error', 'workload: [\n', 'yaml', /\(file\): got unparsable YAML \(/],
];

describe('GIVEN a config that synth must reject ', () => {
  test.each(ROWS)('WHEN %s THEN a TopologyError says path, got, expected', (_point, config, extension, message) => {
    expect(problemsOf(configFile(config, extension))).toMatch(message);
  });
});

describe('GIVEN a config that synth must accept', () => {
  const accepts: ReadonlyArray<readonly [string, string]> = [
    ['8 weight 0 (FAULT)', 'loadBalancer:\n  healthCheck: {weight: 0}\n'],
    ['8 weight beyond the gap', 'loadBalancer:\n  healthCheck: {weight: -11}\n'],
    ['13 a hostPath of its own', 'workload: {hostPath: /srv/pages}\n'],
    ['14 an image with registry, port, path, tag and digest', `workload: {image: "registry.example:5000/team/nginx:1.27@sha256:${'a'.repeat(64)}"}\n`],
    ['15 a UTF-8 page', 'workers:\n  - {name: a, address: 192.168.10.20, page: "café ☃"}\n'],
    // The endpoint of a site built before the VIP was the default: the master's own address is kept.
    ['14 controlPlaneEndpoint the master\'s address', 'kubernetes: {controlPlaneEndpoint: 192.168.10.10}\n'],
    ['14 controlPlaneEndpoint an address outside the internal network (a proxy of its own)', 'kubernetes: {controlPlaneEndpoint: 10.0.5.5}\n'],
  ];
  test.each(accepts)('WHEN %s THEN it loads', (_point, config) => {
    expect(problemsOf(configFile(config))).toBe('(accepted)');
  });

  test('WHEN the page is UTF-8 THEN its bytes reach index.html exactly', () => {
    const t = loadTopology({ configPath: configFile('workers:\n  - {name: a, address: 192.168.10.20, page: "café ☃"}\n') });
    const page = planSynth(t, synthWorkloadManifest(t)).bundles.find((b) => b.id === 'a-page')?.files.find((f) => f.name === 'index.html');
    expect(Buffer.from(page?.content ?? '')).toEqual(Buffer.from('café ☃\n'));
  });

  test('9 WHEN the namespace is not default THEN the manifest creates it first, and apply-workload.sh never force-replaces it', () => {
    const t = loadTopology({ overrides: { workload: { namespace: 'web' } } });
    const manifest = synthWorkloadManifest(t);
    const objects = manifest.content.split(/^---$/m).map((doc) => parseYaml(doc) as { kind: string; metadata: { name: string; namespace?: string } });
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Pod', 'Pod', 'Service']);
    expect(objects[0].metadata).toEqual({ name: 'web' });
    expect(objects.slice(1).every((o) => o.metadata.namespace === 'web')).toBe(true);
    const apply = planSynth(t, manifest).bundles.find((b) => b.id === 'workload')?.files.find((f) => f.name === 'apply-workload.sh')?.content ?? '';
    // Run with a stand-in kubectl that refuses the first apply (a Pod changed): the Pods are deleted by name, never the file force-replaced.
    const dir = scratchDir('k8s-ha-edge-namespace-');
    writeFileSync(join(dir, 'apply-workload.sh'), apply.replace(STAGING_GUARD, ''));
    writeFileSync(join(dir, 'kubectl'), `#!/usr/bin/env bash\necho "kubectl $*" >> ${join(dir, 'calls.log')}\nif [ "$1" = apply ] && [ ! -e ${join(dir, 'refused')} ]; then touch ${join(dir, 'refused')}; exit 1; fi\n`, { mode: 0o755 });
    const run = spawnSync('bash', [join(dir, 'apply-workload.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8');
    expect(calls).not.toContain('replace --force');
    expect(calls.trimEnd().split('\n').slice(-3)).toEqual([
      'kubectl apply -f workload.k8s.yaml',
      'kubectl delete pod --namespace web --ignore-not-found --wait mcl-nginx-node01 mcl-nginx-node02',
      'kubectl apply -f workload.k8s.yaml',
    ]);
  });

  test('9 WHEN the namespace is default THEN no Namespace object is emitted', () => {
    expect(synthWorkloadManifest(loadTopology()).content).not.toContain('kind: Namespace');
  });

  test('10 WHEN there is one load balancer with unicast THEN a warning, and keepalived.conf has no unicast block', () => {
    const t = loadTopology({ overrides: { loadBalancer: { vrrp: { unicast: true }, hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }] } } });
    expect(topologyWarnings(t).filter((w) => w.path === 'loadBalancer.hosts')).toEqual([
      { path: 'loadBalancer.hosts', message: expect.stringMatching(/^one load balancer, so there is no high availability.*vrrp\.unicast has no peer/) },
    ]);
    const conf = renderKeepalivedConf(t, t.loadBalancer.hosts[0]);
    expect(conf).not.toMatch(/unicast/);
    expect(topologyWarnings(loadTopology()).map((w) => w.path)).not.toContain('loadBalancer.hosts');
  });
});

/** Deterministic PRNG (mulberry32): the same seed gives the same mutations on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: readonly unknown[] = [
  '', ' ', '.', '..', '/', '/etc', '/data/../x', '__proto__', 'constructor', 'workload', 'null', 'node01-page', '1web', 'Web', '-x',
  'a'.repeat(70), '$(id)', 'nginx:1.14', '192.168.10.20', '192.168.10.255', '12.0.0.0/24', '10.0.0.0/8', '1.036', '1.36', 'é☃',
  -1, 0, 1, 22, 90, 100, 255, 6443, 10250, 30000, 32768, 65536, 1.5, -5, -253, Number.MAX_SAFE_INTEGER, true, false, null, [], {}, [{}],
];
const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'vipp', 'name', 'x'];

/** One random change somewhere in `value`: replace, delete, add an odd key, or copy/empty a list. */
function mutate(value: unknown, random: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  if (Array.isArray(value)) {
    const copy = [...value];
    const roll = random();
    if (copy.length === 0 || roll < 0.1) return roll < 0.05 ? [] : pick(ODD_VALUES);
    if (roll < 0.25) return [...copy, copy[0]];
    const index = Math.floor(random() * copy.length);
    copy[index] = mutate(copy[index], random);
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const roll = random();
    if (entries.length === 0 || roll < 0.1) {
      // An own property even for __proto__, as a parser makes it.
      return Object.fromEntries([...entries, [pick(ODD_KEYS), pick(ODD_VALUES)]]);
    }
    const index = Math.floor(random() * entries.length);
    if (roll < 0.2) return Object.fromEntries(entries.filter((_, i) => i !== index));
    entries[index] = [entries[index][0], mutate(entries[index][1], random)];
    return Object.fromEntries(entries);
  }
  return pick(ODD_VALUES);
}

describe('GIVEN a config that kubeadm, the kernel or the cluster would refuse on the hosts, or that says one thing twice', () => {
  const nested = (depth: number) => `{"kubernetes": {"version": ${'['.repeat(depth)}1${']'.repeat(depth)}}}`;
  const rows: readonly Row[] = [
    ['a NUL byte in a page (Graphviz refused the picture)', 'workers:\n  - {name: a, address: 192.168.10.20, page: "a\\0b"}\n', 'yaml',
      /workers\[0\]\.page: got "a\\u0000b", expected text without NUL or other control characters/],
    ['an escape character in a page', 'workers:\n  - {name: a, address: 192.168.10.20, page: "\\e[31mred"}\n', 'yaml', /workers\[0\]\.page: got "\\u001b\[31mred"/],
    ['JSON nested 5,000 deep (the stack overflowed)', nested(5000), 'json', /\(file\): got values nested more than 32 levels deep, expected at most 32 levels/],
    ['YAML nested 40 deep', `kubernetes: {version: ${'['.repeat(40)}1${']'.repeat(40)}}\n`, 'yaml', /\(file\): got values nested more than 32 levels deep/],
    ['credentials in provisioning.httpAddress', 'provisioning: {backend: http, httpAddress: "https://alice:s3cret@state.example/tf"}\n', 'yaml',
      /provisioning\.httpAddress: got "https:\/\/<credentials>@state\.example\/tf", expected a URL without credentials .* TF_HTTP_USERNAME and TF_HTTP_PASSWORD/],
    ['a Service network of 8 addresses (kubeadm wants 10)', 'kubernetes: {serviceCidr: 10.96.0.0/29}\n', 'yaml',
      /kubernetes\.serviceCidr: got "10\.96\.0\.0\/29", expected a network from \/12 to \/28: kubeadm refuses/],
    ['a Service network wider than /12', 'kubernetes: {serviceCidr: 10.96.0.0/11}\n', 'yaml', /kubernetes\.serviceCidr: got "10\.96\.0\.0\/11", expected a network from \/12 to \/28/],
    ['a Pod network smaller than one node\'s /24', 'kubernetes: {podCidr: 10.244.0.0/25}\n', 'yaml', /kubernetes\.podCidr: got "10\.244\.0\.0\/25", expected a network from \/8 to \/24/],
    ['a Pod network more than 16 bits wider than /24', 'kubernetes: {podCidr: 10.0.0.0/7}\n', 'yaml', /kubernetes\.podCidr: got "10\.0\.0\.0\/7", expected a network from \/8 to \/24/],
    ['a Pod network of one /24 for three nodes', 'kubernetes: {podCidr: 10.244.0.0/24}\n', 'yaml', /kubernetes\.podCidr: got "10\.244\.0\.0\/24", expected a network with a \/24 for each of the 3 nodes .*e\.g\. a \/22/],
    ['namespace kube-system (destroy would delete it)', 'workload: {namespace: kube-system}\n', 'yaml', /workload\.namespace: got "kube-system", expected a namespace of its own, not one starting with "kube-"/],
    ['namespace kube-flannel (the CNI lives there)', 'workload: {namespace: kube-flannel}\n', 'yaml', /workload\.namespace: got "kube-flannel", expected a namespace of its own/],
    ['a joinTokenTtl beyond a Go duration', 'kubernetes: {joinTokenTtl: 2562048h}\n', 'yaml', /kubernetes\.joinTokenTtl: got "2562048h", expected a duration of at most 2562047h/],
    ['a joinTokenTtl of 20 digits', 'kubernetes: {joinTokenTtl: 99999999999999999999s}\n', 'yaml', /kubernetes\.joinTokenTtl: got "99999999999999999999s", expected a duration of at most/],
    ['interface "all"', 'hostDefaults: {interface: all}\n', 'yaml', /controlPlane\.interface: got "all", expected a Linux interface name .*not "\.", "\.\.", "all" or "default"/],
    ['interface "default"', 'gateway:\n  outside: {interface: default}\n', 'yaml', /gateway\.outside\.interface: got "default", expected a Linux interface name/],
    ['a mountPath with ..', 'workload: {mountPath: /usr/share/../../etc}\n', 'yaml', /workload\.mountPath: got "\/usr\/share\/\.\.\/\.\.\/etc", expected a normalised absolute path/],
    ['mountPath /', 'workload: {mountPath: /}\n', 'yaml', /workload\.mountPath: got "\/", expected a directory below \//],
    ['a JSON key twice (the last one won)', '{"kubernetes": {"version": "1.36", "version": "1.35"}}', 'json',
      /\(file\): got the key "version" twice in kubernetes, expected each key at most once/],
    ['a JSON key twice in a list item', '{"workers": [{"name": "a", "address": "192.168.10.20"}, {"name": "b", "name": "c", "address": "192.168.10.21"}]}', 'json',
      /\(file\): got the key "name" twice in workers\[1\]/],
    ['a YAML key twice through an alias', 'kubernetes:\n  &k version: "1.36"\n  *k : "1.35"\n', 'yaml', /\(file\): got the key "version" twice in one mapping \(the second at line 3\)/],
    ['a YAML key twice as a number and a string', 'workload:\n  1: a\n  "1": b\n', 'yaml', /\(file\): got the key "1" twice in one mapping/],
  ];
  /** For some rows, the value just inside the limit: it loads, so the rule is no wider than the hosts' own. */
  const JUST_INSIDE: Record<string, string> = {
    'credentials in provisioning.httpAddress': 'provisioning: {backend: http, httpAddress: "https://state.example:8443/tf"}\n',
    'a Service network of 8 addresses (kubeadm wants 10)': 'kubernetes: {serviceCidr: 10.96.0.0/28}\n',
    'a Service network wider than /12': 'kubernetes: {serviceCidr: 10.96.0.0/12}\n',
    'a Pod network of one /24 for three nodes': 'kubernetes: {podCidr: 10.244.0.0/22}\n',
    'namespace kube-system (destroy would delete it)': 'workload: {namespace: web}\n',
    'a joinTokenTtl beyond a Go duration': 'kubernetes: {joinTokenTtl: 2562047h}\n',
    'interface "all"': 'hostDefaults: {interface: allnics}\n',
    'a JSON key twice (the last one won)': '{"controlPlane": {"name": "m"}, "gateway": {"name": "g"}}',
  };
  test.each(rows)('WHEN %s THEN a TopologyError says path, got, expected', (point, config, extension, message) => {
    const problems = problemsOf(configFile(config, extension));
    expect(problems).toMatch(message);
    expect(problems).not.toContain('s3cret');
    const justInside = JUST_INSIDE[point];
    if (justInside !== undefined) expect(problemsOf(configFile(justInside, extension))).toBe('(accepted)');
  });

  test('WHEN the config is an endless stream (/dev/zero) THEN it is refused before a byte is read: not a regular file', () => {
    expect(problemsOf('/dev/zero')).toMatch(/--config: got "\/dev\/zero" \(a character device\), expected a regular file \(YAML or JSON\)/);
  });

  test('WHEN the config is a regular file beyond the cap THEN reading stops at the cap with an error', () => {
    // Sparse: 16 MiB and one byte of zeros that take no disk.
    const big = join(scratch, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 16 * 1024 * 1024 + 1);
    expect(problemsOf(big)).toMatch(/--config: got ".*big\.yaml" \(more than 16777216 bytes\), expected a YAML or JSON file of at most 16 MiB/);
  });
});

describe('GIVEN random mutations of the example configs', () => {
  const examples = readdirSync(join(repo, 'examples')).filter((f) => f.endsWith('.yaml')).sort()
    .map((f) => parseYaml(readFileSync(join(repo, 'examples', f), 'utf8')) as unknown);
  const COUNT = 300;

  test(`WHEN ${COUNT} of them are loaded and planned THEN each gives a plan or a TopologyError, never another exception`, () => {
    const random = prng(9);
    const outcomes = { planned: 0, rejected: 0 };
    for (let i = 0; i < COUNT; i++) {
      let config = examples[i % examples.length];
      const changes = 1 + Math.floor(random() * 3);
      for (let c = 0; c < changes; c++) config = mutate(config, random);
      try {
        const t = loadTopology({ overrides: config });
        const plan = planSynth(t, synthWorkloadManifest(t));
        // The construct trees: a name that collides with a construct id throws here.
        buildStacksApp(plan, join(scratch, 'never-written'));
        outcomes.planned++;
      } catch (error) {
        if (!(error instanceof TopologyError)) {
          throw new Error(`mutation ${i} threw ${String(error)} for config ${JSON.stringify(config)}`, { cause: error });
        }
        outcomes.rejected++;
      }
    }
    // Both outcomes occur, so the test exercises the renderers as well as the validation.
    expect(outcomes.planned).toBeGreaterThan(10);
    expect(outcomes.rejected).toBeGreaterThan(10);
  });
});

describe('GIVEN synth on the command line', () => {
  const [node, ...program] = SYNTH_PROGRAM;
  const env = { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' };
  const synth = (cwd: string, ...args: string[]) => spawnSync(node, [...program, ...args], { cwd, encoding: 'utf8', env });
  const snapshot = (dir: string) => listFiles(dir).map((f) => `${f}:${readFileSync(join(dir, f)).toString('base64')}`);

  // One spawn per case that reaches main.ts by a different road: a shape error, a parse error, a rule.
  const cliRows: ReadonlyArray<readonly [string, string, string, RegExp]> = [
    ['a __proto__ key', '{"__proto__": {"workload": {}}}', 'json', /__proto__: got an unknown key/],
    ['a JSON syntax error', '{"workload": }', 'json', /got unparsable JSON/],
    ['a weight inside the priority gap', 'loadBalancer:\n  healthCheck: {weight: -5}\n', 'yaml', /loadBalancer\.healthCheck\.weight: got -5/],
    ['a control-plane endpoint no host serves', 'kubernetes: {controlPlaneEndpoint: 192.168.10.77}\n', 'yaml', /kubernetes\.controlPlaneEndpoint: got "192\.168\.10\.77", expected the load balancers' VIP/],
  ];
  test.each(cliRows)('WHEN the config has %s THEN exit 2, the message, no stack trace, and the earlier output byte-identical', (_name, text, extension, message) => {
    const cwd = scratchDir('k8s-ha-edge-safety-cli-');
    writeFileSync(join(cwd, 'dist-marker-free-file'), 'keep');
    const before = snapshot(cwd);
    const config = join(cwd, `site.${extension}`);
    writeFileSync(config, text);
    const run = synth(cwd, '--config', config, '--only', 'k8s');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/nothing was written; dist\/ is unchanged/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expect(snapshot(cwd).filter((f) => !f.startsWith('site.'))).toEqual(before);
  });
});
