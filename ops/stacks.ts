import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { StackName } from '../lib/plan/bundle';
import { UsageError } from './args';

/** One stack of cdktf.out, as manifest.json describes it. */
export interface StackEntry {
  readonly name: string;
  /** Absolute path of the stack's directory (holds cdk.tf.json). */
  readonly dir: string;
  /** Stacks that must be applied before this one (cdktf's own `addDependency`). */
  readonly dependencies: readonly string[];
}

/** The stacks synth writes: the only names a manifest may give (terraform runs in each one's directory). */
const KNOWN_STACKS: readonly string[] = Object.values(StackName);

/**
 * The stacks of a synthesized cdktf.out, in manifest order. The manifest decides where terraform
 * runs, so it is checked like any input: known stack names only, each working directory an existing
 * directory inside the output tree (symbolic links resolved), dependencies among the stacks. A
 * manifest that fails is a UsageError naming the field, never a stack trace.
 */
export function readStacks(cdktfOut: string): StackEntry[] {
  const manifestPath = join(cdktfOut, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new UsageError(`--cdktf-out: got ${cdktfOut} without a manifest.json, expected synthesized stacks (run npm run synth first)`);
  }
  const again = 'run npm run synth again';
  const bad = (field: string, got: string, expected: string) => new UsageError(`${manifestPath}: ${field}: got ${got}, expected ${expected} (${again})`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new UsageError(`${manifestPath}: got unparsable JSON (${(error as Error).message.split('\n')[0]}), expected cdktf's stack manifest (${again})`);
  }
  const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const stacks = isMapping(manifest) ? manifest.stacks : undefined;
  if (!isMapping(stacks) || Object.keys(stacks).length === 0) {
    throw bad('stacks', JSON.stringify(stacks) ?? 'nothing', `a mapping of stack names (${KNOWN_STACKS.join(', ')}) to stacks`);
  }
  const root = realpathSync(cdktfOut);
  return Object.entries(stacks).map(([name, stack]) => {
    if (!KNOWN_STACKS.includes(name)) throw bad('stacks', JSON.stringify(name), `a stack synth writes: one of ${KNOWN_STACKS.join(', ')}`);
    if (!isMapping(stack)) throw bad(`stacks.${name}`, JSON.stringify(stack), 'a mapping');
    const workingDirectory = stack.workingDirectory;
    if (typeof workingDirectory !== 'string' || workingDirectory === '') throw bad(`stacks.${name}.workingDirectory`, JSON.stringify(workingDirectory) ?? 'nothing', 'a directory inside the output tree');
    const dir = resolve(cdktfOut, workingDirectory);
    const real = existsSync(dir) && statSync(dir).isDirectory() ? realpathSync(dir) : undefined;
    const inside = (path: string, parent: string) => {
      const rel = relative(parent, path);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    };
    if (!inside(dir, resolve(cdktfOut)) || real === undefined || !inside(real, root)) {
      throw bad(`stacks.${name}.workingDirectory`, JSON.stringify(workingDirectory), `an existing directory inside ${cdktfOut}`);
    }
    const dependencies = stack.dependencies ?? [];
    if (!Array.isArray(dependencies) || dependencies.some((d) => typeof d !== 'string' || !(d in stacks) || d === name)) {
      throw bad(`stacks.${name}.dependencies`, JSON.stringify(dependencies), `a list of the other stacks (${Object.keys(stacks).filter((n) => n !== name).join(', ')})`);
    }
    return { name, dir, dependencies: dependencies as string[] };
  });
}

/** Stacks in apply order: each after its dependencies, ties by name. */
export function inDependencyOrder(stacks: readonly StackEntry[]): StackEntry[] {
  const ordered: StackEntry[] = [];
  const left = [...stacks].sort((a, b) => a.name.localeCompare(b.name));
  while (left.length > 0) {
    const index = left.findIndex((s) => s.dependencies.every((d) => ordered.some((o) => o.name === d) || !stacks.some((x) => x.name === d)));
    if (index < 0) throw new UsageError(`manifest.json: got a dependency cycle among ${left.map((s) => s.name).join(', ')}, expected none (run npm run synth again)`);
    ordered.push(...left.splice(index, 1));
  }
  return ordered;
}

/** The stacks named by --stacks (all when undefined), in dependency order. */
export function selectStacks(all: readonly StackEntry[], wanted: string | undefined): StackEntry[] {
  if (wanted === undefined) return inDependencyOrder(all);
  const names = wanted.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--stacks: got ${JSON.stringify(wanted)}, expected a comma-separated list of ${all.map((s) => s.name).join(', ')}`);
  }
  return inDependencyOrder(all.filter((s) => names.includes(s.name)));
}

/**
 * What must finish before each stack may start: its dependencies for apply, the stacks that depend
 * on it for destroy. Only stacks in `selected` count: the others are taken as they are.
 */
export function prerequisites(selected: readonly StackEntry[], direction: 'apply' | 'destroy'): Map<string, string[]> {
  const names = new Set(selected.map((s) => s.name));
  const result = new Map<string, string[]>(selected.map((s) => [s.name, []]));
  for (const stack of selected) {
    for (const dep of stack.dependencies.filter((d) => names.has(d))) {
      if (direction === 'apply') result.get(stack.name)!.push(dep);
      else result.get(dep)!.push(stack.name);
    }
  }
  return result;
}

/** Newest modification time under `paths` (files or directories), with the file that has it. */
function newest(paths: readonly string[]): { path: string; mtimeMs: number } | undefined {
  let found: { path: string; mtimeMs: number } | undefined;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const files = statSync(path).isDirectory() ? listFiles(path).map((f) => join(path, f)) : [path];
    for (const file of files) {
      const mtimeMs = statSync(file).mtimeMs;
      if (!found || mtimeMs > found.mtimeMs) found = { path: file, mtimeMs };
    }
  }
  return found;
}

const repo = resolve(__dirname, '..');
/** The code a synth's output depends on. */
const CODE = ['main.ts', 'lib', 'constructs', 'package.json', 'package-lock.json'].map((p) => join(repo, p));

/**
 * Refuses stale output: the stacks are older than the config or the code that makes them. Apply
 * does not re-synth by itself (synth's flags, e.g. --resource, are the user's to choose); it says
 * what to run instead.
 */
export function checkFresh(cdktfOut: string, configPath: string | undefined): void {
  const manifest = join(cdktfOut, 'manifest.json');
  if (!existsSync(manifest)) throw new UsageError(`--cdktf-out: got ${cdktfOut} without a manifest.json, expected synthesized stacks (run npm run synth first)`);
  const synthesizedAt = statSync(manifest).mtimeMs;
  const inputs = newest([...(configPath ? [configPath] : []), ...CODE]);
  if (inputs && inputs.mtimeMs > synthesizedAt) {
    const what = relative(repo, inputs.path).startsWith('..') ? inputs.path : relative(repo, inputs.path);
    const synth = `npm run synth${configPath ? ` -- --config ${configPath}` : ''}`;
    throw new UsageError(`${cdktfOut}: got stacks synthesized at ${new Date(synthesizedAt).toISOString()}, `
      + `expected them newer than ${what} (changed ${new Date(inputs.mtimeMs).toISOString()}); run ${synth} first`);
  }
}
