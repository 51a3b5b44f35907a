import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { scratchDir } from './support/scratch';

/** Every file under `root` with its mode and content hash: equal maps mean byte-identical trees. */
export function treeDigest(root: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const file of listFiles(root)) {
    const path = join(root, file);
    digest[file] = `${(statSync(path).mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  }
  return digest;
}

/** Writes `files` (path relative to `dir` → content) below `dir`, creating directories. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

/**
 * A writer of numbered config files in a fresh scratch directory: `write(content, 'json')` returns
 * the path of a new file. `dir` is the directory, for paths of files that do not exist.
 */
export function configFiles(prefix: string): { dir: string; write: (content: string | Uint8Array, extension?: string) => string } {
  const dir = scratchDir(prefix);
  let count = 0;
  return {
    dir,
    write: (content, extension = 'yaml') => {
      const path = join(dir, `config-${count++}.${extension}`);
      writeFileSync(path, content);
      return path;
    },
  };
}
