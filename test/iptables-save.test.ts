/**
 * iptables-save read back into the Ruleset model (lib/formats/iptables-save.ts) and verify's model
 * comparison (ops/ruleset.ts). The round trips load each generated ruleset with the real
 * iptables-restore in a network namespace of their own (`unshare -n`: root only, never the machine's
 * own tables) and read what iptables-save prints of it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalRuleset, IptablesSaveError, parseIptablesSave } from '../lib/formats/iptables-save';
import { printIptablesRestore, Rule, Ruleset } from '../lib/formats/ruleset';
import { gatewayRuleset, gatewayRuleset6 } from '../lib/gateway/firewall';
import { handoffRuleset } from '../lib/gateway/handoff';
import { peerOf } from '../lib/gateway/pair';
import { inFlightRuleset } from '../lib/load-balancer/in-flight';
import { describeDifference, rulesetDifferences } from '../ops/ruleset';
import { GATEWAY_PAIR_CONFIG, renderFixture } from './render-fixture';

const examples = join(__dirname, '..', 'examples');
const asRoot = process.getuid?.() === 0 ? test : test.skip;

/** `script` run by sh in a network namespace of its own (nothing it does reaches the machine's tables), `input` on stdin. */
function inNamespace(script: string, input: string): string {
  const run = spawnSync('unshare', ['-n', 'sh', '-c', script], { input, encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(`${script}: ${run.stderr}`);
  expect(run.stderr).toBe('');
  return run.stdout;
}

/** What iptables-save (ip6tables-save for `family` 6) prints after the ruleset is loaded, and any `then` commands run. */
function roundTrip(ruleset: Ruleset, family: 4 | 6 = 4, options: { noflush?: boolean; then?: string } = {}): string {
  const tool = family === 6 ? 'ip6tables' : 'iptables';
  return inNamespace(`${tool}-restore${options.noflush ? ' --noflush' : ''} && ${options.then ?? 'true'} && ${tool}-save`, printIptablesRestore(ruleset));
}

/** Every topology the round trips cover: the default one and each example (one of them a gateway pair). */
const TOPOLOGIES: ReadonlyArray<[string, ReturnType<typeof renderFixture>['topology']]> = [
  ['the default topology', renderFixture().topology],
  ...readdirSync(examples).filter((f) => f.endsWith('.yaml')).sort().map((f): [string, ReturnType<typeof renderFixture>['topology']] => [`examples/${f}`, renderFixture({ configPath: join(examples, f) }).topology]),
];

describe('GIVEN each generated ruleset loaded with iptables-restore and read back with iptables-save', () => {
  test('the examples include a gateway pair (both gateways are covered below)', () => {
    expect(TOPOLOGIES.map(([name]) => name)).toContain('examples/gateway-pair.yaml');
    expect(TOPOLOGIES.find(([name]) => name === 'examples/gateway-pair.yaml')![1].gateway.hosts).toHaveLength(2);
  });

  describe.each(TOPOLOGIES)('%s', (_name, t) => {
    asRoot.each(t.gateway.hosts.map((h) => [h.name, h] as const))('THEN %s\'s IPv4 ruleset parses back to the model, with no difference', (_host, host) => {
      const model = gatewayRuleset(t, host);
      const parsed = parseIptablesSave(roundTrip(model));
      expect(parsed).toEqual(canonicalRuleset(model));
      expect(rulesetDifferences(model, parsed)).toEqual([]);
    });

    asRoot('THEN the IPv6 ruleset parses back to the model, with no difference', () => {
      const model = gatewayRuleset6(t);
      const parsed = parseIptablesSave(roundTrip(model, 6));
      expect(parsed).toEqual(canonicalRuleset(model));
      expect(rulesetDifferences(model, parsed)).toEqual([]);
    });
  });

  /** The chains of `parsed` that `model` names: a ruleset loaded with --noflush sits beside the table's built-in chains. */
  const only = (model: Ruleset, parsed: Ruleset): Ruleset => ({
    tables: parsed.tables.map((table) => ({ ...table, chains: table.chains.filter((c) => model.tables.some((m) => m.chains.some((x) => x.name === c.name))) })),
  });

  asRoot('THEN the gateway pair\'s handoff chains and every load balancer\'s in-flight chains parse back too (TEE, TTL, hashlimit, socket)', () => {
    const { topology: t } = renderFixture({ configPath: GATEWAY_PAIR_CONFIG });
    const models = [
      ...t.gateway.hosts.map((h) => handoffRuleset(h, peerOf(t, h)!)),
      ...t.loadBalancer.hosts.flatMap((lb) => [inFlightRuleset(t, lb, 'holder'), inFlightRuleset(t, lb, 'standby')]),
    ];
    for (const model of models) expect(only(model, parseIptablesSave(roundTrip(model, 4, { noflush: true })))).toEqual(canonicalRuleset(model));
  });
});

describe('GIVEN a gateway ruleset changed on the host after it was loaded', () => {
  const { topology: t } = renderFixture();
  const model = gatewayRuleset(t);
  const ssh = (port: number): Rule => ({ source: t.networks.internal, inInterface: t.gateway.inside.interface, tcpDestinationPort: port, target: { jump: 'ACCEPT' } });

  asRoot('WHEN a rule is replaced THEN the difference is that rule, missing and not generated, at its place in its chain', () => {
    const saved = roundTrip(model, 4, { then: `iptables -R INPUT 3 -s ${t.networks.internal} -i ${t.gateway.inside.interface} -p tcp --dport 2222 -j ACCEPT` });
    const differences = rulesetDifferences(model, parseIptablesSave(saved));
    expect(differences).toEqual([
      { kind: 'rule missing', table: 'filter', chain: 'INPUT', position: 3, rule: ssh(22) },
      { kind: 'rule not generated', table: 'filter', chain: 'INPUT', position: 3, rule: ssh(2222) },
    ]);
    expect(differences.map(describeDifference)).toEqual([
      `filter INPUT rule 3 missing: -A INPUT -s ${t.networks.internal} -i ${t.gateway.inside.interface} -p tcp -m tcp --dport 22 -j ACCEPT`,
      `filter INPUT rule 3 not generated: -A INPUT -s ${t.networks.internal} -i ${t.gateway.inside.interface} -p tcp -m tcp --dport 2222 -j ACCEPT`,
    ]);
  });

  asRoot('WHEN a rule is added, a policy changed, a chain added and the nat table flushed of its DNAT THEN each is its own difference', () => {
    const saved = roundTrip(model, 4, { then: 'iptables -A FORWARD -j ACCEPT && iptables -P FORWARD ACCEPT && iptables -N EXTRA && iptables -t nat -D PREROUTING 1' });
    const differences = rulesetDifferences(model, parseIptablesSave(saved));
    const dnat = model.tables.find((x) => x.name === 'nat')!.chains.find((c) => c.name === 'PREROUTING')!.rules[0];
    const forward = model.tables.find((x) => x.name === 'filter')!.chains.find((c) => c.name === 'FORWARD')!.rules;
    expect(differences).toEqual([
      { kind: 'policy changed', table: 'filter', chain: 'FORWARD', want: 'DROP', got: 'ACCEPT' },
      { kind: 'rule not generated', table: 'filter', chain: 'FORWARD', position: forward.length + 1, rule: { target: { jump: 'ACCEPT' } } },
      { kind: 'chain not generated', table: 'filter', chain: 'EXTRA' },
      { kind: 'rule missing', table: 'nat', chain: 'PREROUTING', position: 1, rule: canonicalRuleset({ tables: [{ name: 'nat', chains: [{ name: 'P', rules: [dnat] }] }] }).tables[0].chains[0].rules[0] },
    ]);
  });

  asRoot('WHEN the host has no nat table THEN the table is missing; WHEN a built-in chain is gone THEN that chain is missing', () => {
    const filterOnly = roundTrip({ tables: model.tables.filter((x) => x.name === 'filter') });
    expect(rulesetDifferences(model, parseIptablesSave(filterOnly))).toEqual([{ kind: 'table missing', table: 'nat' }]);
    const withoutOutput = parseIptablesSave(roundTrip(model));
    const gone = { tables: withoutOutput.tables.map((x) => (x.name === 'nat' ? { ...x, chains: x.chains.filter((c) => c.name !== 'OUTPUT') } : x)) };
    expect(rulesetDifferences(model, gone)).toEqual([{ kind: 'chain missing', table: 'nat', chain: 'OUTPUT' }]);
  });

  test('WHEN the rules of a chain are swapped THEN the order counts: one is reported moved (missing and not generated)', () => {
    const swapped: Ruleset = { tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP', rules: [ssh(2), ssh(1)] }] }] };
    const wanted: Ruleset = { tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP', rules: [ssh(1), ssh(2)] }] }] };
    expect(rulesetDifferences(wanted, swapped).map((d) => d.kind)).toEqual(['rule missing', 'rule not generated']);
  });
});

/** A filter table with INPUT and one rule, as iptables-save would print it (or a host's variant of it). */
const filter = (rule: string, chains = ':INPUT DROP [0:0]') => `*filter\n${chains}\n${rule}\nCOMMIT\n`;
const rulesOf = (text: string) => parseIptablesSave(text).tables[0].chains.find((c) => c.name === 'INPUT')!.rules;
const sameAs = (text: string, rule: Rule) => rulesetDifferences({ tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP', rules: [rule] }] }] }, parseIptablesSave(text));

describe('each way iptables-save prints a rule otherwise than it was written reads as the same model', () => {
  test('VRRP: -p 112 as generated, -p vrrp as iptables-save prints it where /etc/protocols names it', () => {
    const vrrp: Rule = { source: '192.168.10.3', inInterface: 'ens33', vrrp: true, target: { jump: 'ACCEPT' } };
    expect(rulesOf(filter('-A INPUT -s 192.168.10.3/32 -i ens33 -p vrrp -j ACCEPT'))).toEqual([vrrp]);
    expect(rulesOf(filter('-A INPUT -s 192.168.10.3/32 -i ens33 -p 112 -j ACCEPT'))).toEqual([vrrp]);
    expect(sameAs(filter('-A INPUT -s 192.168.10.3/32 -i ens33 -p tcp -m tcp --dport 112 -j ACCEPT'), vrrp)).toHaveLength(2);
  });

  test('--destination-port is --dport, and -p 6 is tcp', () => {
    expect(rulesOf(filter('-A INPUT -p 6 -m tcp --destination-port 22 -j ACCEPT'))).toEqual([{ tcpDestinationPort: 22, target: { jump: 'ACCEPT' } }]);
  });

  test('counters: on a chain ([9:1]) and before a rule (iptables-save -c) are not part of the model', () => {
    expect(parseIptablesSave(filter('[3:180] -A INPUT -i lo -j ACCEPT', ':INPUT DROP [9:1]'))).toEqual({ tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP', rules: [{ inInterface: 'lo', target: { jump: 'ACCEPT' } }] }] }] });
  });

  test('comments: the # lines are skipped, a comment match is read, and neither counts in the comparison', () => {
    const text = `# Generated by iptables-save v1.8.9\n${filter('# why\n-A INPUT -i lo -m comment --comment "a \\"quoted\\" comment" -j ACCEPT')}# Completed\n`;
    expect(rulesOf(text)).toEqual([{ inInterface: 'lo', target: { jump: 'ACCEPT' } }]);
    expect(sameAs(text, { comment: 'another', inInterface: 'lo', target: { jump: 'ACCEPT' } })).toEqual([]);
  });

  test('module order: -m conntrack before -m tcp, or -p tcp with no -m tcp at all, is the same rule', () => {
    const rule: Rule = { tcpDestinationPort: 22, ctstate: ['NEW'], target: { jump: 'ACCEPT' } };
    expect(rulesOf(filter('-A INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -j ACCEPT'))).toEqual([rule]);
    expect(rulesOf(filter('-A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT'))).toEqual([rule]);
  });

  test('conntrack states in the kernel\'s order (RELATED before ESTABLISHED) whatever order the model lists them in', () => {
    expect(sameAs(filter('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'), { ctstate: ['ESTABLISHED', 'RELATED'], target: { jump: 'ACCEPT' } })).toEqual([]);
  });

  test('a host address with /32 (/128) is the bare address the models write', () => {
    expect(rulesOf(filter('-A INPUT -s 10.0.0.1/32 -d 10.0.0.0/24 -j ACCEPT'))).toEqual([{ source: '10.0.0.1', destination: '10.0.0.0/24', target: { jump: 'ACCEPT' } }]);
    expect(rulesOf(filter('-A INPUT -s fd00::1/128 -d fd00::/64 -j ACCEPT'))).toEqual([{ source: 'fd00::1', destination: 'fd00::/64', target: { jump: 'ACCEPT' } }]);
    expect(sameAs(filter('-A INPUT -s 10.0.0.1/32 -j ACCEPT'), { source: '10.0.0.1/32', target: { jump: 'ACCEPT' } })).toEqual([]);
  });

  test('TCP flags: ! --syn, and the mask in any order, are the model\'s tcpNotSyn', () => {
    expect(rulesOf(filter('-A INPUT -p tcp ! --syn -j DROP'))).toEqual([{ tcpNotSyn: true, target: { jump: 'DROP' } }]);
    expect(rulesOf(filter('-A INPUT -p tcp -m tcp ! --tcp-flags SYN,ACK,FIN,RST SYN -j DROP'))).toEqual([{ tcpNotSyn: true, target: { jump: 'DROP' } }]);
    expect(() => rulesOf(filter('-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'))).toThrow('the model has only ! --tcp-flags FIN,SYN,RST,ACK SYN');
  });

  test('DSCP in hex (0x2e), a MAC in lower case, hashlimit modes in iptables-save\'s order', () => {
    const text = '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m mac --mac-source 02:aa:00:00:00:40 -m dscp --dscp 0x0a -m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-mode srcip,srcport --hashlimit-name x -j DSCP --set-dscp 0x2e\nCOMMIT\n';
    const model: Ruleset = { tables: [{ name: 'mangle', chains: [{ name: 'PREROUTING', policy: 'ACCEPT', rules: [
      { macSource: '02:AA:00:00:00:40', dscp: 10, hashlimitAbove: { perSecond: 10, burst: 5, mode: ['srcport', 'srcip'], name: 'x' }, target: { jump: 'DSCP', setDscp: 46 } },
    ] }] }] };
    expect(rulesetDifferences(model, parseIptablesSave(text))).toEqual([]);
  });

  test('tables and chains in any order: iptables-save lists filter before nat and built-in chains first', () => {
    const model: Ruleset = { tables: [
      { name: 'nat', chains: [{ name: 'POSTROUTING', policy: 'ACCEPT', rules: [] }] },
      { name: 'filter', chains: [{ name: 'Z', rules: [] }, { name: 'INPUT', policy: 'DROP', rules: [{ target: { jump: 'CHAIN', chain: 'Z' } }] }] },
    ] };
    const saved = '*filter\n:INPUT DROP [0:0]\n:Z - [0:0]\n-A INPUT -j Z\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
    expect(parseIptablesSave(saved)).toEqual(canonicalRuleset(model));
  });
});

describe('what the model has no words for is an error naming the line, never a silent pass', () => {
  test.each([
    ['-A INPUT -p tcp -m tcp --sport 22 -j ACCEPT', '--sport: an option the model does not have'],
    ['-A INPUT ! -s 10.0.0.1/32 -j ACCEPT', '! -s: the model has no negated -s'],
    ['-A INPUT -j LOG --log-prefix x', '-j LOG --log-prefix x: a target the model does not have'],
    ['-A INPUT -j NOWHERE', '-j NOWHERE: a target the model does not have'],
    ['-A INPUT -p sctp -j ACCEPT', '-p sctp: expected one of tcp, udp, icmp, ipv6-icmp, vrrp (112)'],
    ['-A INPUT -p tcp -j ACCEPT', '-p tcp without --dport or ! --tcp-flags'],
    ['-A OUTPUT -j ACCEPT', 'chain OUTPUT is not declared in filter'],
    ['-A INPUT -p icmp -m icmp --icmp-type 8 -m tcp --dport 22 -j ACCEPT', '--dport with -p icmp: the model has no such rule'],
    ['-A INPUT -m icmp6 --icmpv6-type 128 -j ACCEPT', '--icmpv6-type with -p all: the model has no such rule'],
  ])('%s', (rule, message) => {
    expect(() => parseIptablesSave(filter(rule))).toThrow(IptablesSaveError);
    expect(() => parseIptablesSave(filter(rule))).toThrow(`line 3 (${rule}): ${message}`);
  });

  test('a table not asked for is not read at all (a gateway pair\'s handoff chains in mangle beside the compared nat and filter)', () => {
    const text = `*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j LOG\nCOMMIT\n${filter('-A INPUT -i lo -j ACCEPT')}`;
    expect(() => parseIptablesSave(text)).toThrow(IptablesSaveError);
    expect(parseIptablesSave(text, new Set(['filter'])).tables.map((x) => x.name)).toEqual(['filter']);
  });
});
