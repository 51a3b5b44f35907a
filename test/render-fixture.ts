import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlesFor, renderHostFilesInto } from '../constructs/host-files';
import { synthWorkloadManifests } from '../constructs/k8s/workload-app';
import { Bundle } from '../lib/render/bundles';
import { loadTopology, LoadTopologyOptions, Topology } from '../lib/topology';

export const CUSTOM_CONFIG = join(__dirname, '..', 'examples', 'custom-three-workers.yaml');

/** A topology and its rendered dist/ tree in a scratch directory, as synth would write it. */
export function renderFixture(options: LoadTopologyOptions = {}): { topology: Topology; distDir: string; bundles: Bundle[] } {
  const topology = loadTopology(options);
  const distDir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-dist-'));
  synthWorkloadManifests(topology, distDir);
  renderHostFilesInto(topology, distDir);
  return { topology, distDir, bundles: bundlesFor(topology, distDir) };
}

export function fileOf(bundles: readonly Bundle[], bundleId: string, name: string): string {
  const bundle = bundles.find((b) => b.id === bundleId);
  const file = bundle?.files.find((f) => f.name === name);
  if (!file) throw new Error(`no ${name} in bundle ${bundleId}`);
  return file.content;
}
