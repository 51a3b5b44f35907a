import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { hostResources } from '../constructs/tf/host-provisioner';
import { Bundle } from '../lib/plan/bundle';
import { loadTopology, ProvisionerResource, SUPPORTED_KUBERNETES_MINORS, TopologyError } from '../lib/topology';
import { CONFIG_SCHEMA } from '../lib/topology/config-schema';
import { defaultsOf, leavesOf, Node, SchemaLeaf } from '../lib/topology/schema-dsl';
import { HAS_SSH_KEYGEN, hostKeyLine } from './host-keys';
import { GATEWAY_PAIR_CONFIG, renderFixture } from './render-fixture';
import { parse as parseYaml } from 'yaml';

/**
 * The property: a change of any one config field on an applied site plans no teardown, unless a
 * host is removed (or renamed: its resources get other ids) or its address changes; then exactly
 * that host's teardown resources are replaced or destroyed. Asked of real terraform's plan against
 * real state: the site is applied once (provisioners left out, they run nothing at plan time), its
 * state copied under one prefix per case, and every case planned in one `terraform plan`.
 *
 * terraform_data is planned as synth writes it. null_resource cannot be planned here (its provider
 * comes from a registry), so its resources are planned as terraform_data whose triggers_replace is
 * the same map (`tomap`): terraform_data replaces on any change of it as null_resource does on any
 * change of its triggers, and which changes count is decided by terraform itself, from the same
 * lifecycle.ignore_changes (the ignored keys point into triggers_replace instead of triggers).
 *
 * Slower than a jest suite should be (a hundred cases, thousands of resources in one plan): run by
 * `npm run test:teardown` (and .ci/run), not by `npm test`.
 */

const TERRAFORM = process.env.TERRAFORM ?? 'terraform';
const KEY_PATH = '/nonexistent/key';
type Json = unknown;
type Obj = Record<string, any>;

/** The default config as a plain value, with the default lists: what a change is made against. */
const DEFAULTS = defaultsOf(CONFIG_SCHEMA) as Obj;

/** The gateway section of examples/gateway-pair.yaml: a pair in place of the one gateway. */
const GATEWAY_PAIR = (parseYaml(readFileSync(GATEWAY_PAIR_CONFIG, 'utf8')) as Obj).gateway as Obj;

/** Fresh keys for the host key changes (one per host that gets one). */
const KEYS = HAS_SSH_KEYGEN ? Array.from({ length: 8 }, (_, i) => hostKeyLine(`host${i}`)) : [];

/** A partial config that sets `path` (dotted, `workers[]` = its first item) to `value`; `above`: the path it is below. */
function setAt(path: string, value: Json, above = ''): Obj {
  const [head, ...rest] = path.split('.');
  if (head.endsWith('[]')) {
    const list = head.slice(0, -2);
    const items = structuredClone(valueOf(above === '' ? list : `${above}.${list}`)) as Obj[];
    // A list item's fields are flat: the rest of the path is one field.
    items[0] = rest.length === 0 ? (value as Obj) : { ...items[0], [rest.join('.')]: value };
    return { [list]: items };
  }
  if (rest.length === 0) return { [head]: value };
  return { [head]: setAt(rest.join('.'), value, above === '' ? head : `${above}.${head}`) };
}

function valueOf(path: string): Json {
  return path.split('.').reduce<any>((node, key) => node?.[key], DEFAULTS);
}

/** Where a leaf's current value is in the resolved default topology (first item of a list). */
function currentOf(path: string): Json {
  const resolved = loadTopology() as unknown as Obj;
  return path.replace(/\[\]/g, '.0').split('.').reduce<any>((node, key) => node?.[key], resolved);
}

/**
 * Changes that need more than the field itself to stay valid (a network with the addresses in it,
 * a VRRP version with an interval it can carry, …), or a value of a kind a generic change cannot
 * guess. Every other field is changed by its type: a boolean flipped, an enum's other value, an
 * integer moved, a name or user lengthened.
 */
const GIVEN: Readonly<Record<string, () => Obj>> = {
  'networks.internal': () => ({
    networks: { internal: '192.168.20.0/24' },
    controlPlane: { address: '192.168.20.10' },
    workers: [{ name: 'node01', address: '192.168.20.20' }, { name: 'node02', address: '192.168.20.30' }],
    loadBalancer: { vip: '192.168.20.100', hosts: [{ name: 'lb01', address: '192.168.20.40', priority: 100 }, { name: 'lb02', address: '192.168.20.50', priority: 90 }] },
    gateway: { inside: { address: '192.168.20.1' } },
  }),
  'networks.external': () => ({ networks: { external: '12.0.1.0/24' }, gateway: { outside: { address: '12.0.1.1' } }, client: { address: '12.0.1.12' } }),
  'controlPlane.address': () => ({ controlPlane: { address: '192.168.10.11' } }),
  'workers[].address': () => setAt('workers[].address', '192.168.10.21'),
  'workers[].page': () => setAt('workers[].page', 'another page'),
  'loadBalancer.vip': () => ({ loadBalancer: { vip: '192.168.10.101' } }),
  'loadBalancer.hosts[].address': () => setAt('loadBalancer.hosts[].address', '192.168.10.41'),
  'loadBalancer.vrrp.version': () => ({ loadBalancer: { vrrp: { version: 2, advertIntervalMs: 1000 } } }),
  'loadBalancer.healthCheck.weight': () => ({ loadBalancer: { healthCheck: { weight: -11 } } }),
  'gateway.inside.address': () => ({ gateway: { inside: { address: '192.168.10.2' } } }),
  'gateway.outside.address': () => ({ gateway: { outside: { address: '12.0.0.2' } } }),
  'client.address': () => ({ client: { address: '12.0.0.13' } }),
  'kubernetes.version': () => ({ kubernetes: { version: `1.${SUPPORTED_KUBERNETES_MINORS.find((m) => `1.${m}` !== DEFAULTS.kubernetes.version)}` } }),
  'kubernetes.podCidr': () => ({ kubernetes: { podCidr: '10.245.0.0/16' } }),
  'kubernetes.serviceCidr': () => ({ kubernetes: { serviceCidr: '10.112.0.0/12' } }),
  'kubernetes.flannelVersion': () => ({ kubernetes: { flannelVersion: 'v0.28.8', flannelManifestSource: 'download', flannelManifestSha256: 'a'.repeat(64) } }),
  'kubernetes.flannelManifestSource': () => ({ kubernetes: { flannelManifestSource: 'download', flannelManifestSha256: 'b'.repeat(64) } }),
  'kubernetes.flannelManifestSha256': () => ({ kubernetes: { flannelManifestSource: 'download', flannelManifestSha256: 'c'.repeat(64) } }),
  'kubernetes.controlPlaneEndpoint': () => ({ kubernetes: { controlPlaneEndpoint: 'api.cluster.example' } }),
  'kubernetes.joinTokenTtl': () => ({ kubernetes: { joinTokenTtl: '30m' } }),
  'workload.image': () => ({ workload: { image: 'nginx:1.30.2' } }),
  'workload.hostPath': () => ({ workload: { hostPath: '/srv/pages' } }),
  'workload.mountPath': () => ({ workload: { mountPath: '/usr/share/nginx/www' } }),
  'provisioning.backend': () => ({ provisioning: { backend: 'http', httpAddress: 'https://state.example/edge' } }),
  'provisioning.stateDir': () => ({ provisioning: { stateDir: 'other-state' } }),
  'provisioning.httpAddress': () => ({ provisioning: { backend: 'http', httpAddress: 'https://state.example/other' } }),
  // A list changed by one more item: a host added to the site.
  workers: () => ({ workers: [...DEFAULTS.workers, { name: 'node03', address: '192.168.10.60' }] }),
  // The one gateway replaced by a pair (its name goes: the documented teardown of a removed host), and each
  // field of a pair's host or VRRP settings changed in that pair.
  'gateway.hosts': () => ({ gateway: GATEWAY_PAIR }),
  ...Object.fromEntries(([
    ['name', 'gw09'], ['osFamily', 'rhel'], ['sshUser', 'admin'], ['hostKey', KEYS[0] ?? ''], ['priority', 110],
    ['insideAddress', '192.168.10.4'], ['outsideAddress', '12.0.0.4'],
  ] as const).map(([field, value]) => [`gateway.hosts[].${field}`, () => ({
    gateway: { ...GATEWAY_PAIR, hosts: [{ ...GATEWAY_PAIR.hosts[0], [field]: value }, GATEWAY_PAIR.hosts[1]] },
  })])),
  'gateway.vrrp.routerId': () => ({ gateway: { ...GATEWAY_PAIR, vrrp: { ...GATEWAY_PAIR.vrrp, routerId: 62 } } }),
  'gateway.vrrp.advertIntervalMs': () => ({ gateway: { ...GATEWAY_PAIR, vrrp: { ...GATEWAY_PAIR.vrrp, advertIntervalMs: 200 } } }),
  'gateway.vrrp.preemptDelaySeconds': () => ({ gateway: { ...GATEWAY_PAIR, vrrp: { ...GATEWAY_PAIR.vrrp, preemptDelaySeconds: 7 } } }),
  'loadBalancer.hosts': () => ({ loadBalancer: { hosts: [...DEFAULTS.loadBalancer.hosts, { name: 'lb03', address: '192.168.10.70', priority: 80 }] } }),
  // NTP servers given where the default names none: the nodes' preparation changes, no host goes.
  'timeSync.servers': () => ({ timeSync: { servers: [{ address: 'ntp.example.internal' }] } }),
  'timeSync.servers[].address': () => ({ timeSync: { servers: [{ address: '192.168.10.2' }] } }),
  'kubernetes.etcdBackup.schedule': () => ({ kubernetes: { etcdBackup: { schedule: 'hourly' } } }),
};

/** Candidates for a field's new value from its type alone. */
function byType(leaf: SchemaLeaf): Obj[] {
  const node = leaf.node as Node;
  const now = currentOf(leaf.path);
  const name = leaf.path.split('.').pop() ?? '';
  const values: Json[] = [];
  if (node.kind === 'boolean') values.push(!now);
  if (node.kind === 'enum') values.push(...node.values.filter((v) => v !== now));
  if (node.kind === 'integer') values.push(...[1, -1, 10, -10, 100, 1000].map((d) => (now as number) + d));
  if (node.kind === 'string') {
    if (name === 'hostKey') values.push(KEYS[0]);
    if (name === 'sshUser') values.push('admin');
    if (name === 'interface') values.push('eth1');
    if (name === 'name') values.push(`${String(now)}x`);
    if (name === 'namespace' || name === 'appLabel') values.push(`${String(now)}-2`);
  }
  return values.map((v) => setAt(leaf.path, v));
}

/** Whether `overrides` make a valid config; undefined when they do not. */
function loads(overrides: Obj): boolean {
  try {
    loadTopology({ overrides });
    return true;
  } catch (error) {
    if (error instanceof TopologyError) return false;
    throw error;
  }
}

interface Case {
  readonly name: string;
  readonly overrides: Obj;
  /** The state it is planned against: the site applied by this code, or by the code before the teardown fix. */
  readonly prior: 'current' | 'previous';
}

/** One case per field of the schema: a valid changed value of it (or the fields it cannot go without). */
function fieldCases(): { cases: Case[]; unchangeable: string[]; missing: string[] } {
  const cases: Case[] = [];
  const unchangeable: string[] = [];
  const missing: string[] = [];
  for (const leaf of leavesOf(CONFIG_SCHEMA)) {
    // A single-valued enum (cni: flannel, containerRuntime: containerd) has no other valid value.
    if (leaf.node.kind === 'enum' && leaf.node.values.length === 1) {
      unchangeable.push(leaf.path);
      continue;
    }
    const candidates = [...(GIVEN[leaf.path] ? [GIVEN[leaf.path]()] : []), ...byType(leaf)];
    const valid = candidates.find(loads);
    if (valid === undefined) missing.push(leaf.path);
    else cases.push({ name: leaf.path, overrides: valid, prior: 'current' });
  }
  return { cases, unchangeable, missing };
}

/** Every host of the default site with its host key (the runbook's procedure) and, in one, another user. */
function everyHostKey(): Obj {
  const key = (i: number) => KEYS[i];
  return {
    controlPlane: { hostKey: key(0) },
    workers: DEFAULTS.workers.map((w: Obj, i: number) => ({ ...w, hostKey: key(1 + i) })),
    loadBalancer: { hosts: DEFAULTS.loadBalancer.hosts.map((h: Obj, i: number) => ({ ...h, hostKey: key(3 + i) })) },
    gateway: { hostKey: key(5) },
    client: { hostKey: key(6) },
  };
}

/** Each config's planned bundles, computed once for both resource kinds (the bundles do not depend on it). */
const planned = new Map<Obj, readonly Bundle[]>();

/** The bundles' resources of a config, as synth writes them, with what plans nothing left out. */
function siteResources(overrides: Obj, resource: ProvisionerResource): { bundles: readonly Bundle[]; resources: Obj } {
  const bundles = planned.get(overrides) ?? renderFixture({ overrides }).bundles;
  planned.set(overrides, bundles);
  const resources: Obj = {};
  for (const bundle of bundles) {
    for (const [id, body] of Object.entries(hostResources({ stack: bundle.stack, bundle, resource, sshKeyVariable: SSH_KEY_VARIABLE, dependsOn: bundle.dependsOn }))) {
      // Provisioners run nothing at plan time; metadata is a comment.
      const { provisioner: _p, connection: _c, '//': _m, ...kept } = body;
      resources[id] = kept;
    }
  }
  return { bundles, resources };
}

/** An HCL string literal. */
const hcl = (text: string) => JSON.stringify(text);

/**
 * Resources of `type` as terraform plans them here, each id prefixed: terraform_data as it is;
 * null_resource as terraform_data with its triggers as a map in triggers_replace (see above).
 */
function asPlanned(resources: Obj, type: string, prefix: string): Obj {
  const out: Obj = {};
  const rename = (ref: string) => ref.replace(`${type}.`, `terraform_data.${prefix}`);
  for (const [id, body] of Object.entries(resources)) {
    const r: Obj = { ...body };
    if (r.depends_on) r.depends_on = r.depends_on.map(rename);
    if (r.lifecycle) {
      r.lifecycle = { ...r.lifecycle };
      if (r.lifecycle.replace_triggered_by) r.lifecycle.replace_triggered_by = r.lifecycle.replace_triggered_by.map(rename);
      if (r.lifecycle.ignore_changes) r.lifecycle.ignore_changes = r.lifecycle.ignore_changes.map((p: string) => p.replace(/^triggers\[/, 'triggers_replace['));
    }
    if (type === ProvisionerResource.NULL_RESOURCE) {
      const entries = Object.entries(r.triggers as Record<string, string>).map(([k, v]) => `${hcl(k)} = ${v.startsWith('${') ? v.slice(2, -1) : hcl(v)}`);
      delete r.triggers;
      r.triggers_replace = `\${tomap({${entries.join(', ')}})}`;
    }
    out[`${prefix}${id}`] = r;
  }
  return out;
}

function config(resources: Obj): string {
  return JSON.stringify({ variable: { [SSH_KEY_VARIABLE]: { type: 'string' } }, resource: { terraform_data: resources } });
}

function run(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(TERRAFORM, [...args, '-no-color'], { cwd, env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`terraform ${args[0]} exited ${code}: ${err}${out.slice(-2000)}`))));
  });
}

/** Applies `resources` in a fresh directory and returns the state terraform wrote. */
async function applied(root: string, name: string, resources: Obj): Promise<Obj> {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'main.tf.json'), config(resources));
  await run(['apply', '-auto-approve', '-input=false', '-var', `${SSH_KEY_VARIABLE}=${KEY_PATH}`], dir);
  return JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8'));
}

/** The resources of `state` under `prefix`, their recorded dependencies renamed with them. */
function prefixed(state: Obj, prefix: string): Obj[] {
  return state.resources.map((r: Obj) => ({
    ...r,
    name: `${prefix}${r.name}`,
    instances: r.instances.map((i: Obj) => ({ ...i, dependencies: (i.dependencies ?? []).map((d: string) => d.replace('terraform_data.', `terraform_data.${prefix}`)) })),
  }));
}

/** The bundles' host address by bundle id. */
const addressOf = (bundles: readonly Bundle[]) => new Map(bundles.map((b) => [b.id, b.target.address]));

/** The teardown resource ids whose host is gone or another machine: the only ones a change may destroy. */
function expectedTeardowns(before: readonly Bundle[], after: readonly Bundle[]): string[] {
  const now = addressOf(after);
  return before.filter((b) => now.get(b.id) !== b.target.address).map((b) => `${b.id}-teardown`).sort();
}

/** The state the code before the teardown fix wrote for the default site (its resources' stored values). */
const PREVIOUS = JSON.parse(readFileSync(join(__dirname, 'support', 'teardown-previous-resources.json'), 'utf8')) as Record<string, Obj>;

const HAS_TERRAFORM = (() => {
  try {
    return require('node:child_process').spawnSync(TERRAFORM, ['version']).status === 0;
  } catch {
    return false;
  }
})();

describe('GIVEN an applied site WHEN any one field of the config changes THEN terraform plans no teardown but for a removed host or a changed address', () => {
  const { cases: fields, unchangeable, missing } = fieldCases();

  test('every field of the schema gets a valid changed value (a new field needs one here, or a type this test can change)', () => {
    expect(missing).toEqual([]);
    expect(unchangeable).toEqual(['kubernetes.cni', 'kubernetes.containerRuntime']);
    expect(fields.length).toBe(leavesOf(CONFIG_SCHEMA).length - unchangeable.length);
  });

  const routine: Case[] = [
    ...fields,
    // The runbook's procedure: a host key for every host of a running site.
    { name: 'hostKey of every host', overrides: everyHostKey(), prior: 'current' },
    // The first apply after upgrading: a site applied by the code before the teardown fix, planned unchanged…
    { name: 'upgrade: the same config', overrides: {}, prior: 'previous' },
    // …and with every host key added and another SSH user in the same apply.
    { name: 'upgrade: hostKey of every host and another user', overrides: { ...everyHostKey(), hostDefaults: { sshUser: 'admin' } }, prior: 'previous' },
    // A worker removed: its teardown runs (the one thing that should).
    { name: 'a worker removed', overrides: { workers: [DEFAULTS.workers[0]] }, prior: 'current' },
  ];

  for (const resource of [ProvisionerResource.TERRAFORM_DATA, ProvisionerResource.NULL_RESOURCE]) {
    (HAS_TERRAFORM && HAS_SSH_KEYGEN ? test : test.skip)(`${resource}: the planned teardowns are exactly those of removed hosts and changed addresses`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-teardown-'));
      try {
        const base = siteResources({}, resource);
        const current = await applied(root, 'current', asPlanned(base.resources, resource, ''));
        const previous = await applied(root, 'previous', asPlanned(PREVIOUS[resource], resource, ''));
        // provisioning.resource itself moves every resource to another type: see its own test below.
        const cases = routine.filter((c) => c.name !== 'provisioning.resource');
        const dir = join(root, 'plan');
        mkdirSync(dir);
        const resources: Obj = {};
        const stateResources: Obj[] = [];
        const expected: Record<string, string[]> = {};
        cases.forEach((c, i) => {
          const prefix = `c${i}--`;
          const site = siteResources(c.overrides, resource);
          Object.assign(resources, asPlanned(site.resources, resource, prefix));
          stateResources.push(...prefixed(c.prior === 'current' ? current : previous, prefix));
          expected[c.name] = expectedTeardowns(base.bundles, site.bundles);
        });
        writeFileSync(join(dir, 'main.tf.json'), config(resources));
        writeFileSync(join(dir, 'terraform.tfstate'), JSON.stringify({ ...current, serial: current.serial + 1, resources: stateResources }));
        await run(['plan', '-refresh=false', '-input=false', '-lock=false', '-out=plan.bin', '-var', `${SSH_KEY_VARIABLE}=${KEY_PATH}`], dir);
        const plan = JSON.parse(await run(['show', '-json', 'plan.bin'], dir));
        const destroyed: Record<string, string[]> = Object.fromEntries(cases.map((c) => [c.name, [] as string[]]));
        for (const change of plan.resource_changes as Obj[]) {
          const [, i, id] = /^c(\d+)--(.*)$/.exec(change.name) ?? [];
          if (change.change.actions.includes('delete') && id.endsWith('-teardown')) destroyed[cases[Number(i)].name].push(id);
        }
        for (const c of cases) destroyed[c.name].sort();
        expect(destroyed).toEqual(expected);
        // The property is not vacuous: an address change and a removal do tear down, and only those hosts.
        expect(expected['workers[].address']).toEqual(['node01-page-teardown', 'node01-teardown']);
        expect(expected['a worker removed']).toEqual(['node02-page-teardown', 'node02-teardown']);
        expect(expected['hostKey of every host']).toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  test('provisioning.resource: a change moves every resource to another type, so terraform would destroy (and tear down) every host: the documented exception', () => {
    const before = siteResources({}, ProvisionerResource.NULL_RESOURCE).resources;
    const after = siteResources({}, ProvisionerResource.TERRAFORM_DATA).resources;
    // The same ids under another type: terraform sees every null_resource removed.
    expect(Object.keys(after).filter((id) => id.endsWith('-teardown')).sort()).toEqual(Object.keys(before).filter((id) => id.endsWith('-teardown')).sort());
  });
});
