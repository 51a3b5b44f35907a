/**
 * *.sh → shellcheck. Every finding is reported; only warnings and errors fail the check
 * (`-S warning` semantics); info and style notes pass and are listed in the detail.
 */
import { CheckResult, describeFailure, guarded, missingTools, run, ToolNeed, which } from './common';

export const SHELLCHECK_TOOLS: readonly ToolNeed[] = [{ command: 'shellcheck', provider: 'shellcheck' }];
const TOOL = 'shellcheck -S warning';
const FAILING = new Set(['warning', 'error']);

export interface ShellcheckFinding {
  readonly line: number;
  readonly column: number;
  readonly severity: string;
  readonly message: string;
}

/** Findings from shellcheck's gcc format: "file:line:col: severity: message [SCnnnn]". */
function parseGcc(output: string, file: string): ShellcheckFinding[] | undefined {
  const findings: ShellcheckFinding[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(`${file}:`)) return undefined;
    const match = /^(\d+):(\d+): (\w+): (.*)$/.exec(line.slice(file.length + 1));
    if (!match) return undefined;
    findings.push({ line: Number(match[1]), column: Number(match[2]), severity: match[3], message: match[4] });
  }
  return findings;
}

/** shellcheck on one script; never throws. */
export function checkShellScript(file: string): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(SHELLCHECK_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    const shellcheck = which('shellcheck')!;
    // Exit 0: nothing found, 1: findings; anything else (bad file, bad options) is an error.
    const result = run(shellcheck, ['--severity=style', '--format=gcc', file], { timeoutMs: 60_000 });
    const findings = result.status === 0 || result.status === 1 ? parseGcc(result.stdout, file) : undefined;
    if (!findings) return { ok: false, tool: TOOL, detail: describeFailure(result) };
    const describe = (f: ShellcheckFinding) => `line ${f.line}:${f.column}: ${f.severity}: ${f.message}`;
    const failing = findings.filter((f) => FAILING.has(f.severity));
    const notes = findings.filter((f) => !FAILING.has(f.severity));
    if (failing.length > 0) {
      // The detail ends with shellcheck's own (tty) output, so the report quotes it exactly.
      const tty = run(shellcheck, ['--severity=warning', '--format=tty', '--color=never', file], { timeoutMs: 60_000 });
      return { ok: false, tool: TOOL, detail: [...failing.map(describe), '', tty.stdout.trim()].join('\n') };
    }
    if (notes.length > 0) return { ok: true, tool: TOOL, detail: `no warnings; ${notes.length} info/style note(s): ${notes.map(describe).join('; ')}` };
    return { ok: true, tool: TOOL, detail: 'no findings' };
  });
}
