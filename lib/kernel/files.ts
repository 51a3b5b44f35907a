import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Every file under `root`, relative to it, sorted: how synth, validate, the lab and the tests list a tree.
 * Directories for which `skip` (given the path relative to `root`) is true are not listed.
 */
export function listFiles(root: string, skip?: (relativeDir: string) => boolean): string[] {
  return listBelow(root, root, skip).sort();
}

function listBelow(root: string, dir: string, skip?: (relativeDir: string) => boolean): string[] {
  // The entry types come with the listing (no stat per file); only a symbolic link is followed with a stat.
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const isDirectory = entry.isSymbolicLink() || (!entry.isFile() && !entry.isDirectory()) ? statSync(path).isDirectory() : entry.isDirectory();
    if (!isDirectory) return [relative(root, path)];
    return skip?.(relative(root, path)) ? [] : listBelow(root, path, skip);
  });
}

/**
 * Writes new files below a directory with few system calls: each directory is made once (not a
 * recursive mkdir per file), and a file's mode is given when it is created, with a chmod only when
 * the umask takes bits from it. Every file gets exactly its mode, whatever the umask of whoever
 * synthesizes. For files that do not exist yet (synth writes into fresh staging directories).
 */
export class FileWriter {
  /** The files written, relative to the root, in the order written. */
  public readonly written: string[] = [];
  private readonly made = new Set<string>();
  // Read once (setting it back at once): the umask decides whether a created file needs a chmod.
  private readonly umask = currentUmask();

  /** @param root an existing directory: only directories below it are made */
  constructor(private readonly root: string) {
    this.made.add(root);
  }

  /** Writes `content` at `relativePath` below the root, with mode `mode`. */
  write(relativePath: string, content: string, mode: number): void {
    const path = join(this.root, relativePath);
    this.directory(dirname(path));
    // encoding given: node's one-call path for a string (open, write and close in C++).
    writeFileSync(path, content, { mode, encoding: 'utf8' });
    if ((mode & this.umask) !== 0) chmodSync(path, mode);
    this.written.push(relativePath);
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
