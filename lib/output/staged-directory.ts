import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A directory built aside and then swapped in whole. cdk8s and cdktf never delete
 * stale files, and a synth that fails half-way must not leave a mixed tree, so every
 * output directory is built empty next to its target (same filesystem, so rename(2) is
 * atomic) and only replaces it once everything has been written.
 *
 * What a reader of `target` can see: at every instant the path names the complete old
 * tree, the complete new tree, or, between the two renames of `commit()` (microseconds),
 * nothing (ENOENT). It never names a partially written tree. The replaced tree is kept whole
 * beside the target as `.<name>.previous` until the next commit, so a reader that is inside it
 * (a shell `cd`-ed into it, a terraform run whose -chdir resolved to it, a listing in progress)
 * keeps reading one complete generation; removing it at once was seen to hand such a reader a
 * half-deleted tree. (`test/synth.test.ts` watches a target from another process across commits.)
 */
export class StagedDirectory {
  /** Where to write; becomes `target` on `commit()`. */
  public readonly path: string;
  private readonly aside: string;
  private state: 'staged' | 'committed' | 'done' = 'staged';
  private hadOld = false;

  constructor(public readonly target: string) {
    mkdirSync(dirname(target), { recursive: true });
    // The pid in the name lets a later synth remove this directory if this process dies before cleaning up.
    this.path = mkdtempSync(join(dirname(target), `.${basename(target)}.staging-${process.pid}-`));
    this.aside = join(dirname(target), `.${basename(target)}.previous`);
    // mkdtemp makes the directory private (0700); the output is meant to be read like any build output.
    chmodSync(this.path, 0o755);
  }

  /** Puts the staged tree at `target`; the old tree moves to `.<name>.previous`, replacing the one before it. */
  commit(): void {
    if (this.state !== 'staged') throw new Error(`${this.target}: commit after ${this.state}`);
    this.hadOld = existsSync(this.target);
    if (this.hadOld) rmSync(this.aside, { recursive: true, force: true });
    if (this.hadOld) renameSync(this.target, this.aside);
    try {
      renameSync(this.path, this.target);
    } catch (error) {
      if (this.hadOld) renameSync(this.aside, this.target);
      throw error;
    }
    this.state = 'committed';
  }

  /** Undoes `commit()`: the old tree is back at `target`, the new one is removed. */
  rollback(): void {
    if (this.state !== 'committed') return;
    renameSync(this.target, this.path);
    if (this.hadOld) renameSync(this.aside, this.target);
    this.state = 'staged';
  }

  /** Ends the swap: a staged tree that was not committed is removed; a committed one stays. */
  release(): void {
    if (this.state === 'staged') rmSync(this.path, { recursive: true, force: true });
    this.state = 'done';
  }
}
