import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG, defaultPage } from './defaults';
import { show, TopologyError } from './errors';
import { checkShape, CONFIG_SHAPE } from './shape';
import { HostDefaults, Topology } from './types';
import { validateTopology } from './validate';

type Json = unknown;

function isMapping(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge: mappings merge key by key, lists and scalars in `override` replace. */
export function deepMerge(base: Json, override: Json): Json {
  if (!isMapping(base) || !isMapping(override)) return override;
  const merged: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return merged;
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

type AnyHost = Record<string, Json>;

/** Gives every host the per-host fields it left out, from `hostDefaults`. */
function withHostDefaults(host: AnyHost, defaults: HostDefaults, withInterface: boolean): AnyHost {
  return {
    osFamily: defaults.osFamily,
    sshUser: defaults.sshUser,
    ...(withInterface ? { interface: defaults.interface } : {}),
    ...host,
  };
}

/** Turns a shape-checked, merged config into a Topology (still to be validated). */
function resolve(merged: Record<string, Json>): Topology {
  const config = merged as typeof DEFAULT_CONFIG & Record<string, any>;
  const hostDefaults = config.hostDefaults as HostDefaults;
  const internal = (host: AnyHost) => withHostDefaults(host, hostDefaults, true);
  return {
    networks: config.networks,
    controlPlane: internal(config.controlPlane),
    workers: (config.workers as AnyHost[]).map((worker) => ({
      page: defaultPage(String(worker.name)),
      ...internal(worker),
    })),
    loadBalancer: { ...config.loadBalancer, hosts: (config.loadBalancer.hosts as AnyHost[]).map(internal) },
    gateway: withHostDefaults(config.gateway, hostDefaults, false),
    client: internal(config.client),
    kubernetes: config.kubernetes,
    workload: config.workload,
    provisioning: config.provisioning,
  } as unknown as Topology;
}

export interface LoadTopologyOptions {
  /** Path of a YAML or JSON config file. @default no file: the seed's topology */
  readonly configPath?: string;
  /** Overrides applied after the file, e.g. from command-line flags. @default none */
  readonly overrides?: Json;
}

/**
 * config file → shape check → deep merge over the defaults → per-host defaults →
 * semantic validation. Throws a TopologyError listing every problem; returns an
 * immutable Topology that every renderer can trust.
 */
export function loadTopology(options: LoadTopologyOptions = {}): Topology {
  const source = options.configPath ?? 'the built-in defaults';
  const layers: Json[] = [];
  if (options.configPath !== undefined) layers.push(readConfigFile(options.configPath));
  if (options.overrides !== undefined) layers.push(options.overrides);

  let merged: Json = DEFAULT_CONFIG;
  for (const layer of layers) {
    const problems = checkShape(layer, CONFIG_SHAPE);
    if (problems.length > 0) throw new TopologyError(source, problems);
    merged = deepMerge(merged, layer);
  }
  return topologyFrom(merged as Record<string, Json>, source);
}

/** Resolves and validates an already merged config object. */
export function topologyFrom(merged: Record<string, Json>, source = 'the given config'): Topology {
  const topology = resolve(merged);
  const problems = validateTopology(topology);
  if (problems.length > 0) throw new TopologyError(source, problems);
  return deepFreeze(topology);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
