/**
 * npm run docs: rewrites the generated config reference in docs/configuration.md from the schema
 * (lib/topology/config-reference.ts). Only the block between its markers changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigReference } from '../lib/topology/config-reference';

const USAGE = 'usage: npm run docs   (takes no arguments)';

// It takes no flags: one it did not know would otherwise be ignored and the run would "succeed"
// (a mistyped `--check` in CI would rewrite the file and pass).
const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(`${USAGE}\n`);
} else if (args.length > 0) {
  process.stderr.write(`error: unknown argument: got ${JSON.stringify(args[0])}, expected no arguments\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  const file = join(__dirname, '..', 'docs', 'configuration.md');
  const before = readFileSync(file, 'utf8');
  const after = withConfigReference(before);
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(`${file}: ${after === before ? 'up to date' : 'config reference rewritten'}\n`);
}
