/**
 * A host removed from the topology, as synth sees it: it compares the topology with the one its
 * previous synth into the same cdktf.out recorded (topology.json). A removed worker becomes removed
 * blocks in the k8s stack carrying the teardown its resources had; any other removed host is
 * warned about (the next apply forgets it, untorn). The real terraform runs these blocks in test/remove-worker.property.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { siteTopology } from '../ops/site';
import { SYNTH_PROGRAM } from './synth-program';
import { scratchDir } from './support/scratch';

type Obj = Record<string, any>;

const workers = (...names: string[]) => `workers:\n${names.map((n, i) => `  - {name: ${n}, address: 192.168.10.${20 + i}}\n`).join('')}`;

/** A directory of its own for one site's synths. */
function site(): { synth: (config: string) => { status: number | null; stderr: string }; stack: () => Obj; recorded: () => Obj; dir: string } {
  const dir = scratchDir('k8s-ha-edge-removed-workers-');
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    synth(config) {
      writeFileSync(join(dir, 'site.yaml'), config);
      const run = spawnSync(SYNTH_PROGRAM[0], [...SYNTH_PROGRAM.slice(1), '--config', 'site.yaml', '--only', 'tf'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      return { status: run.status, stderr: run.stderr };
    },
    stack: () => JSON.parse(readFileSync(join(dir, 'cdktf.out', 'stacks', 'k8s', 'cdk.tf.json'), 'utf8')) as Obj,
    recorded: () => JSON.parse(readFileSync(join(dir, 'cdktf.out', 'topology.json'), 'utf8')) as Obj,
  };
}

describe('GIVEN a site synthesized with workers node01 and node02', () => {
  test('WHEN node02 is removed and synthesized THEN each of its teardown resources becomes a removed block with the destroy-time steps that resource had, and the stack needs terraform 1.9', () => {
    const s = site();
    expect(s.synth(workers('node01', 'node02')).status).toBe(0);
    const before = s.stack();
    expect(before.removed).toBeUndefined();
    expect(before.terraform.required_version).toBe('>= 1.4');
    expect(s.synth(workers('node01')).status).toBe(0);
    const after = s.stack();
    expect(after.terraform.required_version).toBe('>= 1.9');
    const teardowns = ['node02-teardown', 'node02-page-teardown'];
    expect(after.removed).toEqual(teardowns.map((id) => ({ from: `null_resource.${id}`, lifecycle: { destroy: true }, provisioner: before.resource.null_resource[id].provisioner })));
    // The drain comes first, on the control plane; then the worker's own reset.
    const [drain, reset] = after.removed[0].provisioner as Obj[];
    expect(drain['remote-exec'].connection.host).toBe('192.168.10.10');
    expect(drain['remote-exec'].inline[0]).toContain('remove-worker.sh node02');
    expect(reset['remote-exec'].inline[0]).toContain('node02/teardown-node.sh');
    // None of node02's resources is left in the configuration; node01's are all there.
    expect(Object.keys(after.resource.null_resource).filter((id) => id.includes('node02'))).toEqual([]);
    expect(Object.keys(after.resource.null_resource)).toEqual(expect.arrayContaining(['node01', 'node01-teardown', 'node01-page-teardown']));
    // Recorded for the next synth: the worker and its blocks, no secret (the key is a path in state).
    expect(s.recorded().format).toBe(2);
    expect(s.recorded().removedWorkers).toEqual([{ name: 'node02', removed: after.removed }]);
  });

  test('WHEN a change other than a removal is synthesized THEN the stack has no removed block', () => {
    const s = site();
    expect(s.synth(workers('node01', 'node02')).status).toBe(0);
    expect(s.synth(`${workers('node01', 'node02')}workload:\n  nodePort: 30123\n`).status).toBe(0);
    expect(s.stack().removed).toBeUndefined();
    expect(s.recorded().removedWorkers).toEqual([]);
  });

  test('WHEN the previous output was recorded in format 1 (before removed workers were) THEN a removal is still found', () => {
    const s = site();
    expect(s.synth(workers('node01', 'node02')).status).toBe(0);
    const { removedWorkers: _r, ...old } = s.recorded();
    writeFileSync(join(s.dir, 'cdktf.out', 'topology.json'), JSON.stringify({ ...old, format: 1 }));
    expect(s.synth(workers('node01')).status).toBe(0);
    expect((s.stack().removed as Obj[]).map((r) => r.from)).toEqual(['null_resource.node02-teardown', 'null_resource.node02-page-teardown']);
  });
});

describe('GIVEN a site synthesized WHEN a host other than a worker is gone from the topology', () => {
  test.each([
    ['a load balancer', 'loadBalancer:\n  hosts:\n    - {name: lb01, address: 192.168.10.40, priority: 110}\n', /warning: loadBalancer\.hosts: "lb02" is in the site .*topology\.json records but not in this topology: the next apply forgets it without tearing it down .*docs\/runbook\.md/],
    ['the control plane renamed', 'controlPlane:\n  name: cp\n', /warning: controlPlane\.name: "master" is in the site .*topology\.json records but not in this topology/],
    // The documented move of a running single-gateway site to a pair drops the host "gateway" on purpose.
    ['the single gateway, for a pair', readFileSync(join(__dirname, '..', 'examples', 'gateway-pair.yaml'), 'utf8'), /warning: gateway\.hosts: "gateway" is in the site .*topology\.json records but not in this topology/],
  ])('THEN synth warns of %s (the next apply forgets it, untorn), writes no removed block for it, and goes on', (_what, config, message) => {
    const s = site();
    expect(s.synth('').status).toBe(0);
    const run = s.synth(config);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(message);
    expect(s.stack().removed).toBeUndefined();
    expect(s.recorded().removedWorkers).toEqual([]);
  });
});

describe('GIVEN a site with a gateway pair synthesized (its record holds the resolved config, the one gateway\'s defaults included)', () => {
  const pair = readFileSync(join(__dirname, '..', 'examples', 'gateway-pair.yaml'), 'utf8');

  test('WHEN it is synthesized again with a change THEN the record loads: no refusal, no warning, no removed block', () => {
    const s = site();
    expect(s.synth(pair).status).toBe(0);
    const again = s.synth(`${pair}\nworkload:\n  nodePort: 30123\n`);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(s.stack().removed).toBeUndefined();
  });

  test('WHEN verify or drain read the site from the record (no --config) THEN it is the pair', () => {
    const s = site();
    expect(s.synth(pair).status).toBe(0);
    const t = siteTopology({ cdktfOut: join(s.dir, 'cdktf.out') });
    expect(t.gateway.hosts.map((h) => h.name)).toEqual(['gw01', 'gw02']);
    expect(t.gateway.pair?.master.name).toBe('gw01');
  });
});
