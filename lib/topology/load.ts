import { closeSync, constants, fstatSync, openSync, readSync, Stats, statSync } from 'node:fs';
import { Document, isAlias, isScalar, parseDocument, visit } from 'yaml';
import { CONFIG_SCHEMA } from './config-schema';
import { show, TopologyError } from './errors';
import { checkShape, conforms, defaultsOf, fillDefaults } from './schema-dsl';
import { resolveTopology, Topology } from './topology';
import type { ResolvedConfig } from './config-schema';
import { singleGatewayFieldsBesidePair, validateConfig } from './validate';

type Json = unknown;

function isMapping(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge: mappings merge key by key, lists and scalars in `override` replace. */
export function deepMerge(base: Json, override: Json): Json {
  if (!isMapping(base) || !isMapping(override)) return override;
  // A Map and Object.fromEntries: a key such as `__proto__` stays a plain key, never a prototype.
  const merged = new Map<string, Json>(Object.entries(base));
  for (const [key, value] of Object.entries(override)) {
    merged.set(key, merged.has(key) ? deepMerge(merged.get(key), value) : value);
  }
  return Object.fromEntries(merged);
}

/** The format a config file is parsed as: JSON for `.json`, YAML otherwise. */
function configFormat(path: string): 'JSON' | 'YAML' {
  return path.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML';
}

/**
 * The file's bytes as text. Bytes that are not UTF-8 are an error naming where they are: decoding
 * them would silently turn a worker's page into U+FFFD replacement characters.
 */
function decodeUtf8(path: string, bytes: Uint8Array): string {
  try {
    // ignoreBOM: a byte-order mark stays in the text, as readFileSync(path, 'utf8') kept it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
    throw new TopologyError(path, [{ path: '(file)', got: `bytes that are not UTF-8 (at byte ${offset}, line ${line})`, expected: 'a UTF-8 text file' }]);
  }
}

/** Offset of the first byte that starts no valid UTF-8 sequence (found by decoding growing prefixes' last character). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  while (offset < bytes.length) {
    const lead = bytes[offset];
    const size = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    try {
      decoder.decode(bytes.subarray(offset, offset + size));
    } catch {
      return offset;
    }
    offset += size;
  }
  return offset;
}

/**
 * The largest config file read: a topology of a thousand workers with host keys and pages is well
 * under 1 MiB. Only a regular file is read at all (an endless stream such as `/dev/zero` is refused
 * before reading); the cap keeps a huge one, or one still growing, from being read whole.
 */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * Nesting deeper than any field of the schema (the deepest is 4 levels) by a wide margin. Deeper
 * values are refused before anything walks them recursively (a JSON array nested 5,000 deep
 * overflowed the stack while being shown in an error message).
 */
export const MAX_CONFIG_DEPTH = 32;

/** What a path that is not a regular file is, in words; undefined for a regular file. */
function notRegular(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** A config path that is not a regular file: what it is instead. */
class NotRegularFile extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

/**
 * The file's bytes, at most MAX_CONFIG_BYTES + 1 of them (one more says "too big"). Only a regular
 * file is read: opened without blocking (opening a FIFO nobody writes to would wait forever) and
 * checked on the open descriptor (a check of the path before opening could be raced by a swap).
 */
function readCapped(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    // A Unix socket cannot be opened (ENXIO): say what it is rather than the errno.
    const kind = (error as NodeJS.ErrnoException).code === 'ENXIO' ? kindOfPath(path) : undefined;
    throw kind === undefined ? error : new NotRegularFile(kind);
  }
  try {
    const kind = notRegular(fstatSync(fd));
    if (kind !== undefined) throw new NotRegularFile(kind);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, MAX_CONFIG_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_CONFIG_BYTES) break;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function kindOfPath(path: string): string | undefined {
  try {
    return notRegular(statSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Reads a YAML or JSON config file: `.json` with JSON.parse (its errors give a position),
 * anything else as YAML. Any failure to read, decode or parse is a TopologyError naming the
 * file and the format it was read as, so the CLI reports it like any other bad input. A key
 * given twice in one mapping is an error in both formats: the last one would silently win.
 */
export function readConfigFile(path: string): Json {
  let bytes: Uint8Array;
  try {
    bytes = readCapped(path);
  } catch (error) {
    if (error instanceof NotRegularFile) {
      throw new TopologyError(path, [{ path: '--config', got: `${show(path)} (${error.kind})`, expected: 'a regular file (YAML or JSON)' }]);
    }
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (error as Error).message;
    throw new TopologyError(path, [{ path: '--config', got: `${show(path)} (${reason})`, expected: 'a readable YAML or JSON file' }]);
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new TopologyError(path, [{ path: '--config', got: `${show(path)} (more than ${MAX_CONFIG_BYTES} bytes)`, expected: `a YAML or JSON file of at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB` }]);
  }
  const text = decodeUtf8(path, bytes);
  const format = configFormat(path);
  let parsed: Json;
  let duplicate: string | undefined;
  try {
    if (format === 'JSON') {
      parsed = JSON.parse(text);
      duplicate = duplicateJsonKey(text);
    } else {
      const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
      if (doc.errors.length > 0) throw doc.errors[0];
      // A warning is a tag the yaml library does not know (`!foo 80`): it would drop the tag and keep the text.
      if (doc.warnings.length > 0) throw doc.warnings[0];
      duplicate = duplicateYamlKey(doc, text);
      parsed = doc.toJS({ maxAliasCount: 100 });
    }
  } catch (error) {
    const reason = withLineAndColumn((error as Error).message.split('\n')[0], text);
    throw new TopologyError(path, [{ path: '(file)', got: `unparsable ${format} (${reason})`, expected: format === 'JSON' ? 'a JSON mapping' : 'a YAML or JSON mapping' }]);
  }
  if (duplicate !== undefined) {
    throw new TopologyError(path, [{ path: '(file)', got: duplicate, expected: 'each key at most once in a mapping (the last one would silently replace the first)' }]);
  }
  const depth = depthOf(parsed);
  if (depth > MAX_CONFIG_DEPTH) {
    throw new TopologyError(path, [{ path: '(file)', got: `values nested more than ${MAX_CONFIG_DEPTH} levels deep`, expected: `at most ${MAX_CONFIG_DEPTH} levels (the schema needs 4)` }]);
  }
  return parsed ?? {};
}

/** How deeply lists and mappings nest in `value`, counted without recursion (so any depth is safe). */
function depthOf(value: Json): number {
  let deepest = 0;
  const stack: Array<[Json, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_CONFIG_DEPTH) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The first key that a JSON text repeats in one object, as "the key "k" twice at path", or
 * undefined. JSON.parse keeps the last value without a word; this scans the (already valid) text
 * once, without recursion.
 */
function duplicateJsonKey(text: string): string | undefined {
  type Frame = { kind: 'object'; path: string; keys: Set<string>; expectKey: boolean; key: string } | { kind: 'array'; path: string; index: number };
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.kind === 'array') return `${top.path}[${top.index}]`;
    return top.path === '' ? top.key : `${top.path}.${top.key}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{') stack.push({ kind: 'object', path: childPath(), keys: new Set(), expectKey: true, key: '' });
    else if (c === '[') stack.push({ kind: 'array', path: childPath(), index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top !== undefined) {
      if (top.kind === 'array') top.index++;
      else top.expectKey = true;
    } else if (c === ':' && top?.kind === 'object') top.expectKey = false;
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        const where = top.path === '' ? 'the top level' : top.path;
        if (top.keys.has(key)) return `the key ${JSON.stringify(key)} twice in ${where}`;
        top.keys.add(key);
        top.key = key;
      }
    }
  }
  return undefined;
}

/**
 * The first key a YAML mapping repeats once aliases are resolved and keys are read as the
 * strings they become (`*k` for an anchored `version`, `1` and `"1"`): the yaml library's
 * uniqueKeys compares the key nodes as written, and misses these.
 */
function duplicateYamlKey(doc: Document, text: string): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_, map) {
      const keys = new Set<string>();
      for (const pair of map.items) {
        const node = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
        if (!isScalar(node)) continue;
        const key = String(node.value);
        if (keys.has(key)) {
          const offset = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
          found = `the key ${JSON.stringify(key)} twice in one mapping (the second at line ${text.slice(0, offset).split('\n').length})`;
          return visit.BREAK;
        }
        keys.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/** JSON.parse says "at position N" (Node 20): add the line and column a person looks for. */
function withLineAndColumn(reason: string, text: string): string {
  const position = /at position (\d+)$/.exec(reason);
  if (!position) return reason;
  const before = text.slice(0, Number(position[1])).split('\n');
  return `${reason} (line ${before.length} column ${before[before.length - 1].length + 1})`;
}

export interface LoadTopologyOptions {
  /** Path of a YAML or JSON config file. @default no file: the default topology */
  readonly configPath?: string;
  /** Overrides applied after the file, e.g. from command-line flags. @default none */
  readonly overrides?: Json;
  /** What errors name as the config's origin. @default the config path, or "the built-in defaults" */
  readonly sourceName?: string;
}

/**
 * config file → shape check → deep merge over the schema's defaults → per-host defaults →
 * validation (rule tables) → derived facts. Throws a TopologyError listing every problem; returns an
 * immutable Topology that every renderer can trust.
 */
export function loadTopology(options: LoadTopologyOptions = {}): Topology {
  return topologyOf(loadConfig(options));
}

/** The Topology of a config that `loadConfig` returned: derived facts added, frozen. */
export function topologyOf(config: ResolvedConfig): Topology {
  return deepFreeze(resolveTopology(config));
}

/**
 * The validated, resolved config (every field present, per-host defaults applied) that loadTopology
 * resolves: what synth records beside its output, and what verify and drain compare with it.
 */
export function loadConfig(options: LoadTopologyOptions = {}): ResolvedConfig {
  const source = options.sourceName ?? options.configPath ?? 'the built-in defaults';
  const layers: Json[] = [];
  if (options.configPath !== undefined) layers.push(readConfigFile(options.configPath));
  if (options.overrides !== undefined) layers.push(options.overrides);

  let merged: Json = defaultsOf(CONFIG_SCHEMA);
  for (const layer of layers) {
    const problems = checkShape(CONFIG_SCHEMA, layer, 'partial');
    if (problems.length > 0) throw new TopologyError(source, problems);
    merged = deepMerge(merged, layer);
  }
  const config = fillDefaults(CONFIG_SCHEMA, merged, merged);
  // Cannot fail for a shape-checked config unless a schema default is missing; it types the value.
  if (!conforms(CONFIG_SCHEMA, config)) throw new TopologyError(source, checkShape(CONFIG_SCHEMA, config, 'complete'));
  const problems = [...validateConfig(config), ...singleGatewayFieldsBesidePair(layers, config)];
  if (problems.length > 0) throw new TopologyError(source, problems);
  return config;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
