/**
 * What every checker shares: the result type, running an external program with a timeout
 * (never throwing), and finding a tool or naming the Debian package that brings it.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The outcome of one check; `detail` may have several lines, the first one says the most. */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
  /** How the file was checked, for the table's tool column. */
  readonly tool: string;
}

export { run } from '../../lib/kernel/process';
import type { RunResult } from '../../lib/kernel/process';
export type { RunResult } from '../../lib/kernel/process';

/** Directories searched for tools: PATH, then the sbin directories (nginx, keepalived, ip live there). */
function searchDirs(): string[] {
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...new Set([...fromPath, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])];
}

/** Absolute path of an executable, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of searchDirs()) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A tool a checker needs and what provides it. */
export interface ToolNeed {
  readonly command: string;
  /** The Debian package, or how else to get it. */
  readonly provider: string;
}

export const INSTALL_HINT = 'bash validate/install-tools.sh';

/** Why the tools are not usable (one line), or undefined when every tool is there. */
export function missingTools(needs: readonly ToolNeed[]): string | undefined {
  const missing = needs.filter((need) => which(need.command) === undefined);
  if (missing.length === 0) return undefined;
  return missing.map((m) => `${m.command} not found: install the Debian package ${m.provider}`).join('; ') + ` (${INSTALL_HINT})`;
}

/** Tools used by the checks that run in throwaway namespaces. */
export const NAMESPACE_TOOLS: readonly ToolNeed[] = [{ command: 'unshare', provider: 'util-linux' }];

/** Lines that say something, trimmed. */
export function meaningfulLines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
}

/** The failure detail of a run that did not exit 0: its output, or how it ended. */
export function describeFailure(result: RunResult, output: string = result.stderr + result.stdout): string {
  const lines = meaningfulLines(output);
  const ending = result.error ?? (result.signal ? `killed by ${result.signal}` : `exit status ${result.status}`);
  return lines.length > 0 ? [...lines, `(${ending})`].join('\n') : ending;
}

/** Runs `body` with a fresh temporary directory that is removed afterwards, whatever happens. */
export function withTempDir<T>(prefix: string, body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), `k8s-ha-edge-${prefix}-`));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Turns an unexpected exception into a failed check, so a checker never throws. */
export function guarded(tool: string, body: () => CheckResult): CheckResult {
  try {
    return body();
  } catch (error) {
    return { ok: false, tool, detail: `checker error: ${(error as Error).message}` };
  }
}
