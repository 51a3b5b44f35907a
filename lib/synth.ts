import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles } from './kernel/files';
import { StagedDirectory } from './output-swap';

/** Files Terraform keeps beside a stack: its state, workspaces' states and initialised providers. */
const TERRAFORM_WORKING_FILES = ['terraform.tfstate', 'terraform.tfstate.backup', 'terraform.tfstate.d', '.terraform', '.terraform.lock.hcl'];

/** One output directory and what fills it. */
export interface OutputTree {
  /** The directory replaced by this synth's output. */
  readonly target: string;
  /** Writes the whole tree into `dir`, an empty directory beside `target`. */
  readonly write: (dir: string) => void;
  /** Carry Terraform's state and working files over from the previous tree's stacks. @default false */
  readonly keepsTerraformState?: boolean;
}

export interface SynthResult {
  /** Files written per output directory, relative to it, sorted. */
  readonly written: ReadonlyArray<{ readonly dir: string; readonly files: readonly string[] }>;
}

/**
 * Writes every tree into a staged directory and swaps them in only when every writer
 * succeeded. A failure leaves every target byte for byte as it was: a writer that throws
 * commits nothing, and a commit that fails half-way is rolled back.
 */
export function synthesize(trees: readonly OutputTree[]): SynthResult {
  const staged = trees.map((tree) => ({ tree, dir: new StagedDirectory(tree.target) }));
  const moves: Array<{ from: string; to: string }> = [];
  try {
    for (const { tree, dir } of staged) tree.write(dir.path);
    const written = staged.map(({ dir }) => ({ dir: dir.target, files: listFiles(dir.path) }));
    for (const { tree, dir } of staged) {
      if (tree.keepsTerraformState) carryOverTerraformState(dir.target, dir.path, moves);
    }
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
