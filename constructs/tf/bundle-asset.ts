import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Bundle, BundleFile, SHARED_DIR } from '../../lib/plan/bundle';

/**
 * The content hash of a bundle's files (its own and the shared sets it uses): md5 over the file
 * contents in byte order of their names, 32 upper-case hex digits, as cdktf's TerraformAsset hashes
 * a directory. Computed from the plan, so nothing is read back from disk. It is the bundle's
 * trigger: it changes exactly when a byte of a file that host gets changes.
 */
export function bundleContentHash(files: readonly BundleFile[]): string {
  // Bundles made of the same file objects (every worker's, when all it gets is shared) hash once.
  const key = files.map(fileId).join(' ');
  const known = hashes.get(key);
  if (known !== undefined) return known;
  const hash = createHash('md5');
  const byName = files.map((file) => ({ file, name: Buffer.from(file.name) })).sort((a, b) => Buffer.compare(a.name, b.name));
  for (const { file } of byName) hash.update(file.content);
  const digest = hash.digest('hex').slice(0, 32).toUpperCase();
  hashes.set(key, digest);
  return digest;
}

/** Content hashes by the ids of the file objects hashed (a file object is never changed). */
const hashes = new Map<string, string>();
const fileIds = new WeakMap<BundleFile, number>();
let nextFileId = 0;

function fileId(file: BundleFile): number {
  let id = fileIds.get(file);
  if (id === undefined) {
    id = nextFileId++;
    fileIds.set(file, id);
  }
  return id;
}

/**
 * Where the files a stack uploads sit, relative to the stack's directory (beside its cdk.tf.json),
 * without a trailing slash: a bundle's own files in `assets/<bundle>/`, each shared set once in
 * `assets/_shared/<set>/`. They play the part of cdktf's directory TerraformAsset, which can only copy
 * a directory that already exists on disk; these are written from the plan in memory. A file carried
 * inline (`BundleFile.inline`) is in neither.
 */
export const assetDirs = {
  own: (bundleId: string) => posix.join('assets', bundleId),
  shared: (set: string) => posix.join('assets', SHARED_DIR, set),
};

/** The path, relative to the stack's directory (where terraform runs a local-exec), of the bundle's file `name`. */
export function localPath(bundle: Bundle, name: string): string {
  const file = bundle.files.find((f) => f.name === name);
  if (!file) throw new Error(`bundle ${bundle.id}: got ${name}, expected a file of the bundle`);
  if (file.inline) throw new Error(`bundle ${bundle.id}: got ${name}, a file carried inline, expected one written where terraform runs`);
  return posix.join(file.shared === undefined ? assetDirs.own(bundle.id) : assetDirs.shared(file.shared), name);
}

/**
 * `text` as a Terraform string that means exactly `text`: a JSON string is a template to Terraform,
 * so `${` and `%{` (an interpolation, a directive) are escaped as `$${` and `%%{`.
 */
export function terraformLiteral(text: string): string {
  return text.replace(/([$%])\{/g, '$1$1{');
}
