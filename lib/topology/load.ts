import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONFIG_SCHEMA } from './config-schema';
import { show, TopologyError } from './errors';
import { checkShape, conforms, defaultsOf, fillDefaults } from './schema-dsl';
import { resolveTopology, Topology } from './topology';
import type { ResolvedConfig } from './config-schema';
import { validateConfig } from './validate';

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
 * Reads a YAML or JSON config file: `.json` with JSON.parse (its errors give a position),
 * anything else as YAML. Any failure to read, decode or parse is a TopologyError naming the
 * file and the format it was read as, so the CLI reports it like any other bad input.
 */
export function readConfigFile(path: string): Json {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new TopologyError(path, [{ path: '--config', got: `${show(path)} (${reason})`, expected: 'a readable YAML or JSON file' }]);
  }
  const text = decodeUtf8(path, bytes);
  const format = configFormat(path);
  try {
    const parsed = format === 'JSON' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
    return parsed ?? {};
  } catch (error) {
    const reason = withLineAndColumn((error as Error).message.split('\n')[0], text);
    throw new TopologyError(path, [{ path: '(file)', got: `unparsable ${format} (${reason})`, expected: format === 'JSON' ? 'a JSON mapping' : 'a YAML or JSON mapping' }]);
  }
}

/** JSON.parse says "at position N" (Node 20): add the line and column a person looks for. */
function withLineAndColumn(reason: string, text: string): string {
  const position = /at position (\d+)$/.exec(reason);
  if (!position) return reason;
  const before = text.slice(0, Number(position[1])).split('\n');
  return `${reason} (line ${before.length} column ${before[before.length - 1].length + 1})`;
}

export interface LoadTopologyOptions {
  /** Path of a YAML or JSON config file. @default no file: the seed's topology */
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
  const problems = validateConfig(config);
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
