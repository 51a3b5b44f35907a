/**
 * The model of nginx.conf and keepalived.conf: a small tree of directives. Renderers build
 * the tree from the topology; one printer per dialect owns braces, indentation and quoting;
 * tests and tools ask the tree (`directiveAt`, `argsOf`) instead of matching the text.
 */

/** An argument that is always printed quoted (a keepalived command line); other strings are quoted only when they must be. */
export interface QuotedArg {
  readonly quoted: string;
}

export type DirectiveArg = string | number | QuotedArg;

/** `name args;` (nginx) or `name args` (keepalived); a block when it has children. */
export interface Directive {
  readonly kind: 'directive';
  readonly name: string;
  readonly args: readonly DirectiveArg[];
  /** The block's body; undefined: a simple directive. */
  readonly children?: readonly ConfNode[];
  /** Lines printed as `# …` above the directive: why it is there. */
  readonly comment?: readonly string[];
  /** Printed after the directive on its own line, as `  # …`. */
  readonly trailingComment?: string;
}

/** A comment on its own, not about one directive (a file header). */
export interface Comment {
  readonly kind: 'comment';
  readonly text: string;
}

export interface BlankLine {
  readonly kind: 'blank';
}

export type ConfNode = Directive | Comment | BlankLine;

/** A whole configuration file. */
export interface ConfFile {
  readonly nodes: readonly ConfNode[];
}

export interface DirectiveOptions {
  /** Comment lines above the directive. @default none */
  readonly comment?: string | readonly string[];
  /** Comment after the directive, on its line. @default none */
  readonly trailingComment?: string;
}

function withOptions(name: string, args: readonly DirectiveArg[], children: readonly ConfNode[] | undefined, options: DirectiveOptions): Directive {
  const comment = options.comment === undefined ? undefined : typeof options.comment === 'string' ? [options.comment] : options.comment;
  return {
    kind: 'directive',
    name,
    args,
    ...(children ? { children } : {}),
    ...(comment ? { comment } : {}),
    ...(options.trailingComment ? { trailingComment: options.trailingComment } : {}),
  };
}

export function directive(name: string, args: readonly DirectiveArg[] = [], options: DirectiveOptions = {}): Directive {
  return withOptions(name, args, undefined, options);
}

export function block(name: string, args: readonly DirectiveArg[], children: ReadonlyArray<ConfNode | false>, options: DirectiveOptions = {}): Directive {
  return withOptions(name, args, children.filter((c): c is ConfNode => c !== false), options);
}

export const comment = (text: string): Comment => ({ kind: 'comment', text });
export const BLANK: BlankLine = { kind: 'blank' };
export const quoted = (text: string): QuotedArg => ({ quoted: text });

// ---------------------------------------------------------------- queries

function isDirective(node: ConfNode): node is Directive {
  return node.kind === 'directive';
}

/** Every directive named `name` directly in `nodes`, in order. */
export function directivesNamed(nodes: readonly ConfNode[], name: string): Directive[] {
  return nodes.filter(isDirective).filter((d) => d.name === name);
}

/**
 * The directive at a path of names from the file's top level (the first match at each step),
 * e.g. `directiveAt(conf, 'vrrp_instance', 'state')`; undefined when there is none.
 */
export function directiveAt(conf: ConfFile, ...path: string[]): Directive | undefined {
  let nodes: readonly ConfNode[] = conf.nodes;
  let found: Directive | undefined;
  for (const name of path) {
    found = directivesNamed(nodes, name)[0];
    if (!found) return undefined;
    nodes = found.children ?? [];
  }
  return found;
}

/** A directive's arguments as plain strings (quoting is the printer's business). */
export function argsOf(d: Directive | undefined): string[] {
  return (d?.args ?? []).map((a) => (typeof a === 'object' ? a.quoted : String(a)));
}

// ---------------------------------------------------------------- printers

interface Dialect {
  /** What ends a simple directive. */
  readonly terminator: string;
  readonly quote: string;
  /** Strings that must be quoted. */
  readonly needsQuotes: RegExp;
}

const INDENT = '    ';

const NGINX: Dialect = { terminator: ';', quote: "'", needsQuotes: /[\s;{}'"#]/ };
const KEEPALIVED: Dialect = { terminator: '', quote: '"', needsQuotes: /[\s{}"#!]/ };

function formatArg(arg: DirectiveArg, dialect: Dialect): { text: string; quoted: boolean } {
  const text = typeof arg === 'object' ? arg.quoted : String(arg);
  if (typeof arg !== 'object' && !dialect.needsQuotes.test(text)) return { text, quoted: false };
  const q = dialect.quote;
  return { text: `${q}${text.replace(/\\/g, '\\\\').split(q).join(`\\${q}`)}${q}`, quoted: true };
}

/**
 * A simple directive's lines. Several quoted strings (nginx's log_format) continue on
 * their own lines, aligned under the first.
 */
function directiveLines(d: Directive, indent: string, dialect: Dialect): string[] {
  const args = d.args.map((a) => formatArg(a, dialect));
  const firstQuoted = args.findIndex((a) => a.quoted);
  const wraps = firstQuoted >= 0 && args.slice(firstQuoted + 1).length > 0 && args.slice(firstQuoted + 1).every((a) => a.quoted);
  const head = wraps ? args.slice(0, firstQuoted + 1) : args;
  const first = `${indent}${[d.name, ...head.map((a) => a.text)].join(' ')}`;
  if (!wraps) return [first];
  const pad = ' '.repeat(first.length - args[firstQuoted].text.length);
  return [first, ...args.slice(firstQuoted + 1).map((a) => `${pad}${a.text}`)];
}

function nodeLines(node: ConfNode, indent: string, dialect: Dialect): string[] {
  if (node.kind === 'blank') return [''];
  if (node.kind === 'comment') return [`${indent}# ${node.text}`];
  const comments = (node.comment ?? []).map((c) => `${indent}# ${c}`);
  if (node.children) {
    const open = `${indent}${[node.name, ...node.args.map((a) => formatArg(a, dialect).text), '{'].join(' ')}`;
    const body = node.children.flatMap((c) => nodeLines(c, indent + INDENT, dialect));
    return [...comments, open, ...body, `${indent}}`];
  }
  const lines = directiveLines(node, indent, dialect);
  lines[lines.length - 1] += dialect.terminator + (node.trailingComment ? `  # ${node.trailingComment}` : '');
  return [...comments, ...lines];
}

function print(conf: ConfFile, dialect: Dialect): string {
  return `${conf.nodes.flatMap((n) => nodeLines(n, '', dialect)).join('\n')}\n`;
}

/** nginx.conf text: `;` after simple directives, single quotes where a string needs them. */
export function printNginxConf(conf: ConfFile): string {
  return print(conf, NGINX);
}

/** keepalived.conf text: no terminator, double quotes. */
export function printKeepalivedConf(conf: ConfFile): string {
  return print(conf, KEEPALIVED);
}

/**
 * conntrackd.conf text: `Key value` lines and `Section [name] {` blocks, like keepalived's, but comments only
 * on lines of their own (conntrackd's parser has no trailing comments) and no quoting (no value needs it).
 */
export function printConntrackdConf(conf: ConfFile): string {
  const trailing = (nodes: readonly ConfNode[]): boolean => nodes.some((n) => n.kind === 'directive' && (n.trailingComment !== undefined || trailing(n.children ?? [])));
  if (trailing(conf.nodes)) throw new Error('conntrackd.conf: got a trailing comment, expected comments on lines of their own');
  return print(conf, KEEPALIVED);
}
