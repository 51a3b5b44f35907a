/**
 * The text cdktf writes as cdk.tf.json: `json-stable-stringify(value, { space: 2 })` (keys in sort
 * order, two-space indent, an empty object or list on two lines), byte for byte. The library builds
 * a string per value: a sizeable part of a large stack's synthesis (7 MB of JSON for a thousand
 * workers). Here V8's own JSON.stringify prints a copy of the value with its keys in sort order, and
 * each empty object or list, printed as a marker string, is then written the library's way. Where
 * that could differ (a key that is an integer, which JavaScript enumerates before the others, or a
 * string holding the marker's NUL), the value is printed part by part instead. A test compares both
 * with the library on synthesized stacks.
 */
export function stableJson(value: unknown): string {
  const sorted = sortedCopy(value);
  if (sorted === UNSUITABLE) {
    const parts: string[] = [];
    return write(value, '\n', parts) ? parts.join('') : '';
  }
  const text = JSON.stringify(sorted, null, 2);
  if (text === undefined) return '';
  return text.replace(/"\\u0000(\{\}|\[\])"/g, (_marker, pair: string, offset: number) => {
    const lineStart = text.lastIndexOf('\n', offset) + 1;
    let end = lineStart;
    while (text.charCodeAt(end) === 32) end++;
    return `${pair[0]}\n${text.slice(lineStart, end)}${pair[1]}`;
  });
}

const UNSUITABLE = Symbol('unsuitable');
const EMPTY_OBJECT = '\u0000{}';
const EMPTY_LIST = '\u0000[]';
const INTEGER_KEY = /^\d+$/;

/**
 * `value` with every object's keys inserted in sort order and every empty object or list replaced
 * by its marker, values the printer skips left out; UNSUITABLE where JSON.stringify would not print
 * it as the library does.
 */
function sortedCopy(value: unknown): unknown {
  let node = value;
  if (node !== null && typeof node === 'object' && typeof (node as { toJSON?: unknown }).toJSON === 'function') node = (node as { toJSON: () => unknown }).toJSON();
  if (typeof node === 'string') return node.includes('\u0000') ? UNSUITABLE : node;
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    if (node.length === 0) return EMPTY_LIST;
    const copy = new Array<unknown>(node.length);
    for (let i = 0; i < node.length; i++) {
      const item = sortedCopy(node[i]);
      if (item === UNSUITABLE) return UNSUITABLE;
      copy[i] = printable(item) ? item : null;
    }
    return copy;
  }
  const copy: Record<string, unknown> = {};
  let empty = true;
  for (const key of Object.keys(node).sort()) {
    if (INTEGER_KEY.test(key) || key.includes('\u0000')) return UNSUITABLE;
    const item = sortedCopy((node as Record<string, unknown>)[key]);
    if (item === UNSUITABLE) return UNSUITABLE;
    if (!printable(item)) continue;
    copy[key] = item;
    empty = false;
  }
  return empty ? EMPTY_OBJECT : copy;
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
