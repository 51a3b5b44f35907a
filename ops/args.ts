import { isAbsolute, resolve } from 'node:path';

/** A command-line mistake: printed as "flag: got X, expected Y", exit code 2. */
export class UsageError extends Error {}

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

/** Parses `argv` strictly: an unknown flag, a missing value or a repeated single flag is a UsageError. */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  const known = [...spec.values, ...spec.switches, '--help'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '-h' || flag === '--help') { switches.add('--help'); continue; }
    if (spec.switches.includes(flag)) {
      if (inline !== undefined) throw new UsageError(`${flag}: got ${JSON.stringify(inline)}, expected no value`);
      switches.add(flag);
      continue;
    }
    if (!spec.values.includes(flag)) throw new UsageError(`${flag}: got an unknown flag, expected one of ${known.join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag}: got nothing, expected a value`);
    if (value.trim() === '') throw new UsageError(`${flag}: got ${JSON.stringify(value)}, expected a non-empty value`);
    const list = values.get(flag) ?? [];
    if (list.length > 0 && !spec.repeatable?.includes(flag)) throw new UsageError(`${flag}: got it twice, expected it once`);
    list.push(value);
    values.set(flag, list);
  }
  return { values, switches };
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
