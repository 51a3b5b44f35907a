import { stringify } from 'yaml';
import { CONFIG_SCHEMA } from './config-schema';
import { Fields, Node } from './schema-dsl';

/**
 * The config reference (docs/configuration.md) printed from the schema: one table per mapping, one row
 * per field with its type, default and doc. Generated, so the reference and the code cannot drift;
 * `npm run docs` writes it and a test fails when the committed file differs.
 */

/** Where the generated part of docs/configuration.md starts and ends; the text around it is written by hand. */
export const REFERENCE_BEGIN = '<!-- BEGIN config reference: generated from lib/topology/config-schema.ts by `npm run docs`; edit the schema, not this block -->';
export const REFERENCE_END = '<!-- END config reference -->';

interface Section {
  readonly path: string;
  readonly doc: string;
  readonly rows: string[];
}

/** A table cell: pipes escaped, so a doc may mention `a | b`. */
const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;

function typeOf(node: Node): string {
  switch (node.kind) {
    case 'string': return 'text';
    case 'integer': return 'integer';
    case 'boolean': return '`true` or `false`';
    case 'enum': return node.values.map(code).join(' or ');
    case 'list': return 'list';
    case 'object': return 'mapping';
  }
}

function defaultOf(node: Node): string {
  if (node.kind === 'list') return code(stringify(node.default, { collectionStyle: 'flow', lineWidth: 0 }).trim());
  if (node.kind === 'object') return '';
  const dflt = node.default;
  switch (dflt.kind) {
    case 'required': return 'required';
    case 'inherit': return `from ${code(dflt.from)}`;
    case 'template': return code(dflt.template);
    case 'value': return dflt.value === '' ? 'empty' : code(String(dflt.value));
  }
}

/** Every mapping of the schema in declaration order, each with the rows of its own fields. */
function sections(doc: string, fields: Fields, path: string): Section[] {
  const rows: string[] = [];
  const nested: Section[] = [];
  for (const [key, node] of Object.entries(fields)) {
    const fieldPath = path === '' ? key : `${path}.${key}`;
    if (node.kind === 'object') {
      nested.push(...sections(node.doc, node.fields, fieldPath));
      continue;
    }
    rows.push(`| ${code(key)} | ${cell(typeOf(node))} | ${cell(defaultOf(node))} | ${cell(node.doc)} |`);
    if (node.kind === 'list') nested.push(...sections(node.item.doc, node.item.fields, `${fieldPath}[]`));
  }
  return [...(rows.length > 0 ? [{ path, doc, rows }] : []), ...nested];
}

/** The generated block of docs/configuration.md, markers included. */
export function configReference(): string {
  const body = sections(CONFIG_SCHEMA.doc, CONFIG_SCHEMA.fields, '').map((s) => [
    s.path === '' ? '### Top level' : `### ${code(s.path)}`,
    '',
    `${s.doc.charAt(0).toUpperCase()}${s.doc.slice(1)}.`,
    '',
    '| field | type | default | meaning |',
    '|---|---|---|---|',
    ...s.rows,
  ].join('\n'));
  return [REFERENCE_BEGIN, '', ...body.flatMap((b) => [b, '']), REFERENCE_END].join('\n');
}

/** `document` with its generated block replaced by `configReference()`; throws when the markers are missing. */
export function withConfigReference(document: string): string {
  const begin = document.indexOf(REFERENCE_BEGIN);
  const end = document.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error(`the config reference markers are missing (${REFERENCE_BEGIN} … ${REFERENCE_END})`);
  return document.slice(0, begin) + configReference() + document.slice(end + REFERENCE_END.length);
}
