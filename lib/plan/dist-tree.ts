import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BundleFile, bundleDir } from './bundle';
import { SynthPlan } from './synth-plan';

/** Writes one file with an explicit mode: the umask of whoever synthesizes must not change what a host gets. */
export function writePlannedFile(path: string, file: Pick<BundleFile, 'content' | 'executable'>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.content);
  chmodSync(path, file.executable ? 0o755 : 0o644);
}

/**
 * Writes the review tree: the manifests at the top, and every bundle's files under
 * <host>/<bundle>/, byte for byte what the stacks ship to that host.
 */
export function writeDistTree(plan: SynthPlan, dir: string): void {
  for (const manifest of plan.manifests) writePlannedFile(join(dir, manifest.name), { content: manifest.content, executable: false });
  for (const bundle of plan.bundles) {
    for (const file of bundle.files) writePlannedFile(join(dir, bundleDir(bundle), file.name), file);
  }
}
