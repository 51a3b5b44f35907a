/**
 * npm run docs: rewrites the generated parts of docs/ — the config reference in
 * docs/configuration.md from the schema (lib/topology/config-reference.ts; only the block between
 * its markers changes), and docs/topology.svg, the README's picture, which is what synth draws for
 * the default topology (test/diagram.test.ts fails when they differ).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topologyDiagram } from '../lib/diagram';
import { withConfigReference } from '../lib/topology/config-reference';
import { loadTopology } from '../lib/topology';

const USAGE = 'usage: npm run docs   (takes no arguments)';

/** Writes `content` to `file` only when it differs, and says which. */
function rewrite(file: string, content: string, what: string): void {
  const before = readFileSync(file, 'utf8');
  if (content !== before) writeFileSync(file, content);
  process.stdout.write(`${file}: ${content === before ? 'up to date' : `${what} rewritten`}\n`);
}

async function main(): Promise<void> {
  const docs = join(__dirname, '..', 'docs');
  rewrite(join(docs, 'configuration.md'), withConfigReference(readFileSync(join(docs, 'configuration.md'), 'utf8')), 'config reference');
  const svg = (await topologyDiagram(loadTopology())).find((f) => f.name === 'topology.svg');
  if (!svg) throw new Error('topologyDiagram drew no topology.svg');
  rewrite(join(docs, 'topology.svg'), svg.content, 'picture of the default topology');
}

// It takes no flags: one it did not know would otherwise be ignored and the run would "succeed"
// (a mistyped `--check` in CI would rewrite the file and pass).
const args = process.argv.slice(2);
if (helpWanted(args)) {
  process.stdout.write(`${USAGE}\n`);
} else if (args.length > 0) {
  process.stderr.write(`error: unknown argument: got ${JSON.stringify(args[0])}, expected no arguments\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/**
 * Whether -h or --help was given, read by node:util's parseArgs (strict). Arguments it refuses are
 * looked through for a help flag as before (`--bogus --help` still prints the usage).
 */
function helpWanted(argv: readonly string[]): boolean {
  try {
    return parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values.help === true;
  } catch (error) {
    // Told by the code, not `instanceof TypeError` (under jest, node's TypeError is another realm's).
    if (!(typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'))) throw error;
    return argv.includes('-h') || argv.includes('--help');
  }
}
