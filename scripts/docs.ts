/**
 * npm run docs: rewrites the generated config reference in docs/configuration.md from the schema
 * (lib/topology/config-reference.ts). Only the block between its markers changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigReference } from '../lib/topology/config-reference';

const file = join(__dirname, '..', 'docs', 'configuration.md');
const before = readFileSync(file, 'utf8');
const after = withConfigReference(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(`${file}: ${after === before ? 'up to date' : 'config reference rewritten'}\n`);
