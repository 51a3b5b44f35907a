/**
 * The text cdktf writes as cdk.tf.json: `json-stable-stringify(value, { space: 2 })` (keys in sort
 * order, two-space indent, an empty object or list on two lines), byte for byte. The library builds
 * a string per value: a sizeable part of a large stack's synthesis (7 MB of JSON for a thousand
 * workers). Here V8's own JSON.stringify prints the value, where needed a copy of it with its keys
 * in sort order, and each empty object or list, printed as a marker string, is then written the
 * library's way. Where that could differ (a key that is an integer, which JavaScript enumerates
 * before the others, or a string holding the marker's NUL), the value is printed part by part
 * instead. A test compares both with the library on synthesized stacks.
 */
export function stableJson(value: unknown): string {
  const sorted = sortedCopy(value);
  if (sorted === UNSUITABLE) {
    const parts: string[] = [];
    return write(value, '\n', parts) ? parts.join('') : '';
  }
  const text = JSON.stringify(sorted, null, 2);
  if (text === undefined) return '';
  // Each marker, `"\u0000{}"` or `"\u0000[]"` as JSON prints it, becomes the pair on two lines, the
  // closing one at the indent of the marker's line. Found by indexOf: a regular expression starting
  // with a quote would try every string of a 7 MB text.
  const parts: string[] = [];
  let from = 0;
  for (let at = text.indexOf(MARKER_TEXT); at >= 0; at = text.indexOf(MARKER_TEXT, at + MARKER_TEXT.length)) {
    const pair = text.slice(at + MARKER_TEXT.length, at + MARKER_TEXT.length + 2);
    if ((pair !== '{}' && pair !== '[]') || text.charCodeAt(at + MARKER_TEXT.length + 2) !== 34) continue;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    let end = lineStart;
    while (text.charCodeAt(end) === 32) end++;
    parts.push(text.slice(from, at), `${pair[0]}\n${text.slice(lineStart, end)}${pair[1]}`);
    from = at + MARKER_TEXT.length + 3;
  }
  if (from === 0) return text;
  parts.push(text.slice(from));
  return parts.join('');
}

const UNSUITABLE = Symbol('unsuitable');
const EMPTY_OBJECT = '\u0000{}';
const EMPTY_LIST = '\u0000[]';
/** How JSON.stringify prints a marker, up to its pair of brackets: a quote, then the escaped NUL. */
const MARKER_TEXT = '"\\u0000';
const INTEGER_KEY = /^\d+$/;

/**
 * `value` as JSON.stringify must see it to print what the library prints: every object's keys in
 * sort order and every empty object or list replaced by its marker, values the printer skips left
 * out; UNSUITABLE where JSON.stringify could not print it as the library does. An object or list
 * that is so already (its keys inserted in sort order, nothing in it to replace or leave out) is
 * returned as it is, not copied: the bundles' resources are built in that order
 * (host-provisioner.ts), so a large stack is mostly printed without a copy.
 */
function sortedCopy(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // What toJSON returns is printed in the value's place, its own toJSON never called: always a copy.
    return sorted((value as { toJSON: () => unknown }).toJSON(), true);
  }
  return sorted(value, false);
}

/** sortedCopy of `node` (toJSON applied); `fresh`: a new object or list even where `node` could be printed as it is. */
function sorted(node: unknown, fresh: boolean): unknown {
  if (typeof node === 'string') return node.includes('\u0000') ? UNSUITABLE : node;
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    if (node.length === 0) return EMPTY_LIST;
    let copy: unknown[] | undefined = fresh ? [] : undefined;
    for (let i = 0; i < node.length; i++) {
      const item = sortedCopy(node[i]);
      if (item === UNSUITABLE) return UNSUITABLE;
      if (!copy && item !== node[i]) copy = node.slice(0, i);
      // JSON prints null for an item it skips, as the library does.
      if (copy) copy[i] = printable(item) ? item : null;
    }
    return copy ?? node;
  }
  const object = node as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 0) return EMPTY_OBJECT;
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    if (isIntegerLike(keys[i]) || keys[i].includes('\u0000')) return UNSUITABLE;
    if (i > 0 && keys[i - 1] > keys[i]) inOrder = false;
  }
  const order = inOrder ? keys : keys.sort();
  let copy: Record<string, unknown> | undefined = inOrder && !fresh ? undefined : {};
  let empty = true;
  for (let i = 0; i < order.length; i++) {
    const key = order[i];
    const item = sortedCopy(object[key]);
    if (item === UNSUITABLE) return UNSUITABLE;
    const kept = printable(item);
    if (!copy && (item !== object[key] || !kept)) {
      // The first change: the keys before it are printed as they are.
      copy = {};
      for (let j = 0; j < i; j++) copy[order[j]] = object[order[j]];
    }
    if (!kept) continue;
    empty = false;
    if (copy) copy[key] = item;
  }
  if (!copy) return object;
  return empty ? EMPTY_OBJECT : copy;
}

/** A key JavaScript enumerates before the others (an array index): digits only. */
function isIntegerLike(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && INTEGER_KEY.test(key);
}

/** Whether JSON prints the value (undefined, a function or a symbol is skipped in an object, null in a list). */
function printable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/** Appends the text of `value` at the indent `newline` (a newline and the indent); false when the value is skipped (undefined). */
function write(value: unknown, newline: string, parts: string[], seen: unknown[] = []): boolean {
  let node = value;
  if (node !== null && typeof node === 'object' && typeof (node as { toJSON?: unknown }).toJSON === 'function') node = (node as { toJSON: () => unknown }).toJSON();
  if (node === undefined) return false;
  if (node === null || typeof node !== 'object') {
    const text = JSON.stringify(node);
    if (text === undefined) return false;
    parts.push(text);
    return true;
  }
  const inner = `${newline}  `;
  if (Array.isArray(node)) {
    parts.push('[');
    for (let i = 0; i < node.length; i++) {
      parts.push(i === 0 ? inner : `,${inner}`);
      if (!write(node[i], inner, parts, seen)) parts.push('null');
    }
    parts.push(newline, ']');
    return true;
  }
  if (seen.includes(node)) throw new TypeError('Converting circular structure to JSON');
  seen.push(node);
  parts.push('{');
  let first = true;
  for (const key of Object.keys(node).sort()) {
    const mark = parts.length;
    parts.push(first ? inner : `,${inner}`, JSON.stringify(key), ': ');
    if (write((node as Record<string, unknown>)[key], inner, parts, seen)) first = false;
    else parts.length = mark;
  }
  parts.push(newline, '}');
  seen.pop();
  return true;
}
