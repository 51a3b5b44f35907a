import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles } from './kernel/files';
import { OutputLock, removeAbandonedStaging } from './output/lock';
import { besideTarget, checkDisjoint, checkReplaceable, OUTPUT_MARKER, writeOutputMarker } from './output/ownership';
import { StagedDirectory } from './output/staged-directory';

/** Files Terraform keeps beside a stack: its state, workspaces' states and initialised providers. */
const TERRAFORM_WORKING_FILES = ['terraform.tfstate', 'terraform.tfstate.backup', 'terraform.tfstate.d', '.terraform', '.terraform.lock.hcl'];

/** One output directory and what fills it. */
export interface OutputTree {
  /** The directory replaced by this synth's output. */
  readonly target: string;
  /** The flag that chose `target`, for messages (e.g. `--dist`). */
  readonly flag: string;
  /** Writes the whole tree into `dir`, an empty directory beside `target`. */
  readonly write: (dir: string) => void;
  /** Carry Terraform's state and working files over from the previous tree's stacks. @default false */
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
      checkReplaceable(tree.flag, tree.target);
      checkReplaceable(`${tree.flag} (the copy kept from the synth before)`, besideTarget(tree.target, 'previous'));
    }
  };
  const lock = OutputLock.acquire(trees.map((tree) => tree.target));
  try {
    // Only under the lock: a concurrent synth's commit briefly shows a half-removed
    // .previous tree, which a check outside the lock took for someone else's files.
    checkAll();
    for (const tree of trees) removeAbandonedStaging(tree.target);
    return await commitTrees(trees, options);
  } finally {
    lock.release();
  }
}

async function commitTrees(trees: readonly OutputTree[], options: SynthOptions): Promise<SynthResult> {
  const staged = trees.map((tree) => ({ tree, dir: new StagedDirectory(tree.target) }));
  const moves: Array<{ from: string; to: string }> = [];
  const checkInterrupted = async () => {
    await yieldToSignals();
    if (options.interrupted?.()) throw new SynthInterrupted('interrupted before anything was committed');
  };
  try {
    for (const { tree, dir } of staged) {
      tree.write(dir.path);
      writeOutputMarker(dir.path);
      await checkInterrupted();
    }
    const written = staged.map(({ dir }) => ({ dir: dir.target, files: listFiles(dir.path).filter((f) => f !== OUTPUT_MARKER) }));
    for (const { tree, dir } of staged) {
      if (tree.keepsTerraformState) carryOverTerraformState(dir.target, dir.path, moves);
    }
    await checkInterrupted();
    for (const { dir } of staged) dir.commit();
    return { written };
  } catch (error) {
    for (const { dir } of [...staged].reverse()) dir.rollback();
    // State moved into a staged tree goes back where it was before that tree is removed.
    for (const { from, to } of [...moves].reverse()) renameSync(to, from);
    throw error;
  } finally {
    for (const { dir } of staged) dir.release();
  }
}

/**
 * Terraform state and `.terraform/` live in each stack's directory. A new synth must
 * not lose them (that would orphan every provisioned host), so they move into the new tree;
 * each move is recorded in `moves` as it happens, so that a failure can undo it.
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
