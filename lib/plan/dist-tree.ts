import { posix } from 'node:path';
import { FileWriter } from '../kernel/files';
import { BundleFile, bundleDir, bundleParts, SHARED_DIR } from './bundle';
import { SynthPlan } from './synth-plan';

/** The mode a planned file gets: the umask of whoever synthesizes must not change what a host gets. */
export function fileMode(file: Pick<BundleFile, 'executable'>): number {
  return file.executable ? 0o755 : 0o644;
}

/**
 * The file of dist/ that shows the files the stacks carry inline in their bundles' resources (a
 * worker's page), all of them in one JSON object, `{ "<bundle>/<name>": content }`, in plan order:
 * one file however many workers there are, where a directory and a file each would cost the most
 * of a large synth. Beginning with `_`, it is never a bundle's directory (a DNS label).
 */
export const INLINE_FILES = '_inline.json';

/**
 * Writes the review tree and returns its files (relative to `dir`): the manifests at the top, every
 * bundle's own files under <bundle>/ (as on its host and in its stack's assets/), those its resource
 * carries inline together in INLINE_FILES, and each shared set once under _shared/<set>/: byte for
 * byte what the stacks ship to the hosts (a host gets its bundles' own files and the shared sets they use).
 */
export function writeDistTree(plan: SynthPlan, dir: string): string[] {
  const writer = new FileWriter(dir);
  for (const manifest of plan.manifests) writer.write(manifest.name, manifest.content, 0o644);
  for (const { set, files } of plan.shared) {
    for (const file of files) writer.write(posix.join(SHARED_DIR, set, file.name), file.content, fileMode(file));
  }
  const inline: Record<string, string> = {};
  let inlined = false;
  for (const bundle of plan.bundles) {
    for (const file of bundleParts(bundle).own) {
      const path = posix.join(bundleDir(bundle), file.name);
      if (!file.inline) writer.write(path, file.content, fileMode(file));
      else {
        inline[path] = file.content;
        inlined = true;
      }
    }
  }
  if (inlined) writer.write(INLINE_FILES, `${JSON.stringify(inline, null, 2)}\n`, 0o644);
  return writer.written;
}
