import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * The file that marks a directory as synth's own output. Synth replaces only a directory
 * that has it (or an empty or missing one): pointing --dist at a folder of the user's own
 * files is refused instead of wiping them.
 */
export const OUTPUT_MARKER = '.k8s-ha-edge-output';

/** What the marker says, so a person who finds it knows what it means. */
const MARKER_CONTENT = 'This directory is output of k8s-ha-edge\'s synth; the next synth replaces all of it.\n';

export function writeOutputMarker(dir: string): void {
  writeFileSync(join(dir, OUTPUT_MARKER), MARKER_CONTENT, { mode: 0o644 });
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
 * Checks that synth may replace `target`: it does not exist, is an empty directory, or is
 * a previous synth's output. `flag` names the option the path came from, for the message.
 */
export function checkReplaceable(flag: string, target: string): void {
  if (target.trim() === '') throw new OutputTargetError(`${flag}: got "", expected a directory path`);
  if (!existsSync(target) && !isSymlink(target)) return;
  if (isOwnOutput(target)) return;
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

/** The hidden names synth keeps beside a target: `.<name>.previous`, `.<name>.staging-<pid>-…`, `.<name>.lock`. */
export function besideTarget(target: string, suffix: string): string {
  return join(dirname(resolve(target)), `.${basename(resolve(target))}.${suffix}`);
}
