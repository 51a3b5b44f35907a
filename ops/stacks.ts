import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { UsageError } from './args';

/** One stack of cdktf.out, as manifest.json describes it. */
export interface StackEntry {
  readonly name: string;
  /** Absolute path of the stack's directory (holds cdk.tf.json). */
  readonly dir: string;
  /** Stacks that must be applied before this one (cdktf's own `addDependency`). */
  readonly dependencies: readonly string[];
}

/** The stacks of a synthesized cdktf.out, in manifest order. */
export function readStacks(cdktfOut: string): StackEntry[] {
  const manifestPath = join(cdktfOut, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new UsageError(`--cdktf-out: got ${cdktfOut} without a manifest.json, expected synthesized stacks (run npm run synth first)`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { stacks: Record<string, { workingDirectory: string; dependencies?: string[] }> };
  return Object.entries(manifest.stacks).map(([name, stack]) => ({
    name, dir: resolve(cdktfOut, stack.workingDirectory), dependencies: stack.dependencies ?? [],
  }));
}

/** Stacks in apply order: each after its dependencies, ties by name. */
export function inDependencyOrder(stacks: readonly StackEntry[]): StackEntry[] {
  const ordered: StackEntry[] = [];
  const left = [...stacks].sort((a, b) => a.name.localeCompare(b.name));
  while (left.length > 0) {
    const index = left.findIndex((s) => s.dependencies.every((d) => ordered.some((o) => o.name === d) || !stacks.some((x) => x.name === d)));
    if (index < 0) throw new Error(`manifest.json: got a dependency cycle among ${left.map((s) => s.name).join(', ')}, expected none`);
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
