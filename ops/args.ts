import { isAbsolute, resolve } from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';

/** A command-line mistake: printed as "flag: got X, expected Y", exit code 2. */
export class UsageError extends Error {}

/** A bad flag or config (UsageError, TopologyError): said on stderr, exit 2; anything else is rethrown. */
export function usageExit(error: unknown): 2 {
  if (!(error instanceof UsageError) && (error as Error).constructor.name !== 'TopologyError') throw error;
  console.error(`error: ${(error as Error).message}`);
  return 2;
}

/** The directory the user ran `npm run …` in (npm itself runs scripts in the package directory). */
export function userDir(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** A path as the user typed it, relative to where they ran the command. */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(userDir(), path);
}

export interface FlagSpec {
  /** Flags that take a value; repeatable ones collect every value. */
  readonly values: readonly string[];
  readonly repeatable?: readonly string[];
  /** Flags without a value. */
  readonly switches: readonly string[];
}

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, string[]>;
  readonly switches: ReadonlySet<string>;
}

/**
 * Parses `argv` strictly: an unknown flag, a missing value or a repeated single flag is a UsageError.
 *
 * node:util's parseArgs (strict) reads the flags; when it refuses them, the same arguments are read
 * again without strict only to name the flag, the value and what was expected in the message (its
 * own messages name neither). Two things parseArgs refuses were always accepted and still are: a
 * value that starts with one dash (`--timeout -5` is then refused by the range check, naming -5)
 * and `--help=…`.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const flag of spec.values) options[flag.slice(2)] = { type: 'string', multiple: spec.repeatable?.includes(flag) ?? false };
  for (const flag of spec.switches) options[flag.slice(2)] = { type: 'boolean' };
  const config = { args: [...argv], options, tokens: true } as const;
  let tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>;
  try {
    tokens = parseArgs({ ...config, strict: true, allowPositionals: false }).tokens;
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // A word that is not a flag becomes a positional token here, refused below as an unknown flag.
    tokens = parseArgs({ ...config, strict: false, allowPositionals: true }).tokens;
  }

  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  const known = [...spec.values, ...spec.switches, '--help'];
  for (const token of tokens) {
    // What the user typed for this token: `-config` stays one word, not the short flags -c -o -n…
    const arg = argv[token.index];
    const typed = arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (token.kind !== 'option' || !(token.rawName === '-h' || known.includes(token.rawName))) {
      throw new UsageError(`${typed}: got an unknown flag, expected one of ${known.join(', ')}`);
    }
    const flag = token.rawName;
    if (flag === '-h' || flag === '--help') {
      switches.add('--help');
      continue;
    }
    if (spec.switches.includes(flag)) {
      if (token.value !== undefined) throw new UsageError(`${flag}: got ${JSON.stringify(token.value)}, expected no value`);
      switches.add(flag);
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('--'))) throw new UsageError(`${flag}: got nothing, expected a value`);
    if (value.trim() === '') throw new UsageError(`${flag}: got ${JSON.stringify(value)}, expected a non-empty value`);
    const list = values.get(flag) ?? [];
    if (list.length > 0 && !spec.repeatable?.includes(flag)) throw new UsageError(`${flag}: got it twice, expected it once`);
    list.push(value);
    values.set(flag, list);
  }
  return { values, switches };
}

/**
 * parseArgs' refusals of the arguments, told by their ERR_PARSE_ARGS_ code (not `instanceof
 * TypeError`: under jest the test's TypeError is another realm's than node's).
 */
function isParseArgsError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}

/** The one value of a flag, or undefined. */
export function valueOf(flags: ParsedFlags, flag: string): string | undefined {
  return flags.values.get(flag)?.[0];
}

/** A positive integer flag. */
export function integerOf(flags: ParsedFlags, flag: string, fallback: number, min = 1, max = 3600): number {
  const raw = valueOf(flags, flag);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: got ${JSON.stringify(raw)}, expected an integer in ${min}-${max}`);
  return n;
}
