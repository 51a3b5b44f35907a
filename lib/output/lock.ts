import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { besideTarget, OutputTargetError } from './ownership';

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

/**
 * A lock file with no pid in it that is older than this was not being written: a synth writes its
 * pid microseconds after creating the file. It is what a synth leaves when writing the pid failed
 * (a full disk) or the machine stopped in between, and it is taken over like a dead holder's.
 */
const UNWRITTEN_LOCK_GRACE_MS = 2_000;

/** True for a lock file without a pid that has stayed so for longer than UNWRITTEN_LOCK_GRACE_MS. */
function isAbandonedUnwritten(lockPath: string): boolean {
  try {
    return Date.now() - statSync(lockPath).mtimeMs > UNWRITTEN_LOCK_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * Errors that say the directory beside the target cannot hold synth's files (a read-only parent, a
 * file where a directory should be): bad output targets, reported like any bad input.
 */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EISDIR']);

function unwritable(flag: string, target: string, lockPath: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || !UNWRITABLE.has(code)) return error;
  return new OutputTargetError(`${flag}: got ${JSON.stringify(target)}, expected a directory whose parent synth can write `
    + `(creating ${lockPath} failed: ${code}). Nothing was changed`);
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

  /**
   * `targets` are output directories, each a path or the flag that named it with the path (the flag
   * names it in the error when the lock cannot be created).
   */
  static acquire(targets: ReadonlyArray<string | { readonly flag: string; readonly path: string }>, timeoutMs = 120_000): OutputLock {
    const named = new Map<string, { flag: string; target: string }>();
    for (const t of targets) {
      const { flag, path } = typeof t === 'string' ? { flag: 'output directory', path: t } : t;
      named.set(besideTarget(path, 'lock'), { flag, target: path });
    }
    const paths = [...named.keys()].sort();
    const held: string[] = [];
    const deadline = Date.now() + timeoutMs;
    try {
      for (const path of paths) {
        const { flag, target } = named.get(path)!;
        try {
          mkdirSync(dirname(path), { recursive: true });
        } catch (error) {
          // mkdir -p says EEXIST when a file stands where a directory of the path should be.
          const code = (error as NodeJS.ErrnoException).code;
          throw unwritable(flag, target, path, code === 'EEXIST' ? Object.assign(error as Error, { code: 'ENOTDIR' }) : error);
        }
        for (;;) {
          let fd: number | undefined;
          try {
            fd = openSync(path, 'wx', 0o644);
            writeSync(fd, `${process.pid}\n`);
            const written = fd;
            fd = undefined;
            closeSync(written);
            held.push(path);
            break;
          } catch (error) {
            if (fd !== undefined) {
              // Created but the pid could not be written (a full disk): remove it rather than leave an empty lock.
              closeSync(fd);
              rmSync(path, { force: true });
            }
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(flag, target, path, error);
          }
          // Synth only ever makes a regular file there: anything else is someone else's, and never removed.
          const stat = lstatSync(path, { throwIfNoEntry: false });
          if (stat !== undefined && !stat.isFile()) {
            throw new OutputTargetError(`${flag}: got ${JSON.stringify(target)}, whose lock path ${path} is ${stat.isSymbolicLink() ? 'a symbolic link' : stat.isDirectory() ? 'a directory' : 'not a regular file'} `
              + 'that synth did not make; expected no file there or a lock file of synth. Nothing was changed: move it away');
          }
          const holder = holderOf(path);
          // A lock being written has no pid yet: wait for it like a held one, for a moment.
          if (holder !== undefined ? !isAlive(holder) : isAbandonedUnwritten(path)) {
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
