/**
 * The one place that reads the static shell files: every `*.sh` under lib/ (each beside the
 * renderer that uses it), by its path relative to lib/, e.g. `kubernetes/prepare-node.sh`.
 *
 * Run from source (tsx, ts-jest) the files are read from lib/ on first use. The synth
 * bundle (scripts/build-synth.js) has no lib/ beside it: there `EMBEDDED` below is replaced, at
 * build time, by the text of every lib/**.sh, and the build records each file's hash so that the
 * launcher's staleness check (scripts/synth.js) rebuilds the bundle when one changes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The build replaces this exact line (scripts/build-synth.js, inlineShellFiles); keep it as it is.
const EMBEDDED = undefined as Readonly<Record<string, string>> | undefined;

const LIB_DIR = join(__dirname, '..');
const read = new Map<string, string>();

/** The text of lib/<path>, a `.sh` file. */
export function shellFile(path: string): string {
  if (EMBEDDED !== undefined) {
    const text = EMBEDDED[path];
    if (text === undefined) throw new Error(`${path}: got a shell file the synth bundle does not embed, expected a .sh file under lib/`);
    return text;
  }
  let text = read.get(path);
  if (text === undefined) {
    text = readFileSync(join(LIB_DIR, path), 'utf8');
    read.set(path, text);
  }
  return text;
}
