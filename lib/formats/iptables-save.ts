/**
 * The reverse of `printIptablesRestore`: what `iptables-save` or `ip6tables-save` prints, read back
 * into the Ruleset model, so that a host's live firewall is compared with the generated one as models.
 * Every way iptables-save prints a rule differently from how it was written (protocol names for
 * numbers, option aliases, counters, comments, the order of the match modules, hex DSCP, the order of
 * conntrack states) is undone here, in one place: `canonicalRuleset` gives both sides the same form.
 */
import type { ConntrackState, HashLimit, Policy, Rule, Ruleset, Table, Target, TtlMatch } from './ruleset';

/** A line iptables-save would not print, or a rule the model has no words for. */
export class IptablesSaveError extends Error {}

const TABLES: readonly Table['name'][] = ['filter', 'nat', 'mangle', 'raw'];

/** The protocols the model knows, by the names and numbers `-p` may carry (iptables-save prints the name where /etc/protocols has one). */
const PROTOCOLS: Readonly<Record<string, 'tcp' | 'udp' | 'icmp' | 'ipv6-icmp' | 'vrrp'>> = {
  tcp: 'tcp', 6: 'tcp', udp: 'udp', 17: 'udp', icmp: 'icmp', 1: 'icmp',
  'ipv6-icmp': 'ipv6-icmp', icmpv6: 'ipv6-icmp', 58: 'ipv6-icmp', vrrp: 'vrrp', 112: 'vrrp',
};

/** The order the kernel keeps conntrack states in, whatever order they were given (iptables-save prints them so). */
const CTSTATE_ORDER: readonly ConntrackState[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'SNAT', 'DNAT'];
/** The order iptables-save prints a hashlimit mode in. */
const HASHLIMIT_MODE_ORDER: readonly HashLimit['mode'][number][] = ['srcip', 'srcport', 'dstip', 'dstport'];

/** The words of a rule line: iptables-save quotes an argument with spaces in "…", with \" and \\ inside. */
function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      if (line[i] !== '"') word += line[i++];
      else {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\') i++;
          word += line[i++] ?? '';
        }
        if (i >= line.length) throw new IptablesSaveError('an unterminated "');
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

/** A number iptables-save prints in decimal or hex (DSCP: 0x2e). */
function numberOf(option: string, value: string | undefined): number {
  const n = value === undefined ? NaN : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new IptablesSaveError(`${option}: got ${value ?? 'nothing'}, expected a number`);
  return n;
}

/** A host address without the /32 (/128) iptables-save adds: the models write a host bare. */
const bareHost = (address: string) => address.replace(address.includes(':') ? /\/128$/ : /\/32$/, '');

/** One rule line (after `-A`) as the model's Rule; `chains` are the table's chains, the targets a rule can jump to. */
function parseRule(args: readonly string[], chains: ReadonlySet<string>): Rule {
  const rule: { -readonly [K in keyof Rule]?: Rule[K] } = {};
  let protocol: string | undefined;
  let dport: number | undefined;
  let icmpType: number | undefined;
  let icmpv6Type: number | undefined;
  const ttl: TtlMatch[] = [];
  const hashlimit: { perSecond?: number; burst?: number; mode?: HashLimit['mode']; name?: string } = {};
  let target: Target | undefined;
  let i = 0;
  const value = (option: string) => {
    const v = args[++i];
    if (v === undefined) throw new IptablesSaveError(`${option} without a value`);
    return v;
  };
  while (i < args.length) {
    let negated = false;
    if (args[i] === '!') {
      negated = true;
      i++;
    }
    const option = args[i];
    if (negated && option !== '--tcp-flags' && option !== '--syn') throw new IptablesSaveError(`! ${option}: the model has no negated ${option}`);
    switch (option) {
      case '-s': case '--source': rule.source = bareHost(value(option)); break;
      case '-d': case '--destination': rule.destination = bareHost(value(option)); break;
      case '-i': case '--in-interface': rule.inInterface = value(option); break;
      case '-o': case '--out-interface': rule.outInterface = value(option); break;
      case '-p': case '--protocol': {
        const name = value(option).toLowerCase();
        protocol = PROTOCOLS[name];
        if (protocol === undefined) throw new IptablesSaveError(`-p ${name}: expected one of tcp, udp, icmp, ipv6-icmp, vrrp (112)`);
        break;
      }
      // Which module an option belongs to follows from the option alone: the order of the -m words does not count.
      case '-m': case '--match': {
        const module = value(option);
        if (module === 'socket') rule.socket = true;
        else if (!['tcp', 'udp', 'icmp', 'icmp6', 'conntrack', 'dscp', 'mac', 'ttl', 'hashlimit', 'comment'].includes(module)) {
          throw new IptablesSaveError(`-m ${module}: a match the model does not have`);
        }
        break;
      }
      case '--dport': case '--destination-port': dport = numberOf(option, value(option)); break;
      case '--syn': case '--tcp-flags': {
        // --syn is --tcp-flags FIN,SYN,RST,ACK SYN; the mask is a set, printed in iptables' own order.
        const [mask, set] = option === '--syn' ? ['FIN,SYN,RST,ACK', 'SYN'] : [value(option), value(option)];
        if (!negated || mask.split(',').sort().join(',') !== 'ACK,FIN,RST,SYN' || set !== 'SYN') {
          throw new IptablesSaveError(`${negated ? '! ' : ''}${option} ${option === '--syn' ? '' : `${mask} ${set}`}: the model has only ! --tcp-flags FIN,SYN,RST,ACK SYN`);
        }
        rule.tcpNotSyn = true;
        break;
      }
      case '--icmp-type': icmpType = numberOf(option, value(option)); break;
      case '--icmpv6-type': icmpv6Type = numberOf(option, value(option)); break;
      case '--ctstate': {
        const states = value(option).split(',');
        const unknown = states.filter((s) => !CTSTATE_ORDER.includes(s as ConntrackState));
        if (unknown.length > 0) throw new IptablesSaveError(`--ctstate ${unknown.join(',')}: expected states among ${CTSTATE_ORDER.join(', ')}`);
        rule.ctstate = states as ConntrackState[];
        break;
      }
      case '--dscp': rule.dscp = numberOf(option, value(option)); break;
      case '--mac-source': rule.macSource = value(option); break;
      case '--ttl-eq': case '--ttl-lt': case '--ttl-gt': ttl.push({ op: option.slice(6) as TtlMatch['op'], value: numberOf(option, value(option)) }); break;
      case '--hashlimit-above': {
        const [rate, unit] = value(option).split('/');
        if (!['s', 'sec', 'second'].includes(unit)) throw new IptablesSaveError(`--hashlimit-above ${rate}/${unit}: expected a rate per second`);
        hashlimit.perSecond = numberOf(option, rate);
        break;
      }
      case '--hashlimit-burst': hashlimit.burst = numberOf(option, value(option)); break;
      case '--hashlimit-mode': hashlimit.mode = value(option).split(',') as HashLimit['mode']; break;
      case '--hashlimit-name': hashlimit.name = value(option); break;
      case '--comment': rule.comment = value(option); break;
      case '-j': case '--jump':
        target = parseTarget(args.slice(i + 1), chains);
        i = args.length;
        continue;
      default:
        throw new IptablesSaveError(`${option}: an option the model does not have`);
    }
    i++;
  }
  if (target === undefined) throw new IptablesSaveError('no -j: the model has no rule without a target');
  const needs = (what: string) => new IptablesSaveError(`-p ${protocol} without ${what}: the model has no such rule`);
  if (protocol === 'tcp') {
    if (dport === undefined && !rule.tcpNotSyn) throw needs('--dport or ! --tcp-flags');
    if (dport !== undefined) rule.tcpDestinationPort = dport;
  } else if (protocol === 'udp') {
    if (dport === undefined) throw needs('--dport');
    rule.udpDestinationPort = dport;
  } else if (protocol === 'icmp') {
    if (icmpType === undefined) throw needs('--icmp-type');
    rule.icmpType = icmpType;
  } else if (protocol === 'ipv6-icmp') {
    if (icmpv6Type === undefined) throw needs('--icmpv6-type');
    rule.icmpv6Type = icmpv6Type;
  } else if (protocol === 'vrrp') rule.vrrp = true;
  // An option of another protocol's match would otherwise be dropped unseen, and two different rules compare equal.
  const stray = [
    dport !== undefined && protocol !== 'tcp' && protocol !== 'udp' && '--dport',
    rule.tcpNotSyn && protocol !== 'tcp' && '--tcp-flags',
    icmpType !== undefined && protocol !== 'icmp' && '--icmp-type',
    icmpv6Type !== undefined && protocol !== 'ipv6-icmp' && '--icmpv6-type',
  ].filter(Boolean);
  if (stray.length > 0) throw new IptablesSaveError(`${stray.join(', ')} with -p ${protocol ?? 'all'}: the model has no such rule`);
  if (ttl.length > 0) rule.ttl = ttl.length === 1 ? ttl[0] : ttl;
  if (Object.keys(hashlimit).length > 0) {
    const { perSecond, burst, mode, name } = hashlimit;
    if (perSecond === undefined || burst === undefined || mode === undefined || name === undefined) {
      throw new IptablesSaveError('-m hashlimit: expected --hashlimit-above, --hashlimit-burst, --hashlimit-mode and --hashlimit-name');
    }
    rule.hashlimitAbove = { perSecond, burst, mode, name };
  }
  return canonicalRule({ ...rule, target });
}

function parseTarget(args: readonly string[], chains: ReadonlySet<string>): Target {
  const [jump, option, value, ...rest] = args;
  const only = (expected: string): string => {
    if (option !== expected || value === undefined || rest.length > 0) throw new IptablesSaveError(`-j ${args.join(' ')}: expected -j ${jump} ${expected} VALUE`);
    return value;
  };
  switch (jump) {
    case 'ACCEPT': case 'DROP': case 'RETURN':
      if (option !== undefined) throw new IptablesSaveError(`-j ${args.join(' ')}: -j ${jump} takes no options`);
      return { jump };
    case 'DNAT': return { jump, toDestination: only('--to-destination') };
    case 'SNAT': return { jump, toSource: only('--to-source') };
    case 'TEE': return { jump, gateway: only('--gateway') };
    case 'DSCP': return { jump, setDscp: numberOf('--set-dscp', only('--set-dscp')) };
    case 'TTL':
      return option === '--ttl-inc' ? { jump, ttlIncrement: numberOf(option, only('--ttl-inc')) } : { jump, ttlSet: numberOf('--ttl-set', only('--ttl-set')) };
    default:
      if (jump === undefined || option !== undefined || !chains.has(jump)) throw new IptablesSaveError(`-j ${args.join(' ')}: a target the model does not have`);
      return { jump: 'CHAIN', chain: jump };
  }
}

/**
 * A rule in the one form both sides are compared in: no comment (iptables-save prints none of the
 * generated `#` lines), hosts without /32 or /128, a MAC in lower case, conntrack states and
 * hashlimit modes in the kernel's order, a single TTL comparison not in a list.
 */
function canonicalRule(rule: Rule): Rule {
  const { comment: _comment, ...rest } = rule;
  const out: { -readonly [K in keyof Rule]?: Rule[K] } = { ...rest };
  if (rule.source !== undefined) out.source = bareHost(rule.source);
  if (rule.destination !== undefined) out.destination = bareHost(rule.destination);
  if (rule.macSource !== undefined) out.macSource = rule.macSource.toLowerCase();
  if (rule.ctstate) out.ctstate = [...new Set(rule.ctstate)].sort((a, b) => CTSTATE_ORDER.indexOf(a) - CTSTATE_ORDER.indexOf(b));
  if (rule.hashlimitAbove) out.hashlimitAbove = { ...rule.hashlimitAbove, mode: [...new Set(rule.hashlimitAbove.mode)].sort((a, b) => HASHLIMIT_MODE_ORDER.indexOf(a) - HASHLIMIT_MODE_ORDER.indexOf(b)) };
  if (Array.isArray(rule.ttl) && rule.ttl.length === 1) out.ttl = rule.ttl[0] as TtlMatch;
  return out as Rule;
}

/**
 * A ruleset in the form iptables-save gives it back: tables and chains by name (iptables-save lists
 * tables in the kernel's order and chains built-in first), every rule canonical, no comments.
 */
export function canonicalRuleset(ruleset: Ruleset): Ruleset {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    tables: [...ruleset.tables].sort(byName).map((table) => ({
      name: table.name,
      chains: [...table.chains].sort(byName).map((chain) => ({
        name: chain.name, ...(chain.policy ? { policy: chain.policy } : {}), rules: chain.rules.map(canonicalRule),
      })),
    })),
  };
}

/**
 * `iptables-save` (or `ip6tables-save`) text as a canonical Ruleset: counters (`[0:0]`, and the
 * `-c` form before a rule) and `#` lines dropped. Only `tables` are read when given (a host has tables
 * it was not given, e.g. a gateway pair's handoff chains in mangle). Throws IptablesSaveError naming
 * the line for anything else.
 */
export function parseIptablesSave(text: string, tables?: ReadonlySet<string>): Ruleset {
  const out: Array<{ name: Table['name']; chains: Array<{ name: string; policy?: Policy; rules: Rule[] }> }> = [];
  let table: (typeof out)[number] | undefined;
  let skipping = false;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const where = (message: string) => new IptablesSaveError(`line ${index + 1} (${line}): ${message}`);
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      skipping = tables !== undefined && !tables.has(name);
      if (skipping) return;
      if (!TABLES.includes(name as Table['name'])) throw where(`expected a table among ${TABLES.join(', ')}`);
      if (out.some((t) => t.name === name)) throw where('the table is listed twice');
      table = { name: name as Table['name'], chains: [] };
      out.push(table);
      return;
    }
    if (skipping) return;
    if (table === undefined) throw where('expected *TABLE first');
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') throw where(`policy ${policy}: expected ACCEPT, DROP or -`);
      table.chains.push({ name, ...(policy === '-' ? {} : { policy }), rules: [] });
      return;
    }
    // iptables-save -c prints each rule's counters before it: [packets:bytes] -A …
    const args = (() => {
      try {
        return words(line.replace(/^\[\d+:\d+\]\s+/, ''));
      } catch (error) {
        throw where((error as Error).message);
      }
    })();
    if (args[0] !== '-A' || args[1] === undefined) throw where('expected -A CHAIN …, :CHAIN POLICY, COMMIT or a # line');
    const chain = table.chains.find((c) => c.name === args[1]);
    if (chain === undefined) throw where(`chain ${args[1]} is not declared in ${table.name}`);
    try {
      chain.rules.push(parseRule(args.slice(2), new Set(table.chains.map((c) => c.name))));
    } catch (error) {
      if (error instanceof IptablesSaveError) throw where(error.message);
      throw error;
    }
  });
  if (table !== undefined) throw new IptablesSaveError(`table ${table.name}: no COMMIT`);
  return canonicalRuleset({ tables: out });
}
