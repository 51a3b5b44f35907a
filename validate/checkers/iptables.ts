/**
 * firewall.rules → `iptables-restore --test`, in a throwaway network namespace
 * (`unshare --net`), so the root namespace's tables are never read or written.
 * The namespace vanishes with the process.
 */
import { readFileSync } from 'node:fs';
import { CheckResult, describeFailure, guarded, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which } from './common';

export const IPTABLES_TOOLS: readonly ToolNeed[] = [{ command: 'iptables-restore', provider: 'iptables' }, ...NAMESPACE_TOOLS];
const TOOL = 'iptables-restore --test (netns)';

/** `iptables-restore --test` on one ruleset file; never throws. */
export function checkIptablesRules(file: string): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(IPTABLES_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    const rules = readFileSync(file, 'utf8');
    const restore = which('iptables-restore')!;
    const version = run(restore, ['--version'], { timeoutMs: 10_000 }).stdout.trim();
    const result = run(which('unshare')!, ['--net', restore, '--test'], { input: rules, timeoutMs: 30_000 });
    if (result.status === 0 && !result.error) {
      const tables = [...rules.matchAll(/^\*(\w+)/gm)].map((m) => m[1]);
      return { ok: true, tool: TOOL, detail: `ruleset ok: tables ${tables.join(', ')} (${version})` };
    }
    return { ok: false, tool: TOOL, detail: describeFailure(result) };
  });
}
