import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { BundleFile } from '../../lib/plan/bundle';
import { writePlannedFile } from '../../lib/plan/dist-tree';

/**
 * The hash cdktf's TerraformAsset gives a directory holding these files: md5 over the file
 * contents in byte order of their names, 32 upper-case hex digits. Computed from the plan, so
 * nothing is read back from disk, and equal to what cdktf computed when the files were copied
 * from dist/ (stacks and Terraform state keep the same asset paths and triggers).
 */
export function bundleContentHash(files: readonly BundleFile[]): string {
  const hash = createHash('md5');
  const byName = [...files].sort((a, b) => (Buffer.from(a.name) < Buffer.from(b.name) ? -1 : 1));
  for (const file of byName) hash.update(file.content);
  return hash.digest('hex').slice(0, 32).toUpperCase();
}

export interface BundleAssetProps {
  /** The files, as planned; written into the stack's directory when the stack is synthesized. */
  readonly files: readonly BundleFile[];
}

/**
 * A bundle's files inside a stack's output directory (`assets/<id>/<hash>/`), written from
 * the plan in memory. It plays the part of cdktf's directory TerraformAsset, which can only
 * copy a directory that already exists on disk.
 */
export class BundleAsset extends Construct {
  /** Content hash of the files: changes exactly when a file's bytes change. */
  public readonly assetHash: string;
  /** Directory of the files relative to the stack directory, without a trailing slash. */
  public readonly path: string;
  private readonly files: readonly BundleFile[];

  constructor(scope: Construct, id: string, props: BundleAssetProps) {
    super(scope, id);
    this.files = props.files;
    this.assetHash = bundleContentHash(props.files);
    this.path = posix.join('assets', TerraformStack.of(this).getLogicalId(this.node), this.assetHash);
  }

  /** Writes the files under `stackDir` (the directory holding the stack's cdk.tf.json). */
  public writeInto(stackDir: string): void {
    for (const file of this.files) writePlannedFile(join(stackDir, this.path, file.name), file);
  }
}
