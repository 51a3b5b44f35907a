import { show, TopologyProblem } from './errors';

/**
 * A small schema language: each config field is declared once, with its type, its default and a
 * one-line doc. From a declaration come the TypeScript type (`Infer`), the shape check of a config
 * file (`checkShape`), the default values (`defaultsOf`) and the per-item defaults (`fillDefaults`).
 * Hand-rolled instead of zod or similar: synth start-up time matters, and it needs very little.
 */

/** Where a field's value comes from when the config leaves it out. */
export type Default<T> =
  /** This value. */
  | { readonly kind: 'value'; readonly value: T }
  /** Nothing: a list item must give it (a default list's items give it too). */
  | { readonly kind: 'required' }
  /** The value of another config path, e.g. `hostDefaults.osFamily`, which must have a plain value default. */
  | { readonly kind: 'inherit'; readonly from: string }
  /** A text in which `<field>` is replaced by the value of a sibling field, e.g. `this is <name>`. */
  | { readonly kind: 'template'; readonly template: string };

/** A field a list item must always give. */
export const REQUIRED: Default<never> = { kind: 'required' };

/** Default: the value at another config path. */
export function inherit(from: string): Default<never> {
  return { kind: 'inherit', from };
}

/** Default: a text built from sibling fields, `<field>` replaced by the field's value. */
export function template(text: string): Default<string> {
  return { kind: 'template', template: text };
}

interface LeafBase<K extends string, T> {
  readonly kind: K;
  /** One line saying what the field is for. */
  readonly doc: string;
  readonly default: Default<T>;
}

type StringNode = LeafBase<'string', string>;
type IntegerNode = LeafBase<'integer', number>;
type BooleanNode = LeafBase<'boolean', boolean>;
interface EnumNode<T extends string> extends LeafBase<'enum', T> {
  readonly values: readonly T[];
}
type LeafNode = StringNode | IntegerNode | BooleanNode | EnumNode<string>;

export type Fields = { readonly [key: string]: Node };

interface ObjectNode<F extends Fields> {
  readonly kind: 'object';
  readonly doc: string;
  readonly fields: F;
}

interface ListNode<I extends ObjectNode<Fields>> {
  readonly kind: 'list';
  readonly doc: string;
  readonly item: I;
  /** The list used when the config gives none; a config's list replaces it whole. */
  readonly default: readonly Input<I>[];
}

export type Node = LeafNode | ObjectNode<Fields> | ListNode<ObjectNode<Fields>>;

/** The type of a fully resolved value of `N`: every field present. */
export type Infer<N> = N extends EnumNode<infer T>
  ? T
  : N extends StringNode
    ? string
    : N extends IntegerNode
      ? number
      : N extends BooleanNode
        ? boolean
        : N extends ObjectNode<infer F>
          ? { readonly [K in keyof F]: Infer<F[K]> }
          : N extends ListNode<infer I>
            ? readonly Infer<I>[]
            : never;

/** The type of what a config file may give for `N`: any field may be left out. */
export type Input<N> = N extends ObjectNode<infer F>
  ? { readonly [K in keyof F]?: Input<F[K]> }
  : N extends ListNode<infer I>
    ? readonly Input<I>[]
    : Infer<N>;

type DefaultArg<T> = T | Default<T>;

function defaultOf<T>(value: DefaultArg<T>): Default<T> {
  return typeof value === 'object' && value !== null && 'kind' in value ? value : { kind: 'value', value };
}

export function string(doc: string, dflt: DefaultArg<string>): StringNode {
  return { kind: 'string', doc, default: defaultOf(dflt) };
}

export function integer(doc: string, dflt: DefaultArg<number>): IntegerNode {
  return { kind: 'integer', doc, default: defaultOf(dflt) };
}

export function boolean(doc: string, dflt: DefaultArg<boolean>): BooleanNode {
  return { kind: 'boolean', doc, default: defaultOf(dflt) };
}

/** One of fixed strings: a TypeScript string enum or a list of literals. */
export function oneOf<const T extends string>(values: readonly T[] | Readonly<Record<string, T>>, doc: string, dflt: DefaultArg<T>): EnumNode<T> {
  return { kind: 'enum', values: Array.isArray(values) ? values : Object.values(values), doc, default: defaultOf(dflt) };
}

export function object<F extends Fields>(doc: string, fields: F): ObjectNode<F> {
  return { kind: 'object', doc, fields };
}

export function list<I extends ObjectNode<Fields>>(doc: string, item: I, dflt: readonly Input<I>[]): ListNode<I> {
  return { kind: 'list', doc, item, default: dflt };
}

function isMapping(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeaf(node: Node): node is LeafNode {
  return node.kind !== 'object' && node.kind !== 'list';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * `partial`: a config file, where any field may be left out except a list item's required ones.
 * `complete`: a resolved config, where every field must be present.
 */
type ShapeMode = 'partial' | 'complete';

/** Lists every place where `value` does not have the structure `node` describes ("path: got X, expected Y"). */
export function checkShape(node: Node, value: unknown, mode: ShapeMode, path = ''): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  checkInto(node, value, mode, path, undefined, problems);
  return problems;
}

/**
 * checkShape of the value at `parent` + `key` (none: at `parent`), appending to `problems`. A path is
 * made only where it is needed, for a problem or a nested object or list: a config of a thousand
 * workers has tens of thousands of leaves, nearly all of them right.
 */
function checkInto(node: Node, value: unknown, mode: ShapeMode, parent: string, key: string | undefined, problems: TopologyProblem[]): void {
  switch (node.kind) {
    case 'string':
      if (typeof value !== 'string') problems.push(mismatch(at(parent, key), value, 'a string'));
      return;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(mismatch(at(parent, key), value, 'an integer'));
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(mismatch(at(parent, key), value, 'true or false'));
      return;
    case 'enum':
      if (typeof value !== 'string' || !node.values.includes(value)) problems.push(mismatch(at(parent, key), value, `one of ${node.values.join(', ')}`));
      return;
    case 'list': {
      const path = at(parent, key);
      if (!Array.isArray(value)) problems.push(mismatch(path, value, 'a list'));
      else for (let i = 0; i < value.length; i++) checkObject(node.item, value[i], mode, `${path}[${i}]`, true, problems);
      return;
    }
    case 'object':
      checkObject(node, value, mode, at(parent, key), false, problems);
  }
}

function at(parent: string, key: string | undefined): string {
  return key === undefined ? parent : join(parent, key);
}

function mismatch(path: string, value: unknown, expected: string): TopologyProblem {
  return { path: path === '' ? '(top level)' : path, got: show(value), expected };
}

function checkObject(node: ObjectNode<Fields>, value: unknown, mode: ShapeMode, path: string, isItem: boolean, problems: TopologyProblem[]): void {
  if (!isMapping(value)) {
    problems.push(mismatch(path, value, 'a mapping'));
    return;
  }
  for (const key of Object.keys(value)) {
    // Own fields only: `constructor`, `toString` or `__proto__` must not reach Object.prototype's.
    const childNode = Object.hasOwn(node.fields, key) ? node.fields[key] : undefined;
    if (childNode === undefined) {
      const known = Object.keys(node.fields);
      const near = closest(key, known);
      const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
      problems.push({ path: join(path, key), got: 'an unknown key', expected: `one of ${known.join(', ')}${hint}` });
    } else {
      checkInto(childNode, value[key], mode, path, key, problems);
    }
  }
  for (const key in node.fields) {
    if (!Object.hasOwn(node.fields, key)) continue;
    const childNode = node.fields[key];
    const required = mode === 'complete' || (isItem && isLeaf(childNode) && childNode.default.kind === 'required');
    if (required && !Object.hasOwn(value, key)) problems.push({ path: join(path, key), got: 'nothing', expected: 'a value (required)' });
  }
}

/** Edits (insertions, deletions, substitutions) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known key within 2 edits of `key` (case ignored), the nearest first; undefined when none is. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** True when `value` is a complete, well-typed value of `node`: the shape check is the type guard. */
export function conforms<N extends Node>(node: N, value: unknown): value is Infer<N> {
  return checkShape(node, value, 'complete').length === 0;
}

/** The values a config gets when it gives nothing: every plain default, and every list's default list. */
export function defaultsOf(node: Node): unknown {
  switch (node.kind) {
    case 'object': {
      const result: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node.fields)) {
        const value = defaultsOf(child);
        if (value !== undefined) result[key] = value;
      }
      return result;
    }
    case 'list':
      return node.default;
    default:
      return node.default.kind === 'value' ? node.default.value : undefined;
  }
}

/** The value at a dotted path such as `hostDefaults.osFamily`, or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (isMapping(value) && Object.hasOwn(value, key) ? value[key] : undefined), root);
}

/**
 * Fills in what the merged config left out: plain defaults of list items, inherited values
 * (read from `root`) and templates. Returns a new value; `conforms` then says whether it is complete.
 */
export function fillDefaults(node: Node, value: unknown, root: unknown): unknown {
  if (node.kind === 'list') return Array.isArray(value) ? value.map((item) => fillDefaults(node.item, item, root)) : value;
  if (node.kind !== 'object' || !isMapping(value)) return value;
  const filled: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.fields)) {
    if (Object.hasOwn(value, key)) {
      filled[key] = fillDefaults(child, value[key], root);
    } else if (isLeaf(child)) {
      const missing = leafDefault(child.default, value, root);
      if (missing !== undefined) filled[key] = missing;
    }
  }
  return filled;
}

function leafDefault(dflt: Default<unknown>, siblings: Readonly<Record<string, unknown>>, root: unknown): unknown {
  switch (dflt.kind) {
    case 'value':
      return dflt.value;
    case 'required':
      return undefined;
    case 'inherit':
      return valueAt(root, dflt.from);
    case 'template':
      return dflt.template.replace(/<([A-Za-z]+)>/g, (_match, field: string) => String(siblings[field]));
  }
}

/** One leaf of a schema (lists count as leaves too: they carry a default list). */
export interface SchemaLeaf {
  /** Dotted path; list items as `workers[].name`. */
  readonly path: string;
  readonly node: LeafNode | ListNode<ObjectNode<Fields>>;
}

/** Every leaf and list of a schema, in declaration order: for documentation and its test. */
export function leavesOf(node: Node, path = ''): SchemaLeaf[] {
  switch (node.kind) {
    case 'object':
      return Object.entries(node.fields).flatMap(([key, child]) => leavesOf(child, join(path, key)));
    case 'list':
      return [{ path, node }, ...leavesOf(node.item, `${path}[]`)];
    default:
      return [{ path, node }];
  }
}
