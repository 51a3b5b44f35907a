import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * The file that marks a directory as synth's own output. Synth replaces only a directory
 * that has it (or an empty or missing one): pointing --dist at a folder of the user's own
 * files is refused instead of wiping them.
 */
export const OUTPUT_MARKER = '.k8s-ha-edge-output';

/**
 * Which of synth's trees a directory holds: `manifests` (--dist: Kubernetes manifests and per-host
 * files) or `stacks` (--cdktf-out: Terraform stacks, whose stack directories also hold terraform's
 * `.terraform/` and `.terraform.lock.hcl`). The marker records it, so that one tree's flag pointed
 * at the other's directory is refused instead of replacing the stacks (and their working files).
 */
export type OutputKind = 'manifests' | 'stacks';

const KIND_TEXT: Record<OutputKind, string> = {
  manifests: 'the Kubernetes manifests and per-host files (--dist)',
  stacks: 'the Terraform stacks (--cdktf-out)',
};

/** What the marker says, so a person who finds it knows what it means; the `kind:` line is read back. */
function markerContent(kind: OutputKind): string {
  return `This directory is output of k8s-ha-edge's synth; the next synth replaces all of it.\nkind: ${kind}\n`;
}

export function writeOutputMarker(dir: string, kind: OutputKind): void {
  writeFileSync(join(dir, OUTPUT_MARKER), markerContent(kind), { mode: 0o644 });
}

/**
 * The tree a synth output holds: its marker's `kind:` line, or, for a marker written before the
 * kind was recorded, what the tree looks like (only the stacks tree has stacks/ and manifest.json).
 */
function kindOf(dir: string): OutputKind {
  const recorded = /^kind: (manifests|stacks)$/m.exec(readFileSync(join(dir, OUTPUT_MARKER), 'utf8'));
  if (recorded) return recorded[1] as OutputKind;
  return existsSync(join(dir, 'stacks')) || existsSync(join(dir, 'manifest.json')) ? 'stacks' : 'manifests';
}

/** A refusal to touch an output path, phrased like every other bad input: what, got, expected. */
export class OutputTargetError extends Error {}

/** Whether `path` is a directory that synth wrote (it holds the marker). */
function isOwnOutput(path: string): boolean {
  try {
    return lstatSync(path).isDirectory() && readFileSync(join(path, OUTPUT_MARKER), 'utf8').includes('k8s-ha-edge');
  } catch {
    return false;
  }
}

function describeForeign(path: string): string {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (!stat.isDirectory()) return 'a file that is not a directory';
  const names = readdirSync(path).sort();
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, … (${names.length} entries)` : '');
  return `a directory that k8s-ha-edge did not write (it holds ${shown} and no ${OUTPUT_MARKER})`;
}

/**
 * Checks that synth may replace `target` with a tree of `kind`: it does not exist, is an empty
 * directory, or is a previous synth's output of the same kind. `flag` names the option the path
 * came from, for the message.
 */
export function checkReplaceable(flag: string, target: string, kind: OutputKind): void {
  if (target.trim() === '') throw new OutputTargetError(`${flag}: got "", expected a directory path`);
  if (!existsSync(target) && !isSymlink(target)) return;
  if (isOwnOutput(target)) {
    const found = kindOf(target);
    if (found === kind) return;
    throw new OutputTargetError(
      `${flag}: got ${JSON.stringify(target)}, which holds ${KIND_TEXT[found]} of an earlier synth; expected a directory for ${KIND_TEXT[kind]}. `
      + 'Nothing was changed: replacing it would delete that tree (and, for the stacks, terraform\'s .terraform/ and .terraform.lock.hcl); choose another directory',
    );
  }
  if (lstatSync(target).isDirectory() && readdirSync(target).length === 0) return;
  throw new OutputTargetError(
    `${flag}: got ${JSON.stringify(target)}, ${describeForeign(target)}; expected a missing or empty directory, ` +
    'or the output of an earlier synth. Nothing was changed: move those files away or choose another directory',
  );
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The absolute path with every existing ancestor's symbolic links resolved. */
function canonical(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return join(realpathSync(existing), relative(existing, absolute));
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Refuses output targets that are the same directory or one inside the other: replacing
 * one would replace or hide the other, and the summary would list files that no longer exist.
 */
export function checkDisjoint(targets: ReadonlyArray<{ flag: string; path: string }>): void {
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      const [a, b] = [targets[i], targets[j]];
      const [pa, pb] = [canonical(a.path), canonical(b.path)];
      if (isInside(pa, pb) || isInside(pb, pa)) {
        throw new OutputTargetError(
          `${b.flag}: got ${JSON.stringify(b.path)}, expected a directory apart from ${a.flag} (${JSON.stringify(a.path)}): ` +
          'the two outputs must not be the same directory or inside one another',
        );
      }
    }
  }
}

/**
 * Refuses a target path that names the directory synth runs in or one of its parents, or ends in
 * "." or "..": synth replaces its target by renaming a directory beside it, and neither can be
 * renamed that way (rename(2) says EBUSY for "."; the staging directory of "dist/." would be made
 * inside dist/ itself).
 */
export function checkTargetPath(flag: string, target: string): void {
  const last = target.replace(/\/+$/, '').split('/').pop();
  if (last === '.' || last === '..') {
    throw new OutputTargetError(`${flag}: got ${JSON.stringify(target)}, expected a path that does not end in "." or ".." (name the directory itself)`);
  }
  const here = canonical(process.cwd());
  const path = canonical(target);
  if (isInside(here, path)) {
    throw new OutputTargetError(
      `${flag}: got ${JSON.stringify(target)}, which is ${path === here ? 'the working directory' : 'a parent of the working directory'}; `
      + 'expected a directory below it or elsewhere (synth replaces its output directory whole)',
    );
  }
}

/** The hidden names synth keeps beside a target: `.<name>.previous`, `.<name>.staging-<pid>-…`, `.<name>.lock`. */
export function besideTarget(target: string, suffix: string): string {
  return join(dirname(resolve(target)), `.${basename(resolve(target))}.${suffix}`);
}
