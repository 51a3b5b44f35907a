/**
 * firewall6.rules → `ip6tables-restore --test`, in a throwaway network namespace, like the
 * IPv4 ruleset (iptables.ts): the root namespace's tables are never read or written.
 */
import { CheckResult, NAMESPACE_TOOLS, ToolNeed } from './common';
import { checkRestoreTest } from './iptables';

export const IP6TABLES_TOOLS: readonly ToolNeed[] = [{ command: 'ip6tables-restore', provider: 'iptables' }, ...NAMESPACE_TOOLS];

/** `ip6tables-restore --test` on one ruleset file; never throws. */
export function checkIp6tablesRules(file: string): CheckResult {
  return checkRestoreTest('ip6tables-restore', IP6TABLES_TOOLS, file);
}
