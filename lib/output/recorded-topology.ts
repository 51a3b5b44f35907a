import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../topology/config-schema';
import { SINGLE_GATEWAY_FIELDS } from '../topology/validate';

/**
 * The topology a synth's cdktf.out was made from, recorded beside its stacks, so that the operator
 * commands that reach hosts by address (verify, drain) act on the site apply acts on, never on the
 * built-in topology of another lab. It holds the resolved config (every field, defaults applied)
 * less `provisioning`: where Terraform keeps state is not needed there, and it is the one section that
 * may carry a credential (synth refuses user:password in the http backend URL, but a token in its query
 * string is the operator's business). Every other field is an
 * address, a name, a number or a public host key.
 */
export const RECORDED_TOPOLOGY_FILE = 'topology.json';

/**
 * Bumped when the file's shape changes: a reader refuses a format it does not know. 2 added
 * `removedWorkers`; a format 1 file reads as one with none.
 */
const RECORDED_TOPOLOGY_FORMAT = 2;
const READABLE_FORMATS: readonly unknown[] = [1, RECORDED_TOPOLOGY_FORMAT];

/**
 * A worker the site had and the topology no longer has, with the teardown terraform still has to
 * run for it: `removed` blocks (Terraform's JSON syntax) for its teardown resources, each with the
 * destroy-time provisioners its resource had (the commands, and connections of fixed addresses, users
 * and host keys; the key's path is read from the resource's state). No secret: what the stack's own
 * resources hold.
 */
export interface RemovedWorker {
  readonly name: string;
  readonly removed: ReadonlyArray<{ readonly from: string; readonly [key: string]: unknown }>;
}

/** Sections of the resolved config that are never recorded (see above). */
export const UNRECORDED_SECTIONS = ['provisioning'] as const;

export type RecordedConfig = Omit<ResolvedConfig, (typeof UNRECORDED_SECTIONS)[number]>;

/** The part of a resolved config that is recorded, as plain JSON values. */
export function recordedConfig(config: ResolvedConfig): RecordedConfig {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const section of UNRECORDED_SECTIONS) delete copy[section];
  return copy as RecordedConfig;
}

/** Writes cdktf.out's topology.json into `dir`; returns its name (relative to `dir`). */
export function writeRecordedTopology(dir: string, config: ResolvedConfig, source: string, removedWorkers: readonly RemovedWorker[] = []): string {
  const record = {
    about: 'The topology this cdktf.out was synthesized from (provisioning left out), and the workers removed from it whose teardown the k8s stack still carries; '
      + 'npm run verify and npm run drain use it, and the next synth reads it. Written by synth: edit the config and synthesize again instead.',
    format: RECORDED_TOPOLOGY_FORMAT,
    synthesizedFrom: source,
    config: recordedConfig(config),
    removedWorkers,
  };
  writeFileSync(join(dir, RECORDED_TOPOLOGY_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  return RECORDED_TOPOLOGY_FILE;
}

/** A topology.json that cannot be used: "path: got X, expected Y". */
export class RecordedTopologyError extends Error {}

export interface RecordedTopology {
  /** The file read. */
  readonly path: string;
  /** The config file the synth read, or "the built-in defaults". */
  readonly source: string;
  /** The recorded config, as the file has it (loadConfig checks it like any config). */
  readonly config: Record<string, unknown>;
  /** The removed workers whose teardown the stack carries; none in a format 1 file. */
  readonly removedWorkers: readonly RemovedWorker[];
}

/** cdktf.out's recorded topology; undefined when there is none (no output, or one synthesized before it was recorded). */
export function readRecordedTopology(cdktfOut: string): RecordedTopology | undefined {
  const path = join(cdktfOut, RECORDED_TOPOLOGY_FILE);
  if (!existsSync(path)) return undefined;
  const expected = `expected the topology synth records (run npm run synth again)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RecordedTopologyError(`${path}: got unparsable JSON (${(error as Error).message.split('\n')[0]}), ${expected}`);
  }
  const record = parsed as { format?: unknown; synthesizedFrom?: unknown; config?: unknown; removedWorkers?: unknown };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RecordedTopologyError(`${path}: got ${JSON.stringify(parsed)}, ${expected}`);
  if (!READABLE_FORMATS.includes(record.format)) throw new RecordedTopologyError(`${path}: format: got ${JSON.stringify(record.format)}, expected ${READABLE_FORMATS.join(' or ')} (${expected})`);
  if (typeof record.config !== 'object' || record.config === null || Array.isArray(record.config)) {
    throw new RecordedTopologyError(`${path}: config: got ${JSON.stringify(record.config) ?? 'nothing'}, expected a mapping (${expected})`);
  }
  const removedWorkers = record.format === 1 ? [] : record.removedWorkers;
  const isRemoval = (r: unknown) => typeof r === 'object' && r !== null && typeof (r as { from?: unknown }).from === 'string';
  const isWorker = (w: unknown) => typeof w === 'object' && w !== null && typeof (w as RemovedWorker).name === 'string'
    && Array.isArray((w as RemovedWorker).removed) && (w as RemovedWorker).removed.every(isRemoval);
  if (!Array.isArray(removedWorkers) || !removedWorkers.every(isWorker)) {
    throw new RecordedTopologyError(`${path}: removedWorkers: got ${JSON.stringify(removedWorkers) ?? 'nothing'}, expected a list of {name, removed: [{from, ...}]} (${expected})`);
  }
  return {
    path, source: typeof record.synthesizedFrom === 'string' ? record.synthesizedFrom : 'an unnamed config', config: record.config as Record<string, unknown>,
    removedWorkers: removedWorkers as RemovedWorker[],
  };
}

/**
 * The recorded config as a config to load again (verify, drain, and synth's comparison with the site it
 * synthesized before). It is the resolved config, defaults included, and with a gateway pair that means the
 * one gateway's own fields too (name, OS family, SSH user, host key: their defaults), which a config may not
 * give beside a pair (each host of the pair has its own): they are left out, so a pair's record loads.
 */
export function recordedConfigToLoad(recorded: RecordedTopology): Record<string, unknown> {
  const gateway = recorded.config.gateway;
  if (typeof gateway !== 'object' || gateway === null) return recorded.config;
  const hosts = (gateway as Record<string, unknown>).hosts;
  if (!Array.isArray(hosts) || hosts.length === 0) return recorded.config;
  const ownFields = new Set<string>(SINGLE_GATEWAY_FIELDS);
  const pairGateway = Object.fromEntries(Object.entries(gateway).filter(([field]) => !ownFields.has(field)));
  return { ...recorded.config, gateway: pairGateway };
}

/** The first place where two JSON values differ, as a config path with both values; undefined when equal. */
export function firstDifference(got: unknown, expected: unknown, path = ''): { path: string; got: string; expected: string } | undefined {
  const show = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));
  if (typeof got === 'object' && got !== null && typeof expected === 'object' && expected !== null && Array.isArray(got) === Array.isArray(expected)) {
    if (Array.isArray(got) && Array.isArray(expected) && got.length !== expected.length) {
      return { path: path || '(root)', got: `${got.length} entries`, expected: `${expected.length}` };
    }
    const keys = [...new Set([...Object.keys(got), ...Object.keys(expected)])];
    for (const key of keys) {
      const at = Array.isArray(got) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      const found = firstDifference((got as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], at);
      if (found) return found;
    }
    return undefined;
  }
  return got === expected ? undefined : { path: path || '(root)', got: show(got), expected: show(expected) };
}
