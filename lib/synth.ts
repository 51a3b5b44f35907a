import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StagedDirectory } from './output-swap';
import { Topology } from './topology';

/** Files Terraform keeps beside a stack: its state and its initialised providers. */
const TERRAFORM_WORKING_FILES = ['terraform.tfstate', 'terraform.tfstate.backup', '.terraform', '.terraform.lock.hcl'];

export interface SynthTargets {
  /** Directory for the Kubernetes manifests and the per-host files for review. @default undefined: not written */
  readonly dist?: string;
  /** Directory for the Terraform stacks. @default undefined: not written */
  readonly cdktfOut?: string;
}

/** What a synthesizer writes into the staged directories. */
export interface Synthesizers {
  /** Writes manifests and per-host files into `distDir`. */
  readonly dist: (topology: Topology, distDir: string) => void;
  /**
   * Writes the stacks into `cdktfDir`; per-host files it ships as assets are
   * taken from `hostFilesDir` (a finished dist tree).
   */
  readonly cdktf: (topology: Topology, cdktfDir: string, hostFilesDir: string) => void;
}

export interface SynthResult {
  /** Files written per output directory, relative to it, sorted. */
  readonly written: ReadonlyArray<{ readonly dir: string; readonly files: readonly string[] }>;
}

/**
 * Synthesizes into staged directories and swaps them in only when every synthesizer
 * succeeded: a failure leaves `dist/` and `cdktf.out/` byte for byte as they were.
 */
export function synthesize(topology: Topology, targets: SynthTargets, synthesizers: Synthesizers): SynthResult {
  // Host files are always rendered, since the stacks ship them; they land in dist/ only when asked.
  const dist = new StagedDirectory(targets.dist ?? join(targets.cdktfOut ?? '.', '..', '.host-files'));
  const cdktf = targets.cdktfOut !== undefined ? new StagedDirectory(targets.cdktfOut) : undefined;
  try {
    synthesizers.dist(topology, dist.path);
    if (cdktf) synthesizers.cdktf(topology, cdktf.path, dist.path);
    const written = [
      ...(targets.dist !== undefined ? [{ dir: targets.dist, files: listFiles(dist.path).sort() }] : []),
      ...(cdktf ? [{ dir: cdktf.target, files: listFiles(cdktf.path).sort() }] : []),
    ];
    // Nothing below can fail on bad input: only renames on one filesystem remain.
    if (cdktf) {
      carryOverTerraformState(cdktf.target, cdktf.path);
      cdktf.commit();
    }
    if (targets.dist !== undefined) dist.commit();
    return { written };
  } finally {
    dist.discard();
    cdktf?.discard();
  }
}

/**
 * Terraform state and `.terraform/` live in each stack's directory. A new synth must
 * not lose them (that would orphan every provisioned host), so they move into the new tree.
 */
function carryOverTerraformState(oldRoot: string, newRoot: string): void {
  const oldStacks = join(oldRoot, 'stacks');
  if (!existsSync(oldStacks)) return;
  for (const stack of readdirSync(oldStacks)) {
    for (const name of TERRAFORM_WORKING_FILES) {
      const from = join(oldStacks, stack, name);
      if (!existsSync(from)) continue;
      const toDir = join(newRoot, 'stacks', stack);
      mkdirSync(toDir, { recursive: true });
      renameSync(from, join(toDir, name));
    }
  }
}

/** Every file under `root`, relative to it, sorted. */
export function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(root, path) : [relative(root, path)];
  }).sort();
}
