import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { BundleFile, SHARED_DIR } from '../../lib/plan/bundle';

/**
 * The content hash of a bundle's files (its own and the shared sets it uses): md5 over the file
 * contents in byte order of their names, 32 upper-case hex digits, as cdktf's TerraformAsset hashes
 * a directory. Computed from the plan, so nothing is read back from disk. It is the bundle's
 * trigger: it changes exactly when a byte of a file that host gets changes.
 */
export function bundleContentHash(files: readonly BundleFile[]): string {
  const hash = createHash('md5');
  const byName = files.map((file) => ({ file, name: Buffer.from(file.name) })).sort((a, b) => Buffer.compare(a.name, b.name));
  for (const { file } of byName) hash.update(file.content);
  return hash.digest('hex').slice(0, 32).toUpperCase();
}

/**
 * Where the files a stack uploads sit, relative to the stack's directory (beside its cdk.tf.json),
 * without a trailing slash: a bundle's own files in `assets/<bundle>/`, each shared set once in
 * `assets/_shared/<set>/`. They play the part of cdktf's directory TerraformAsset, which can only copy
 * a directory that already exists on disk; these are written from the plan in memory.
 */
export const assetDirs = {
  own: (bundleId: string) => posix.join('assets', bundleId),
  shared: (set: string) => posix.join('assets', SHARED_DIR, set),
};
