import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A directory built aside and then swapped in whole. cdk8s and cdktf never delete
 * stale files, and a synth that fails half-way must not leave a mixed tree, so every
 * output directory is built empty next to its target (same filesystem: rename is atomic)
 * and only replaces it once everything has been written.
 */
export class StagedDirectory {
  /** Where to write; becomes `target` on `commit()`. */
  public readonly path: string;
  private done = false;

  constructor(public readonly target: string) {
    mkdirSync(dirname(target), { recursive: true });
    this.path = mkdtempSync(join(dirname(target), `.${basename(target)}.staging-`));
    // mkdtemp makes the directory private (0700); the output is meant to be read like any build output.
    chmodSync(this.path, 0o755);
  }

  /**
   * Replaces `target` with the staged tree. The old tree is moved aside first and
   * removed only after the new one is in place, so at every instant `target` is
   * either the complete old tree or the complete new one.
   */
  commit(): void {
    const old = `${this.path}.old`;
    const hadOld = existsSync(this.target);
    if (hadOld) renameSync(this.target, old);
    renameSync(this.path, this.target);
    if (hadOld) rmSync(old, { recursive: true, force: true });
    this.done = true;
  }

  /** Removes the staged tree; `target` is left exactly as it was. */
  discard(): void {
    if (!this.done) rmSync(this.path, { recursive: true, force: true });
    this.done = true;
  }
}
