import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Scratch directories made by this test file, removed after its last test (test/setup-cdktf.ts). */
const made: string[] = [];

/**
 * A fresh directory in the system temp dir, removed with everything in it once the test file's
 * tests have run: tests that made their own with mkdtempSync left ~90 behind on every run.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every scratch directory made so far (tests that chmod a directory read-only included). */
export function removeScratchDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
