import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { besideTarget } from './ownership';

/** Raised when another synth holds an output longer than we are willing to wait. */
export class OutputBusyError extends Error {}

/** True while a process with this pid exists (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function holderOf(lockPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Exclusive use of some output directories, so that concurrent synths into the same
 * directories run one after the other instead of mixing their trees. A lock file
 * `.<name>.lock` beside each target holds the owner's pid; one whose owner is gone
 * (killed, crashed) is taken over. Locks are taken in path order, so two synths that
 * share only some targets cannot deadlock.
 */
export class OutputLock {
  private constructor(private readonly paths: readonly string[]) {}

  static acquire(targets: readonly string[], timeoutMs = 120_000): OutputLock {
    const paths = [...new Set(targets.map((t) => besideTarget(t, 'lock')))].sort();
    const held: string[] = [];
    const deadline = Date.now() + timeoutMs;
    try {
      for (const path of paths) {
        mkdirSync(dirname(path), { recursive: true });
        for (;;) {
          try {
            const fd = openSync(path, 'wx', 0o644);
            writeSync(fd, `${process.pid}\n`);
            closeSync(fd);
            held.push(path);
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          }
          const holder = holderOf(path);
          // A lock being written has no pid yet: wait for it like a held one.
          if (holder !== undefined && !isAlive(holder)) {
            rmSync(path, { force: true });
            continue;
          }
          if (Date.now() > deadline) {
            throw new OutputBusyError(`${path}: another synth (pid ${holder ?? 'unknown'}) has been writing this output for over ${timeoutMs / 1000} s; ` +
              'wait for it to end, or remove the lock file if that process is not a synth');
          }
          sleepMs(50);
        }
      }
    } catch (error) {
      new OutputLock(held).release();
      throw error;
    }
    return new OutputLock(paths);
  }

  release(): void {
    for (const path of this.paths) {
      if (holderOf(path) === process.pid) unlinkSync(path);
    }
  }
}

/**
 * Removes staging directories (`.<name>.staging-<pid>-…`) left beside `target` by synths
 * that died before they could clean up (SIGKILL, a crash, a power cut). Only those whose
 * process is gone: the name says which synth made each one.
 */
export function removeAbandonedStaging(target: string): string[] {
  const parent = dirname(resolve(target));
  const pattern = new RegExp(`^\\.${escape(basename(resolve(target)))}\\.staging-(\\d+)-`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (match && Number(match[1]) !== process.pid && !isAlive(Number(match[1]))) {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
