import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadTopology } from '../lib/topology';
import { CONFIG_SCHEMA } from '../lib/topology/config-schema';
import { leavesOf, SchemaLeaf, valueAt } from '../lib/topology/schema-dsl';

/** Shell-style brace expansion: `a.{b,c}.d` → `a.b.d`, `a.c.d`. */
function expand(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + match[0].length);
  return match[1].split(',').flatMap((option) => expand(`${before}${option}${after}`));
}

/** What a default cell says: a literal in backticks, `required`, or from `path`. */
type Stated = { kind: 'literal'; text: string } | { kind: 'required' } | { kind: 'from'; path: string };

function statedDefaults(cell: string): Stated[] {
  return [...cell.matchAll(/from `([^`]*)`|required|`([^`]*)`/g)].map((m): Stated => {
    if (m[1] !== undefined) return { kind: 'from', path: m[1] };
    if (m[0] === 'required') return { kind: 'required' };
    return { kind: 'literal', text: m[2] };
  });
}

/**
 * The rows of the README's config field table, one per field path: the path cell's patterns
 * brace-expanded, each given its own default, or the one default of the row.
 */
function readmeFields(): Map<string, Stated> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The config file'));
  const lines = section.split('\n');
  const header = lines.findIndex((line) => line.startsWith('| field | default |'));
  const rows = lines.slice(header + 2);
  const fields = new Map<string, Stated>();
  for (const row of rows.slice(0, rows.findIndex((line) => !line.startsWith('|')))) {
    const [pathCell, defaultCell] = row.split(' | ').map((cell) => cell.replace(/^\| /, ''));
    const paths = [...pathCell.matchAll(/`([^`]+)`/g)].flatMap((m) => expand(m[1]));
    const defaults = statedDefaults(defaultCell);
    if (defaults.length !== 1 && defaults.length !== paths.length) {
      throw new Error(`README row ${pathCell}: ${paths.length} fields but ${defaults.length} defaults`);
    }
    paths.forEach((path, i) => {
      if (fields.has(path)) throw new Error(`README names ${path} twice`);
      fields.set(path, defaults.length === 1 ? defaults[0] : defaults[i]);
    });
  }
  return fields;
}

/** Whether what the README states is the schema's default for `leaf`. */
function agrees(leaf: SchemaLeaf, stated: Stated): boolean {
  const { node } = leaf;
  if (node.kind === 'list') return stated.kind === 'literal' && JSON.stringify(parseYaml(stated.text)) === JSON.stringify(node.default);
  const dflt = node.default;
  switch (dflt.kind) {
    case 'required':
      return stated.kind === 'required';
    case 'inherit':
      // "from `hostDefaults`" stands for hostDefaults.<the same field>.
      return stated.kind === 'from' && [stated.path, `${stated.path}.${leaf.path.split('.').pop()}`].includes(dflt.from);
    case 'template':
      return stated.kind === 'literal' && stated.text === dflt.template;
    case 'value':
      return stated.kind === 'literal' && stated.text === String(dflt.value);
  }
}

describe('the README config table', () => {
  const leaves = leavesOf(CONFIG_SCHEMA);
  const fields = readmeFields();

  test('names every schema field with its default', () => {
    const wrong = leaves
      .filter((leaf) => {
        const stated = fields.get(leaf.path);
        return stated === undefined || !agrees(leaf, stated);
      })
      .map((leaf) => `${leaf.path}: README says ${JSON.stringify(fields.get(leaf.path) ?? 'nothing')}, schema default ${JSON.stringify(leaf.node.default)}`);
    expect(wrong).toEqual([]);
  });

  test('names no field the schema lacks', () => {
    const known = new Set(leaves.map((leaf) => leaf.path));
    expect([...fields.keys()].filter((path) => !known.has(path))).toEqual([]);
  });

  test('is read as one entry per field (the check sees the whole table)', () => {
    expect(fields.size).toBe(leaves.length);
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
    const others = [...t.workers, ...t.loadBalancer.hosts, t.gateway, t.client];
    expect(others.map((h) => h.sudoPrefix)).toEqual(others.map(() => 'sudo -n '));
  });
});
