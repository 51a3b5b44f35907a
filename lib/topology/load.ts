import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONFIG_SCHEMA } from './config-schema';
import { show, TopologyError } from './errors';
import { checkShape, conforms, defaultsOf, fillDefaults } from './schema-dsl';
import { resolveTopology, Topology } from './topology';
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

/**
 * Reads a YAML or JSON config file (JSON is YAML). Any failure to read or parse
 * is a TopologyError naming the file, so the CLI reports it like any other bad input.
 */
export function readConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new TopologyError(path, [{ path: '--config', got: `${show(path)} (${reason})`, expected: 'a readable YAML or JSON file' }]);
  }
  try {
    const parsed = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
    return parsed ?? {};
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new TopologyError(path, [{ path: '(file)', got: `unparsable YAML (${reason})`, expected: 'a YAML or JSON mapping' }]);
  }
}

export interface LoadTopologyOptions {
  /** Path of a YAML or JSON config file. @default no file: the seed's topology */
  readonly configPath?: string;
  /** Overrides applied after the file, e.g. from command-line flags. @default none */
  readonly overrides?: Json;
}

/**
 * config file → shape check → deep merge over the schema's defaults → per-host defaults →
 * validation (rule tables) → derived facts. Throws a TopologyError listing every problem; returns an
 * immutable Topology that every renderer can trust.
 */
export function loadTopology(options: LoadTopologyOptions = {}): Topology {
  const source = options.configPath ?? 'the built-in defaults';
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
  return deepFreeze(resolveTopology(config));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
