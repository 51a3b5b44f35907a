/**
 * How a host's live ruleset (iptables-save, read into the model) differs from the generated one, as
 * model differences: a table or chain missing or not generated, a policy changed, a rule missing or
 * not generated in a chain. Both sides are compared in canonical form (lib/formats/iptables-save.ts).
 */
import { canonicalRuleset } from '../lib/formats/iptables-save';
import { Chain, Policy, printRule, Rule, Ruleset, Table } from '../lib/formats/ruleset';

export type RulesetDifference =
  | { readonly kind: 'table missing'; readonly table: string }
  | { readonly kind: 'chain missing' | 'chain not generated'; readonly table: string; readonly chain: string }
  | { readonly kind: 'policy changed'; readonly table: string; readonly chain: string; readonly want?: Policy; readonly got?: Policy }
  /** `position`: the rule's place in its chain (1 first), in the generated chain for a missing rule, on the host for one not generated. */
  | { readonly kind: 'rule missing' | 'rule not generated'; readonly table: string; readonly chain: string; readonly position: number; readonly rule: Rule };

/** A value as text with every object's keys sorted: two rules are the same rule when their keys are equal. */
function key(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(key).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${key(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The rules of both chains that the other lacks, in order: what is left out of their longest common subsequence. */
function ruleDifferences(table: string, want: Chain, got: Chain): RulesetDifference[] {
  const a = want.rules.map(key);
  const b = got.rules.map(key);
  // common[i][j]: the longest common subsequence of a[i..] and b[j..] (chains are tens of rules long).
  const common = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
  }
  const out: RulesetDifference[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && common[i + 1][j] >= common[i][j + 1])) {
      out.push({ kind: 'rule missing', table, chain: want.name, position: i + 1, rule: want.rules[i] });
      i++;
    } else {
      out.push({ kind: 'rule not generated', table, chain: got.name, position: j + 1, rule: got.rules[j] });
      j++;
    }
  }
  return out;
}

/**
 * What differs between the generated ruleset `want` and a host's `got` (parsed with parseIptablesSave),
 * table by table in `want`: a table the host has beside them is not compared.
 */
export function rulesetDifferences(want: Ruleset, got: Ruleset): RulesetDifference[] {
  const w = canonicalRuleset(want);
  const g = canonicalRuleset(got);
  return w.tables.flatMap((table): RulesetDifference[] => {
    const live: Table | undefined = g.tables.find((t) => t.name === table.name);
    if (live === undefined) return [{ kind: 'table missing', table: table.name }];
    return [
      ...table.chains.flatMap((chain): RulesetDifference[] => {
        const other = live.chains.find((c) => c.name === chain.name);
        if (other === undefined) return [{ kind: 'chain missing', table: table.name, chain: chain.name }];
        return [
          ...(chain.policy === other.policy ? [] : [{ kind: 'policy changed' as const, table: table.name, chain: chain.name, want: chain.policy, got: other.policy }]),
          ...ruleDifferences(table.name, chain, other),
        ];
      }),
      ...live.chains.filter((c) => !table.chains.some((x) => x.name === c.name)).map((c) => ({ kind: 'chain not generated' as const, table: table.name, chain: c.name })),
    ];
  });
}

/** One difference for a person: the rule in iptables-save's words, which a reader can search the host's output for. */
export function describeDifference(d: RulesetDifference): string {
  switch (d.kind) {
    case 'table missing':
      return `${d.table}: table missing`;
    case 'chain missing':
    case 'chain not generated':
      return `${d.table} ${d.chain}: ${d.kind}`;
    case 'policy changed':
      return `${d.table} ${d.chain}: policy ${d.got ?? '-'}, expected ${d.want ?? '-'}`;
    default:
      return `${d.table} ${d.chain} rule ${d.position} ${d.kind === 'rule missing' ? 'missing' : 'not generated'}: ${printRule(d.chain, d.rule)}`;
  }
}
