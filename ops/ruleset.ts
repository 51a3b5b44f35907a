/**
 * Protocols the generated rules name by number (a host without /etc/protocols has no name for them)
 * and iptables-save prints by name where /etc/protocols has one.
 */
const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { vrrp: '112' };

/**
 * A ruleset as iptables-save prints it, without comments and counters, table by table in name
 * order (iptables-save lists tables in the kernel's order, not the file's), protocols by number:
 * what two rulesets are compared by. Only `tables` count when given.
 */
export function normalizeRuleset(text: string, tables?: ReadonlySet<string>): string {
  const byTable = new Map<string, string[]>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) table = line.slice(1);
    if (tables && !tables.has(table)) continue;
    const numbered = line.replace(/ -p ([a-z]+)(?= )/, (whole, name: string) => (PROTOCOL_NUMBERS[name] ? ` -p ${PROTOCOL_NUMBERS[name]}` : whole));
    byTable.set(table, [...(byTable.get(table) ?? []), numbered.replace(/\s*\[\d+:\d+\]$/, '')]);
  }
  return [...byTable.keys()].sort().map((t) => byTable.get(t)!.join('\n')).join('\n');
}
