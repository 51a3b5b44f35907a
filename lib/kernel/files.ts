import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Every file under `root`, relative to it, sorted: how synth, validate, the lab and the tests list a tree. */
export function listFiles(root: string, dir = root): string[] {
  // The entry types come with the listing (no stat per file); only a symbolic link is followed with a stat.
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const isDirectory = entry.isSymbolicLink() || (!entry.isFile() && !entry.isDirectory()) ? statSync(path).isDirectory() : entry.isDirectory();
    return isDirectory ? listFiles(root, path) : [relative(root, path)];
  }).sort();
}

/**
 * Writes new files below a directory with few system calls: each directory is made once (not a
 * recursive mkdir per file), and a file's mode is given when it is created, with a chmod only when
 * the umask takes bits from it. Every file gets exactly its mode, whatever the umask of whoever
 * synthesizes. For files that do not exist yet (synth writes into fresh staging directories).
 */
export class FileWriter {
  private readonly made = new Set<string>();
  // Read once (setting it back at once): the umask decides whether a created file needs a chmod.
  private readonly umask = currentUmask();

  /** @param root an existing directory: only directories below it are made */
  constructor(root: string) {
    this.made.add(root);
  }

  /** Writes `content` at `path` (below the root) with mode `mode`. */
  write(path: string, content: string, mode: number): void {
    this.directory(dirname(path));
    writeFileSync(path, content, { mode });
    if ((mode & this.umask) !== 0) chmodSync(path, mode);
  }

  private directory(dir: string): void {
    if (this.made.has(dir)) return;
    const parent = dirname(dir);
    if (parent !== dir) this.directory(parent);
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.made.add(dir);
  }
}

function currentUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}
