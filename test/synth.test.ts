import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { writeTree } from './trees';
import { OUTPUT_MARKER } from '../lib/output/ownership';
import { OutputTree, synthesize, SynthInterrupted } from '../lib/synth';
import { scratchDir } from './support/scratch';

function scratch(): string {
  return scratchDir('k8s-ha-edge-swap-');
}

/** Every file under `root` with its content: equal snapshots mean identical trees. */
function snapshot(root: string): Record<string, string> {
  return Object.fromEntries(listFiles(root).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

describe('GIVEN a previous synth output WHEN the next synth fails half-way', () => {
  const root = scratch();
  const dist = join(root, 'dist');
  const tf = join(root, 'cdktf.out');
  const marker = { [OUTPUT_MARKER]: 'output of k8s-ha-edge' };
  writeTree(dist, { ...marker, 'workload.k8s.yaml': 'old manifest', 'lb01/lb01/nginx.conf': 'old nginx' });
  writeTree(tf, {
    ...marker,
    'manifest.json': 'old manifest',
    'stacks/lb/cdk.tf.json': 'old stack',
    'stacks/lb/.terraform/terraform.tfstate': 'initialised backend',
    'stacks/lb/.terraform.lock.hcl': 'provider locks',
  });
  const before = { dist: snapshot(dist), tf: snapshot(tf) };

  const failing = (afterFiles: number): OutputTree['write'] => (dir) => {
    for (let i = 0; i < afterFiles; i++) writeTree(dir, { [`part-${i}`]: 'new' });
    throw new Error('synthesizer failed half-way');
  };
  const good: OutputTree['write'] = (dir) => writeTree(dir, { 'workload.k8s.yaml': 'new manifest' });
  const goodStacks: OutputTree['write'] = (dir) => writeTree(dir, { 'manifest.json': 'new', 'stacks/lb/cdk.tf.json': 'new stack' });

  test.each([
    ['the first writer throws after writing 3 files', [failing(3), goodStacks]],
    ['the second writer throws after the first tree was written', [good, failing(2)]],
  ] as const)('THEN %s leaves both trees byte for byte as they were', async (_, [writeDist, writeTf]) => {
    await expect(synthesize([
      { target: dist, flag: '--dist', write: writeDist },
      { target: tf, flag: '--cdktf-out', write: writeTf, keepsTerraformState: true },
    ])).rejects.toThrow('synthesizer failed half-way');
    expect({ dist: snapshot(dist), tf: snapshot(tf) }).toEqual(before);
    // No staging or aside directory is left behind.
    expect(readdirSync(root).sort()).toEqual(['cdktf.out', 'dist']);
  });

  test('THEN an interrupted synth (Ctrl-C) commits nothing either', async () => {
    await expect(synthesize([
      { target: dist, flag: '--dist', write: good },
      { target: tf, flag: '--cdktf-out', write: goodStacks, keepsTerraformState: true },
    ], { interrupted: () => true })).rejects.toThrow(SynthInterrupted);
    expect({ dist: snapshot(dist), tf: snapshot(tf) }).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(['cdktf.out', 'dist']);
  });

  test('THEN a later successful synth replaces both trees and carries .terraform/ over', async () => {
    await synthesize([{ target: dist, flag: '--dist', write: good }, { target: tf, flag: '--cdktf-out', write: goodStacks, keepsTerraformState: true }]);
    const newMarker = { [OUTPUT_MARKER]: expect.stringContaining('output of k8s-ha-edge') };
    expect(snapshot(dist)).toEqual({ ...newMarker, 'workload.k8s.yaml': 'new manifest' });
    expect(snapshot(tf)).toEqual({
      ...newMarker,
      'manifest.json': 'new',
      'stacks/lb/cdk.tf.json': 'new stack',
      'stacks/lb/.terraform/terraform.tfstate': 'initialised backend',
      'stacks/lb/.terraform.lock.hcl': 'provider locks',
    });
    // The replaced trees stay whole beside the new ones until the next synth, for readers inside them.
    expect(readdirSync(root).sort()).toEqual(['.cdktf.out.previous', '.dist.previous', 'cdktf.out', 'dist']);
    expect(snapshot(join(root, '.dist.previous'))).toEqual(before.dist);
  });
});

describe('GIVEN a reader watching the output from another process WHEN synths commit', () => {
  test('THEN it sees a whole old tree, a whole new tree, or no tree, never a partly written one', async () => {
    const root = scratch();
    const target = join(root, 'out');
    // Generation g holds files f0..f(g+2), each containing g: a partial tree would show a mixed set.
    const generation = (g: number): OutputTree['write'] => (dir) => {
      for (let i = 0; i < g + 3; i++) writeFileSync(join(dir, `f${i}`), String(g));
    };
    await synthesize([{ target, flag: '--dist', write: generation(0) }]);
    // The reader lists the directory as fast as it can for a bounded time and reports what it saw.
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      const seen = { whole: 0, absent: 0, bad: [] };
      const end = Date.now() + 4000;
      while (Date.now() < end && seen.whole + seen.absent < 200000) {
        let names;
        try { names = fs.readdirSync(${JSON.stringify(target)}).filter((n) => !n.startsWith('.')); } catch (e) { seen.absent++; continue; }
        const g = names.length - 3;
        const expected = Array.from({ length: g + 3 }, (_, i) => 'f' + i).sort().join();
        if (g < 0 || names.sort().join() !== expected) seen.bad.push(names.join()); else seen.whole++;
      }
      process.stdout.write(JSON.stringify(seen));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    reader.stdout.on('data', (chunk) => { output += chunk; });
    const done = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    for (let g = 1; g <= 20; g++) {
      await synthesize([{ target, flag: '--dist', write: generation(g) }]);
      // Spaced so that a reader between its open and its listing is not two generations behind
      // (the documented guarantee: the replaced tree stays whole until the next commit).
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(await done).toBe(0);
    const seen = JSON.parse(output) as { whole: number; absent: number; bad: string[] };
    expect(seen.bad).toEqual([]);
    expect(seen.whole).toBeGreaterThan(0);
    expect(snapshot(target)).toEqual({ ...Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`f${i}`, '20'])), [OUTPUT_MARKER]: expect.stringContaining('k8s-ha-edge') });
  });
});

describe('GIVEN a tree whose writer waits (for the picture, drawn on another thread)', () => {
  test('WHEN synthesized THEN the trees after it are written while it waits, and every tree is committed', async () => {
    const root = scratch();
    const order: string[] = [];
    let drawn: (files: Record<string, string>) => void = () => undefined;
    const picture = new Promise<Record<string, string>>((resolve) => { drawn = resolve; });
    const result = await synthesize([
      { target: join(root, 'dist'), flag: '--dist', write: async (dir) => {
        order.push('dist started');
        const files = await picture;
        order.push('dist written');
        return writeTree(dir, { 'workload.k8s.yaml': 'manifest', ...files });
      } },
      { target: join(root, 'cdktf.out'), flag: '--cdktf-out', write: (dir) => {
        order.push('stacks written');
        drawn({ 'topology.svg': '<svg/>' });
        return writeTree(dir, { 'manifest.json': 'stacks' });
      } },
    ]);
    expect(order).toEqual(['dist started', 'stacks written', 'dist written']);
    expect(result.written.map((w) => w.files)).toEqual([['topology.svg', 'workload.k8s.yaml'], ['manifest.json']]);
    expect(readFileSync(join(root, 'dist', 'topology.svg'), 'utf8')).toBe('<svg/>');
  });

  test('WHEN its wait fails after the next tree was written THEN nothing is committed', async () => {
    const root = scratch();
    const dist = join(root, 'dist');
    const tf = join(root, 'cdktf.out');
    await expect(synthesize([
      { target: dist, flag: '--dist', write: async () => { throw new Error('Graphviz could not draw the picture'); } },
      { target: tf, flag: '--cdktf-out', write: (dir) => writeTree(dir, { 'manifest.json': 'stacks' }) },
    ])).rejects.toThrow('Graphviz could not draw the picture');
    expect(readdirSync(root)).toEqual([]);
  });
});
