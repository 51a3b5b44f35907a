import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A directory (under `parent`) of stand-in commands, each a bash body that can log its arguments (and
 * stdin) to `$LOG`, the returned `log`; put `bin` first on PATH to run a script against them.
 */
export function fakeBin(parent: string, commands: Record<string, string>): { bin: string; log: string } {
  const bin = mkdtempSync(join(parent, 'bin-'));
  const log = join(bin, 'calls.log');
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\nLOG=${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { bin, log };
}
