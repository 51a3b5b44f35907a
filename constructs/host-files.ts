import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bundle, bundleDir, planBundles } from '../lib/render/bundles';
import { Topology } from '../lib/topology';
import { WORKLOAD_MANIFEST } from './k8s/workload-app';

/** The provisioning plan for a dist/ tree whose workload manifest has been synthesized. */
export function bundlesFor(topology: Topology, distDir: string): Bundle[] {
  const content = readFileSync(join(distDir, WORKLOAD_MANIFEST), 'utf8');
  return planBundles(topology, { name: WORKLOAD_MANIFEST, content });
}

/** Writes every bundle's files to dist/<host>/<bundle>/ for review and for the stacks to ship. */
export function renderHostFilesInto(topology: Topology, distDir: string): void {
  for (const bundle of bundlesFor(topology, distDir)) {
    const dir = join(distDir, bundleDir(bundle));
    mkdirSync(dir, { recursive: true });
    for (const file of bundle.files) {
      const path = join(dir, file.name);
      writeFileSync(path, file.content);
      chmodSync(path, file.executable ? 0o755 : 0o644);
    }
  }
}
