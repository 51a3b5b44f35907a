import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles } from './kernel/files';
import { OutputLock, removeAbandonedStaging } from './output/lock';
import { besideTarget, checkDisjoint, checkReplaceable, checkTargetPath, OUTPUT_MARKER, OutputKind, OutputTargetError, writeOutputMarker } from './output/ownership';
import { StagedDirectory } from './output/staged-directory';

/**
 * What `terraform init` leaves in a stack's directory: the initialised backend and providers, and
 * the provider lock file. Not state (that lives outside the tree, see provisioning.stateDir), but
 * worth keeping: without it every stack needs `init` again, and providers a new download.
 */
const TERRAFORM_WORKING_FILES = ['.terraform', '.terraform.lock.hcl'];

/** Terraform state that an older version of this tool kept inside cdktf.out/stacks/<stack>/. */
const STATE_IN_TREE = ['terraform.tfstate', 'terraform.tfstate.backup', 'terraform.tfstate.d'];

/** One output directory and what fills it. */
export interface OutputTree {
  /** The directory replaced by this synth's output. */
  readonly target: string;
  /** The flag that chose `target`, for messages (e.g. `--dist`). */
  readonly flag: string;
  /**
   * Writes the whole tree into `dir`, an empty directory beside `target`; may return the files it
   * wrote (relative to `dir`), which spares listing a large tree again. @default listed from disk
   * A writer that waits for something (the picture, drawn on another thread) returns a promise:
   * the trees after it are written meanwhile.
   */
  readonly write: (dir: string) => readonly string[] | void | Promise<readonly string[] | void>;
  /**
   * A tree of Terraform stacks: carry `.terraform/` over from the previous tree's stacks, and refuse
   * to replace a tree that still holds Terraform state (that would orphan every host). @default false
   */
  readonly keepsTerraformState?: boolean;
}

export interface SynthOptions {
  /** Asked before anything is committed: true (e.g. after Ctrl-C) discards everything. @default never */
  readonly interrupted?: () => boolean;
}

/** Thrown when `interrupted()` said so: nothing was committed. */
export class SynthInterrupted extends Error {}

export interface SynthResult {
  /** Files written per output directory, relative to it, sorted (synth's own marker left out). */
  readonly written: ReadonlyArray<{ readonly dir: string; readonly files: readonly string[] }>;
}

/** Lets pending signal handlers run: a synchronous writer would otherwise delay them to the very end. */
function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Writes every tree into a staged directory and swaps them in only when every writer
 * succeeded. A failure leaves every target byte for byte as it was: bad targets are refused
 * before anything is written, a writer that throws or an interruption commits nothing, and a
 * commit that fails half-way is rolled back. Concurrent synths into the same directories
 * run one after the other.
 */
export async function synthesize(trees: readonly OutputTree[], options: SynthOptions = {}): Promise<SynthResult> {
  checkDisjoint(trees.map((tree) => ({ flag: tree.flag, path: tree.target })));
  const checkAll = () => {
    for (const tree of trees) {
      checkReplaceable(tree.flag, tree.target, kindOf(tree));
      checkReplaceable(`${tree.flag} (the copy kept from the synth before)`, besideTarget(tree.target, 'previous'), kindOf(tree));
    }
  };
  // Before the lock, which is made beside the target: "." has no "beside" synth could rename it from.
  // (A directory of someone else's files is said first: that is what a user pointing at one must hear.)
  for (const tree of trees) {
    checkReplaceable(tree.flag, tree.target, kindOf(tree));
    checkTargetPath(tree.flag, tree.target);
  }
  const lock = OutputLock.acquire(trees.map((tree) => ({ flag: tree.flag, path: tree.target })));
  try {
    // Only under the lock: a concurrent synth's commit briefly shows a half-removed
    // .previous tree, which a check outside the lock took for someone else's files.
    checkAll();
    for (const tree of trees) if (tree.keepsTerraformState) refuseStateInTree(tree.flag, tree.target);
    for (const tree of trees) removeAbandonedStaging(tree.target);
    return await commitTrees(trees, options);
  } finally {
    lock.release();
  }
}

/** The stacks tree is the one that keeps Terraform's working files; the other holds manifests and per-host files. */
function kindOf(tree: OutputTree): OutputKind {
  return tree.keepsTerraformState ? 'stacks' : 'manifests';
}

async function commitTrees(trees: readonly OutputTree[], options: SynthOptions): Promise<SynthResult> {
  const staged = trees.map((tree) => ({ tree, dir: new StagedDirectory(tree.target) }));
  const moves: Array<{ from: string; to: string }> = [];
  const pending: Array<Promise<readonly string[] | void>> = [];
  const checkInterrupted = async () => {
    await yieldToSignals();
    if (options.interrupted?.()) throw new SynthInterrupted('interrupted before anything was committed');
  };
  try {
    const written: Array<{ dir: string; files: readonly string[] }> = [];
    // Every writer is started before any is waited for, in order: a writer that waits (for the
    // picture) lets the next ones write meanwhile. A rollback waits for every started writer.
    for (const { tree, dir } of staged) {
      const result = tree.write(dir.path);
      pending.push(Promise.resolve(result));
    }
    for (const [i, { tree, dir }] of staged.entries()) {
      const files = await pending[i];
      writeOutputMarker(dir.path, kindOf(tree));
      written.push({ dir: dir.target, files: files ? [...files].sort() : listFiles(dir.path).filter((f) => f !== OUTPUT_MARKER) });
      await checkInterrupted();
    }
    for (const { tree, dir } of staged) {
      if (tree.keepsTerraformState) carryOverTerraformState(dir.target, dir.path, moves);
    }
    await checkInterrupted();
    for (const { dir } of staged) dir.commit();
    return { written };
  } catch (error) {
    // A writer still running would write into a directory being removed.
    await Promise.allSettled(pending);
    for (const { dir } of [...staged].reverse()) dir.rollback();
    // State moved into a staged tree goes back where it was before that tree is removed.
    for (const { from, to } of [...moves].reverse()) renameSync(to, from);
    throw error;
  } finally {
    for (const { dir } of staged) dir.release();
  }
}

/**
 * State inside the generated tree (from before provisioning.stateDir) would be lost by the swap:
 * synth stops and says where to move it, and never moves state itself.
 */
function refuseStateInTree(flag: string, root: string): void {
  const stacks = join(root, 'stacks');
  if (!existsSync(stacks)) return;
  const found = readdirSync(stacks).flatMap((stack) => STATE_IN_TREE.filter((name) => existsSync(join(stacks, stack, name))).map((name) => ({ stack, name })));
  if (found.length === 0) return;
  const moves = found.map(({ stack, name }) => `mv ${join(stacks, stack, name)} state/${name.replace('terraform.tfstate', `${stack}.tfstate`)}`);
  throw new OutputTargetError(`${flag}: got Terraform state inside the generated tree (${found.map((f) => `stacks/${f.stack}/${f.name}`).join(', ')}), `
    + `expected it in provisioning.stateDir; move it there first (${moves.join('; ')}), or the synth would orphan every host`);
}

/**
 * `.terraform/` lives in each stack's directory: it moves into the new tree, so the stacks stay
 * initialised; each move is recorded in `moves` as it happens, so that a failure can undo it.
 */
function carryOverTerraformState(oldRoot: string, newRoot: string, moves: Array<{ from: string; to: string }>): void {
  const oldStacks = join(oldRoot, 'stacks');
  if (!existsSync(oldStacks)) return;
  for (const stack of readdirSync(oldStacks)) {
    for (const name of TERRAFORM_WORKING_FILES) {
      const from = join(oldStacks, stack, name);
      if (!existsSync(from)) continue;
      const to = join(newRoot, 'stacks', stack, name);
      mkdirSync(dirname(to), { recursive: true });
      renameSync(from, to);
      moves.push({ from, to });
    }
  }
}
