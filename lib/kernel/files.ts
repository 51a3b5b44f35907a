import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `root`, relative to it, sorted: how synth, validate, the lab and the tests list a tree. */
export function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(root, path) : [relative(root, path)];
  }).sort();
}
