import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { configFiles } from './trees';
import { errorFor } from './support/topology-errors';
import { hostKeyLine, HAS_SSH_KEYGEN } from './host-keys';
import { KubeProxyMode, loadTopology, OsFamily } from '../lib/topology';

const { dir: scratch, write: configFile } = configFiles('k8s-ha-edge-topology-');

describe('the default topology', () => {
  const t = loadTopology();

  test('is the original write-up\'s system with 192.168.160.x corrected to 192.168.10.x', () => {
    expect(t.networks).toEqual({ internal: '192.168.10.0/24', external: '12.0.0.0/24' });
    expect([t.controlPlane.name, t.controlPlane.address]).toEqual(['master', '192.168.10.10']);
    expect(t.workers.map((w) => [w.name, w.address])).toEqual([['node01', '192.168.10.20'], ['node02', '192.168.10.30']]);
    expect(t.loadBalancer.hosts.map((h) => [h.name, h.address, h.priority])).toEqual([
      ['lb01', '192.168.10.40', 100],
      ['lb02', '192.168.10.50', 90],
    ]);
    expect(t.loadBalancer.vip).toBe('192.168.10.100');
    expect(t.loadBalancer.listenPort).toBe(3344);
    expect(t.workload.nodePort).toBe(30000);
    expect(t.gateway.inside).toEqual({ interface: 'ens33', address: '192.168.10.1' });
    expect(t.gateway.outside).toEqual({ interface: 'ens36', address: '12.0.0.1' });
    expect(t.client.address).toBe('12.0.0.12');
    expect(t.loadBalancer.vrrp.routerId).toBe(51);
    expect(t.kubernetes.podCidr).toBe('10.244.0.0/16');
    expect(t.kubernetes.kubeProxyMode).toBe(KubeProxyMode.NFTABLES);
    expect(t.kubernetes.containerRuntime).toBe('containerd');
    expect(t.workload.image).toBe('nginx:1.30.1');
  });

  test('the Pods default to a maintained, pinned nginx; the original write-up\'s end-of-life tag is still possible through the config', () => {
    expect(t.workload.image).not.toBe('nginx:1.14');
    expect(t.workload.image).toMatch(/^nginx:1\.(2[89]|3[0-9])\.[0-9]+$/);
    expect(loadTopology({ overrides: { workload: { image: 'nginx:1.14' } } }).workload.image).toBe('nginx:1.14');
  });

  test('has no 192.168.160.x address anywhere', () => {
    expect(JSON.stringify(t)).not.toContain('192.168.160.');
  });

  test('gives each worker a distinct page and every host the host defaults', () => {
    expect(t.workers.map((w) => w.page)).toEqual(['this is node01', 'this is node02']);
    for (const host of [t.controlPlane, ...t.workers, ...t.loadBalancer.hosts, t.client]) {
      // Debian by default: the family the lab proves end to end (rhel is a checked option).
      expect(host).toMatchObject({ osFamily: OsFamily.DEBIAN, sshUser: 'root', interface: 'ens33' });
    }
  });

  test('is frozen', () => {
    expect(Object.isFrozen(t.workers[0])).toBe(true);
  });
});

describe('a config file', () => {
  test('deep-merges mappings and replaces lists', () => {
    const t = loadTopology({
      configPath: configFile([
        'loadBalancer:',
        '  listenPort: 8080',
        'workers:',
        '  - { name: w1, address: 192.168.10.21 }',
        '  - { name: w2, address: 192.168.10.22 }',
        '  - { name: w3, address: 192.168.10.23, page: custom, osFamily: rhel }',
      ].join('\n')),
    });
    expect(t.loadBalancer.listenPort).toBe(8080);
    expect(t.loadBalancer.vip).toBe('192.168.10.100'); // untouched sibling keeps its default
    expect(t.workers.map((w) => w.name)).toEqual(['w1', 'w2', 'w3']);
    expect(t.workers[2]).toMatchObject({ page: 'custom', osFamily: OsFamily.RHEL });
    expect(t.workers[0]).toMatchObject({ page: 'this is w1', osFamily: OsFamily.DEBIAN });
  });

  test('may be JSON', () => {
    const t = loadTopology({ configPath: configFile('{"loadBalancer": {"vip": "192.168.10.99"}}') });
    expect(t.loadBalancer.vip).toBe('192.168.10.99');
  });

  test('hostDefaults apply to every host that does not set the field', () => {
    const t = loadTopology({ overrides: { hostDefaults: { osFamily: 'debian', sshUser: 'ops' }, controlPlane: { sshUser: 'admin' } } });
    expect(t.controlPlane.sshUser).toBe('admin');
    expect(t.gateway.hosts[0]).toMatchObject({ osFamily: OsFamily.DEBIAN, sshUser: 'ops' });
    expect(t.loadBalancer.hosts[1].sshUser).toBe('ops');
  });

  test('the shipped example file is exactly the defaults', () => {
    expect(loadTopology({ configPath: join(__dirname, '..', 'examples', 'topology.example.yaml') })).toEqual(loadTopology());
  });
});

describe('invalid input is rejected with the path, the value and what was expected', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['address outside its subnet', { controlPlane: { address: '192.168.11.10' } },
      /controlPlane\.address: got "192\.168\.11\.10", expected an address inside 192\.168\.10\.0\/24 \(networks\.internal\)/],
    ['client outside the external network', { client: { address: '192.168.10.77' } },
      /client\.address: got "192\.168\.10\.77", expected an address inside 12\.0\.0\.0\/24/],
    ['not an address', { workers: [{ name: 'node01', address: '192.168.10.300' }] },
      /workers\[0\]\.address: got "192\.168\.10\.300", expected an IPv4 address/],
    ['duplicate addresses', { workers: [{ name: 'node01', address: '192.168.10.40' }] },
      /loadBalancer\.hosts\[0\]\.address: got "192\.168\.10\.40", expected an address not already used by workers\[0\]\.address/],
    ['duplicate host names', { workers: [{ name: 'node01', address: '192.168.10.20' }, { name: 'node01', address: '192.168.10.30' }] },
      /workers\[1\]\.name: got "node01", expected a host name not already used by workers\[0\]\.name/],
    ['VIP equal to a host', { loadBalancer: { vip: '192.168.10.50' } },
      /loadBalancer\.vip: got "192\.168\.10\.50", expected an address not already used by loadBalancer\.hosts\[1\]\.address/],
    ['VIP outside the internal subnet', { loadBalancer: { vip: '12.0.0.100' } },
      /loadBalancer\.vip: got "12\.0\.0\.100", expected an address inside 192\.168\.10\.0\/24/],
    ['VIP on the broadcast address', { loadBalancer: { vip: '192.168.10.255' } },
      /loadBalancer\.vip: got "192\.168\.10\.255", expected a host address of 192\.168\.10\.0\/24/],
    ['NodePort below the range', { workload: { nodePort: 8080 } },
      /workload\.nodePort: got 8080, expected a NodePort in 30000-32767/],
    ['NodePort above the range', { workload: { nodePort: 32768 } },
      /workload\.nodePort: got 32768, expected a NodePort in 30000-32767/],
    ['LB port out of range', { loadBalancer: { listenPort: 70000 } },
      /loadBalancer\.listenPort: got 70000, expected a TCP port in 1-65535/],
    ['LB port clashing with SSH', { loadBalancer: { listenPort: 22 } },
      /loadBalancer\.listenPort: got 22, expected a port the load balancers do not already use \(22 is SSH\)/],
    ['VRRP router id 0', { loadBalancer: { vrrp: { routerId: 0 } } },
      /loadBalancer\.vrrp\.routerId: got 0, expected a VRRP virtual_router_id in 1-255/],
    ['preempt delay over 300 s', { loadBalancer: { vrrp: { preemptDelaySeconds: 301 } } },
      /loadBalancer\.vrrp\.preemptDelaySeconds: got 301, expected a preempt delay in 0-300/],
    ['VRRP version 4', { loadBalancer: { vrrp: { version: 4 } } },
      /loadBalancer\.vrrp\.version: got 4, expected 2 or 3/],
    ['VRRPv3 advert interval not in centiseconds', { loadBalancer: { vrrp: { advertIntervalMs: 105 } } },
      /loadBalancer\.vrrp\.advertIntervalMs: got 105, expected a multiple of 10 from 10 to 40950 \(VRRP version 3 sends centiseconds\)/],
    ['VRRPv3 advert interval beyond 12 bits of centiseconds', { loadBalancer: { vrrp: { advertIntervalMs: 40960 } } },
      /loadBalancer\.vrrp\.advertIntervalMs: got 40960, expected a multiple of 10/],
    ['VRRPv2 sub-second advert interval', { loadBalancer: { vrrp: { version: 2, advertIntervalMs: 100 } } },
      /loadBalancer\.vrrp\.advertIntervalMs: got 100, expected a multiple of 1000 from 1000 to 255000 \(VRRP version 2 sends whole seconds\)/],
    ['VRRP router id 256', { loadBalancer: { vrrp: { routerId: 256 } } },
      /loadBalancer\.vrrp\.routerId: got 256, expected a VRRP virtual_router_id in 1-255/],
    ['equal VRRP priorities', { loadBalancer: { hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }, { name: 'lb02', address: '192.168.10.50', priority: 100 }] } },
      /loadBalancer\.hosts\[1\]\.priority: got 100, expected a priority different from loadBalancer\.hosts\[0\]\.priority/],
    ['no worker', { workers: [] }, /workers: got \[\], expected at least one worker/],
    ['pod CIDR overlapping the internal network', { kubernetes: { podCidr: '192.168.0.0/16' } },
      /kubernetes\.podCidr: got "192\.168\.0\.0\/16", expected a network that does not overlap networks\.internal \(192\.168\.10\.0\/24\)/],
    ['pod CIDR overlapping the service CIDR', { kubernetes: { podCidr: '10.96.0.0/16' } },
      /kubernetes\.podCidr: got "10\.96\.0\.0\/16", expected a network that does not overlap kubernetes\.serviceCidr \(10\.96\.0\.0\/12\)/],
    ['a network with host bits (the original write-up\'s SNAT slip)', { networks: { internal: '192.168.10.100/24' } },
      /networks\.internal: got "192\.168\.10\.100\/24", expected a network address with no host bits set \(did you mean 192\.168\.10\.0\/24\?\)/],
    ['unknown key (typo)', { loadBalancer: { vipp: '192.168.10.100' } },
      /loadBalancer\.vipp: got an unknown key, expected one of vip, listenPort, hosts, vrrp, healthCheck, forwardInFlight, upstream/],
    ['unknown top-level key', { loadbalancer: {} }, /loadbalancer: got an unknown key, expected one of hostDefaults, networks/],
    ['wrong type: port as a string', { loadBalancer: { listenPort: '3344' } },
      /loadBalancer\.listenPort: got "3344", expected an integer/],
    ['wrong type: list where a mapping is expected', { gateway: ['ens33'] }, /gateway: got \["ens33"\], expected a mapping/],
    ['wrong type: workers as a mapping', { workers: { node01: '192.168.10.20' } }, /workers: got \{"node01":"192\.168\.10\.20"\}, expected a list/],
    ['worker without an address', { workers: [{ name: 'node01' }] }, /workers\[0\]\.address: got nothing, expected a value \(required\)/],
    ['unknown OS family', { hostDefaults: { osFamily: 'centos' } }, /hostDefaults\.osFamily: got "centos", expected one of rhel, debian/],
    ['a flannel digest that is not a sha256', { kubernetes: { flannelManifestSource: 'download', flannelManifestSha256: 'sha256:abc' } },
      /kubernetes\.flannelManifestSha256: got "sha256:abc", expected a sha256 digest in 64 lowercase hex digits/],
    ['another flannel release with the bundled manifest', { kubernetes: { flannelVersion: 'v0.27.0' } },
      /kubernetes\.flannelVersion: got "v0\.27\.0", expected v0\.28\.9, the release whose manifest is bundled; for another release set kubernetes\.flannelManifestSource: download/],
    ['a flannel download without a digest', { kubernetes: { flannelManifestSource: 'download' } },
      /kubernetes\.flannelManifestSha256: got "", expected with flannelManifestSource download, the sha256 of https:\/\/github\.com\/flannel-io\/flannel\/releases\/download\/v0\.28\.9\/kube-flannel\.yml/],
    ['a flannel digest with the bundled manifest (it would be ignored)', { kubernetes: { flannelManifestSha256: 'e8'.repeat(32) } },
      /kubernetes\.flannelManifestSha256: got "e8e8.*", expected empty with flannelManifestSource bundled/],
    ['unknown flannel manifest source', { kubernetes: { flannelManifestSource: 'git' } },
      /kubernetes\.flannelManifestSource: got "git", expected one of bundled, download/],
    ['an NTP server with an option after it (chrony.conf would read it as one)', { timeSync: { servers: [{ address: 'ntp.example.internal' }, { address: 'ntp2.example.internal prefer' }] } },
      /timeSync\.servers\[1\]\.address: got "ntp2\.example\.internal prefer", expected a DNS name or an IPv4 address \(no port, no options\)/],
    ['an NTP server without an address', { timeSync: { servers: [{}] } }, /timeSync\.servers\[0\]\.address: got nothing, expected a value \(required\)/],
    ['a control plane endpoint with a port', { kubernetes: { controlPlaneEndpoint: 'api.example.internal:6443' } },
      /kubernetes\.controlPlaneEndpoint: got "api\.example\.internal:6443", expected a DNS name or an IPv4 address without a port/],
    ['a host key that is not a key line', { controlPlane: { hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIA' } },
      /controlPlane\.hostKey: got "AAAAC3NzaC1lZDI1NTE5AAAAIA", expected an SSH public key line/],
    ['a host key whose blob is of another type', { gateway: { hostKey: 'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' } },
      /gateway\.hostKey: got "ssh-rsa AAAA.*", expected an SSH public key line/],
    ['unknown kube-proxy mode', { kubernetes: { kubeProxyMode: 'userspace' } },
      /kubernetes\.kubeProxyMode: got "userspace", expected one of nftables, iptables, ipvs/],
    ['the original write-up\'s Kubernetes version', { kubernetes: { version: '1.20' } },
      /kubernetes\.version: got "1\.20", expected a supported Kubernetes minor: 1\.35, 1\.36, 1\.37/],
    ['a version string that is not one', { kubernetes: { version: 'latest' } },
      /kubernetes\.version: got "latest", expected a supported Kubernetes minor/],
    ['a version with a v prefix', { kubernetes: { version: 'v1.36' } }, /kubernetes\.version: got "v1\.36", expected a supported Kubernetes minor/],
    ['Docker as the runtime', { kubernetes: { containerRuntime: 'docker' } },
      /kubernetes\.containerRuntime: got "docker", expected one of containerd/],
    ['internal and external networks overlapping', { networks: { external: '192.168.0.0/16' } },
      /networks\.external: got "192\.168\.0\.0\/16", expected a network that does not overlap networks\.internal/],
    ['host name that is not a DNS label', { controlPlane: { name: 'Master_1' } },
      /controlPlane\.name: got "Master_1", expected a lowercase RFC 1123 label/],
    ['interface name too long', { hostDefaults: { interface: 'averyveryverylongnic' } },
      /controlPlane\.interface: got "averyveryverylongnic", expected a Linux interface name of 1-15 characters/],
    ['gateway with one NIC for both sides', { gateway: { outside: { interface: 'ens33' } } },
      /gateway\.outside\.interface: got "ens33", expected a NIC other than gateway\.inside\.interface/],
    ['join token TTL not a duration', { kubernetes: { joinTokenTtl: 'forever' } },
      /kubernetes\.joinTokenTtl: got "forever", expected a positive duration/],
    ['relative hostPath', { workload: { hostPath: 'data' } }, /workload\.hostPath: got "data", expected an absolute path/],
  ];

  test.each(cases)('%s', (_name, overrides, message) => {
    expect(errorFor(overrides)).toMatch(message);
  });

  test('every problem is reported at once', () => {
    const message = errorFor({ workload: { nodePort: 1 }, loadBalancer: { vrrp: { routerId: 0 } } });
    expect(message).toMatch(/workload\.nodePort/);
    expect(message).toMatch(/loadBalancer\.vrrp\.routerId/);
  });

  test('a missing config file', () => {
    expect(() => loadTopology({ configPath: join(scratch, 'nope.yaml') })).toThrow(
      /--config: got ".*nope\.yaml" \(no such file\), expected a readable YAML or JSON file/);
  });

  // In a child process: before the check, opening the FIFO blocked for good, which would hang jest itself.
  test.each([
    ['a FIFO nobody writes to', () => { const fifo = join(scratch, 'site.fifo'); spawnSync('mkfifo', [fifo]); return fifo; }, 'a FIFO'],
    ['/dev/null', () => '/dev/null', 'a character device'],
    ['a directory', () => scratch, 'a directory'],
  ])('a config that is %s: refused at once, before a byte is read (synth, verify, drain, apply and the lab all read it so)', (_name, make, kind) => {
    const path = make();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const { loadTopology } = require(${JSON.stringify(join(__dirname, '..', 'lib', 'topology'))});
      try { loadTopology({ configPath: ${JSON.stringify(path)} }); console.log('loaded'); } catch (error) { console.log(error.message); }`],
    { encoding: 'utf8', timeout: 15_000 });
    expect(run.signal).toBeNull();
    expect(run.stdout).toContain(`--config: got "${path}" (${kind}), expected a regular file (YAML or JSON)`);
  });

  test('unparsable YAML', () => {
    expect(() => loadTopology({ configPath: configFile('loadBalancer: {vip: [\n') })).toThrow(
      /\(file\): got unparsable YAML \(.+\), expected a YAML or JSON mapping/);
  });

  test('a duplicate key in YAML', () => {
    expect(() => loadTopology({ configPath: configFile('workload:\n  nodePort: 30001\nworkload:\n  nodePort: 30002\n') })).toThrow(
      /unparsable YAML/);
  });

  test('a file that is a list, not a mapping', () => {
    expect(() => loadTopology({ configPath: configFile('- a\n- b\n') })).toThrow(/\(top level\): got \["a","b"\], expected a mapping/);
  });
});

(HAS_SSH_KEYGEN ? describe : describe.skip)('host keys', () => {
  test('a key line from ssh-keygen is accepted on any host; its comment is kept in the config but never part of the key', () => {
    const line = hostKeyLine('root@master');
    const t = loadTopology({ overrides: { controlPlane: { hostKey: line }, gateway: { hostKey: line } } });
    expect(t.controlPlane.hostKey).toBe(line);
    expect(t.gateway.hosts[0].hostKey).toBe(line);
    expect(t.workers[0].hostKey).toBe('');
  });
});
