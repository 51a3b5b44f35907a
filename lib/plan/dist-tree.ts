import { posix } from 'node:path';
import { FileWriter } from '../kernel/files';
import { BundleFile, bundleDir, bundleParts, SHARED_DIR } from './bundle';
import { SynthPlan } from './synth-plan';

/** The mode a planned file gets: the umask of whoever synthesizes must not change what a host gets. */
export function fileMode(file: Pick<BundleFile, 'executable'>): number {
  return file.executable ? 0o755 : 0o644;
}

/**
 * Writes the review tree and returns its files (relative to `dir`): the manifests at the top, every bundle's own files under
 * <host>/<bundle>/, and each shared set once under _shared/<set>/: byte for byte what the
 * stacks ship to the hosts (a host gets its bundle's own files and the shared sets it uses).
 */
export function writeDistTree(plan: SynthPlan, dir: string): string[] {
  const writer = new FileWriter(dir);
  for (const manifest of plan.manifests) writer.write(manifest.name, manifest.content, 0o644);
  for (const { set, files } of plan.shared) {
    for (const file of files) writer.write(posix.join(SHARED_DIR, set, file.name), file.content, fileMode(file));
  }
  for (const bundle of plan.bundles) {
    for (const file of bundleParts(bundle).own) writer.write(posix.join(bundleDir(bundle), file.name), file.content, fileMode(file));
  }
  return writer.written;
}
