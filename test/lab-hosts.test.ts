import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { labHostsFile, managementAddress, MGMT_HOST } from '../lab/lab-hosts';
import { loadTopology } from '../lib/topology';
import { CUSTOM_CONFIG } from './render-fixture';

describe('the lab hosts file', () => {
  test('puts the topology\'s own machines at their own addresses, the control plane too (a stand-in)', () => {
    const t = loadTopology();
    const file = labHostsFile(t);
    const nics = Object.fromEntries(file.hosts.map((h) => [h.name, h.interfaces.map((i) => `${i.name}=${i.address}`).join(' ')]));
    expect(nics).toEqual({
      mgmt: 'eth0=192.168.10.254/24',
      lb01: 'ens33=192.168.10.40/24',
      lb02: 'ens33=192.168.10.50/24',
      master: 'ens33=192.168.10.10/24',
      node01: 'ens33=192.168.10.20/24',
      node02: 'ens33=192.168.10.30/24',
      gateway: 'ens33=192.168.10.1/24 ens36=12.0.0.1/24',
      client: 'ens33=12.0.0.12/24',
    });
    expect(file.hosts.find((h) => h.name === 'client')!.defaultGateway).toBe('12.0.0.1');
    expect(file.hosts.find((h) => h.name === 'lb01')!.defaultGateway).toBe('192.168.10.1');
    expect(file.hosts.find((h) => h.name === MGMT_HOST)!.kind).toBe('netns-only');
  });

  test('the management address never clashes with a host or the VIP', () => {
    const t = loadTopology({ overrides: { loadBalancer: { vip: '192.168.10.254' }, workers: [{ name: 'node01', address: '192.168.10.253' }] } });
    expect(managementAddress(t)).toBe('192.168.10.252');
  });

  test('follows a custom topology (other subnet, NIC names, three workers)', () => {
    const file = labHostsFile(loadTopology({ configPath: CUSTOM_CONFIG }));
    expect(file.networks).toEqual([{ name: 'inside', cidr: '10.20.0.0/24' }, { name: 'outside', cidr: '198.51.100.0/24' }]);
    expect(file.hosts.map((h) => h.name)).toEqual(['mgmt', 'edge-a', 'edge-b', 'cp1', 'w1', 'w2', 'w3', 'fw', 'laptop']);
    expect(file.hosts.find((h) => h.name === 'fw')!.interfaces.map((i) => i.name)).toEqual(['eth0', 'eth1']);
  });
});

describe('npm run lab flags', () => {
  // Bad flags are refused before anything is built (and before the root check), with exit 2 and the flag named.
  const lab = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'lab', 'main.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });

  test.each([
    [['--suite', 'sid'], '--suite: got "sid", expected one of bookworm, trixie'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['test', '--config'], "Option '--config <value>' argument missing"],
  ])('%j: exit 2 naming the flag', (args, message) => {
    const result = lab(...args);
    expect(result.stderr).toContain(message);
    expect(result.status).toBe(2);
  });
});
