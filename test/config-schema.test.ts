import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadTopology } from '../lib/topology';
import { CONFIG_SCHEMA } from '../lib/topology/config-schema';
import { configReference, withConfigReference } from '../lib/topology/config-reference';
import { leavesOf, valueAt } from '../lib/topology/schema-dsl';

describe('the config reference (docs/configuration.md)', () => {
  const committed = readFileSync(join(__dirname, '..', 'docs', 'configuration.md'), 'utf8');

  test('is what npm run docs prints from the schema (run it after changing a field)', () => {
    expect(withConfigReference(committed)).toBe(committed);
  });

  test('has one row per schema field, each with the schema\'s default', () => {
    const block = configReference();
    const rows = block.split('\n').filter((line) => line.startsWith('| `'));
    const leaves = leavesOf(CONFIG_SCHEMA);
    expect(rows).toHaveLength(leaves.length);
    // Spot checks that the printer reads each kind of default: a value, inherit, a template, required, empty, a list.
    expect(block).toContain('| `listenPort` | integer | `3344` |');
    expect(block).toContain('| `osFamily` | `rhel` or `debian` | from `hostDefaults.osFamily` |');
    expect(block).toContain('| `page` | text | `this is <name>` |');
    expect(block).toContain('| `address` | text | required |');
    expect(block).toContain('| `hostKey` | text | empty |');
    expect(block).toContain('| `workers` | list | `[ { name: node01, address: 192.168.10.20 }, { name: node02, address: 192.168.10.30 } ]` |');
    expect(parseYaml(/`(\[.*\])`/.exec(rows.find((r) => r.startsWith('| `hosts` |'))!)![1])).toEqual(CONFIG_SCHEMA.fields.loadBalancer.fields.hosts.default);
  });

  test('the README sends readers to it instead of carrying its own table', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain('(docs/configuration.md)');
    expect(readme).not.toContain('| field | default | meaning |');
  });
});

describe('the schema', () => {
  test('every inherited default points at a field of the same type with a plain default', () => {
    const leaves = leavesOf(CONFIG_SCHEMA);
    const byPath = new Map(leaves.map((leaf) => [leaf.path, leaf.node]));
    const inherited = leaves.flatMap((leaf) =>
      leaf.node.kind !== 'list' && leaf.node.default.kind === 'inherit' ? [{ leaf, from: leaf.node.default.from }] : []);
    expect(inherited.length).toBeGreaterThan(0);
    for (const { leaf, from } of inherited) {
      const source = byPath.get(from);
      expect(source?.kind).toBe(leaf.node.kind);
      expect(source !== undefined && source.kind !== 'list' ? source.default.kind : undefined).toBe('value');
    }
  });

  test('every field has a one-line doc', () => {
    for (const leaf of leavesOf(CONFIG_SCHEMA)) {
      expect(leaf.node.doc).toMatch(/^[^\n]+$/);
    }
  });

  test('valueAt reads a dotted path', () => {
    expect(valueAt({ a: { b: 1 } }, 'a.b')).toBe(1);
    expect(valueAt({ a: 1 }, 'a.b')).toBeUndefined();
  });
});

describe('the derived facts of the resolved topology', () => {
  test('MASTER is the load balancer with the highest priority, BACKUPs follow by priority', () => {
    const t = loadTopology({
      overrides: {
        loadBalancer: {
          hosts: [
            { name: 'lb01', address: '192.168.10.40', priority: 50 },
            { name: 'lb02', address: '192.168.10.50', priority: 150 },
            { name: 'lb03', address: '192.168.10.60', priority: 100 },
          ],
        },
      },
    });
    expect(t.loadBalancer.master.name).toBe('lb02');
    expect(t.loadBalancer.backups.map((h) => h.name)).toEqual(['lb03', 'lb01']);
    expect(t.loadBalancer.master).toBe(t.loadBalancer.hosts[1]);
  });

  test('the default topology: lb01 MASTER, lb02 BACKUP, a /24 VIP, the service URL on the gateway', () => {
    const t = loadTopology();
    expect(t.loadBalancer.master.name).toBe('lb01');
    expect(t.loadBalancer.backups.map((h) => h.name)).toEqual(['lb02']);
    expect(t.loadBalancer.vipPrefixLength).toBe(24);
    expect(t.serviceUrl).toBe('http://12.0.0.1:3344/');
  });

  test('the VIP prefix follows networks.internal and the URL follows the gateway and the port', () => {
    const t = loadTopology({ configPath: join(__dirname, '..', 'examples', 'custom-three-workers.yaml') });
    expect(t.loadBalancer.vipPrefixLength).toBe(Number(t.networks.internal.split('/')[1]));
    expect(t.serviceUrl).toBe(`http://${t.gateway.outside.address}:${t.loadBalancer.listenPort}/`);
  });

  test('sudoPrefix is empty for root and sudo -n for any other user, on every host', () => {
    const t = loadTopology({ overrides: { hostDefaults: { sshUser: 'ops' }, controlPlane: { sshUser: 'root' } } });
    expect(t.controlPlane.sudoPrefix).toBe('');
    const others = [...t.workers, ...t.loadBalancer.hosts, ...t.gateway.hosts, t.client];
    expect(others.map((h) => h.sudoPrefix)).toEqual(others.map(() => 'sudo -n '));
  });
});
