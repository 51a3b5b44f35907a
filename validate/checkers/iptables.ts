/**
 * firewall.rules → `iptables-restore --test`, in a throwaway network namespace
 * (`unshare --net`), so the root namespace's tables are never read or written.
 * The namespace vanishes with the process. ip6tables.ts does the same for IPv6.
 */
import { readFileSync } from 'node:fs';
import { CheckResult, describeFailure, guarded, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which } from './common';

export const IPTABLES_TOOLS: readonly ToolNeed[] = [{ command: 'iptables-restore', provider: 'iptables' }, ...NAMESPACE_TOOLS];

/** `<restore> --test` on one ruleset file in a throwaway network namespace; never throws. */
export function checkRestoreTest(restoreCommand: 'iptables-restore' | 'ip6tables-restore', tools: readonly ToolNeed[], file: string, extraArgs: readonly string[] = []): CheckResult {
  const tool = `${[restoreCommand, '--test', ...extraArgs].join(' ')} (netns)`;
  return guarded(tool, () => {
    const missing = missingTools(tools);
    if (missing) return { ok: false, tool, detail: missing };
    const rules = readFileSync(file, 'utf8');
    const restore = which(restoreCommand)!;
    const version = run(restore, ['--version'], { timeoutMs: 10_000 }).stdout.trim();
    const result = run(which('unshare')!, ['--net', restore, '--test', ...extraArgs], { input: rules, timeoutMs: 30_000 });
    if (result.status === 0 && !result.error) {
      const tables = [...rules.matchAll(/^\*(\w+)/gm)].map((m) => m[1]);
      return { ok: true, tool, detail: `ruleset ok: tables ${tables.join(', ')} (${version})` };
    }
    return { ok: false, tool, detail: describeFailure(result) };
  });
}

/** `iptables-restore --test` on one ruleset file; never throws. */
export function checkIptablesRules(file: string): CheckResult {
  return checkRestoreTest('iptables-restore', IPTABLES_TOOLS, file);
}

/**
 * A load balancer's in-flight.rules or a paired gateway's handoff.rules: `iptables-restore --test --noflush`, as their setup loads them
 * (only its own chains of the mangle table, beside whatever else the host has).
 */
export function checkInFlightRules(file: string): CheckResult {
  return checkRestoreTest('iptables-restore', IPTABLES_TOOLS, file, ['--noflush']);
}
