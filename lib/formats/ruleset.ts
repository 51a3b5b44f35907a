/**
 * The model of an iptables or ip6tables ruleset: tables of chains, each with its policy and its
 * rules in order. Renderers build it; `printIptablesRestore` is the one printer (the
 * `iptables-restore`/`ip6tables-restore` format, options in the order `iptables-save` prints
 * them); tests ask the model (`chainOf`).
 */

export type Policy = 'ACCEPT' | 'DROP';
export type ConntrackState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'DNAT' | 'SNAT';

export type Target =
  | { readonly jump: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { readonly jump: 'DNAT'; readonly toDestination: string }
  | { readonly jump: 'SNAT'; readonly toSource: string }
  /** -j TEE --gateway ADDRESS: a copy of the packet, unchanged, to the host at ADDRESS on a connected network. */
  | { readonly jump: 'TEE'; readonly gateway: string }
  /** -j TTL --ttl-set VALUE (mangle table): the IPv4 TTL set to VALUE. */
  | { readonly jump: 'TTL'; readonly ttlSet: number }
  /** -j TTL --ttl-inc VALUE (mangle table): the IPv4 TTL raised by VALUE. */
  | { readonly jump: 'TTL'; readonly ttlIncrement: number }
  /** -j DSCP --set-dscp VALUE (mangle table). */
  | { readonly jump: 'DSCP'; readonly setDscp: number }
  /** -j CHAIN: a user-defined chain of the same table. */
  | { readonly jump: 'CHAIN'; readonly chain: string };

/** One rule; every match left out matches everything. */
export interface Rule {
  /** Why the rule is there; printed as a `#` line above it. */
  readonly comment?: string;
  /** -s: an address (printed as /32) or a network. */
  readonly source?: string;
  /** -d: an address (printed as /32) or a network. */
  readonly destination?: string;
  /** -i */
  readonly inInterface?: string;
  /** -o */
  readonly outInterface?: string;
  /** -p tcp -m tcp --dport PORT */
  readonly tcpDestinationPort?: number;
  /** -p udp -m udp --dport PORT */
  readonly udpDestinationPort?: number;
  /** -p 112: VRRP (by number: a host without /etc/protocols has no name for it). */
  readonly vrrp?: true;
  /** -p icmp -m icmp --icmp-type TYPE (IPv4 only) */
  readonly icmpType?: number;
  /** -p ipv6-icmp -m icmp6 --icmpv6-type TYPE (IPv6 only) */
  readonly icmpv6Type?: number;
  /** `-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN`: every TCP segment but a connection's first (after --dport when both are set). */
  readonly tcpNotSyn?: true;
  /** -m conntrack --ctstate S1,S2 */
  readonly ctstate?: readonly ConntrackState[];
  /** -m socket: the packet belongs to an established (or time-wait) socket of this host; wildcard listeners do not count. */
  readonly socket?: true;
  /** -m dscp --dscp VALUE */
  readonly dscp?: number;
  /** -m mac --mac-source MAC: the Ethernet source of an arriving frame (PREROUTING, INPUT, FORWARD). */
  readonly macSource?: string;
  /** -m ttl --ttl-eq|--ttl-lt|--ttl-gt VALUE: the IPv4 TTL equal to, below or above VALUE; a list is one `-m ttl` each (all must hold: a range). */
  readonly ttl?: TtlMatch | readonly TtlMatch[];
  /** -m hashlimit --hashlimit-above …: matches the packets of a flow beyond its rate (the rest pass by). */
  readonly hashlimitAbove?: HashLimit;
  readonly target: Target;
}

/** A comparison of the IPv4 TTL (the ttl match takes exactly one). */
export interface TtlMatch {
  readonly op: 'eq' | 'lt' | 'gt';
  readonly value: number;
}

/** A hashlimit match: one token bucket per flow, the flow named by `mode`. */
export interface HashLimit {
  /** Packets per second a flow may have before the match applies. */
  readonly perSecond: number;
  /** How many packets a flow may have at once before the rate counts. */
  readonly burst: number;
  /** What makes a flow: e.g. ['srcip', 'srcport'] is one bucket per client connection. */
  readonly mode: readonly ('srcip' | 'srcport' | 'dstip' | 'dstport')[];
  /** The name of the table in /proc/net/ipt_hashlimit (at most 15 characters). */
  readonly name: string;
}

export interface Chain {
  readonly name: string;
  /** A built-in chain's policy; a user-defined chain has none (printed `-`). */
  readonly policy?: Policy;
  readonly rules: readonly Rule[];
}

export interface Table {
  readonly name: 'filter' | 'nat' | 'mangle' | 'raw';
  /**
   * The chains of the table, in the order they are declared (built-in chains with their policy, or
   * only user-defined chains for a ruleset loaded beside others with `--noflush`); rules are
   * printed chain by chain in this order.
   */
  readonly chains: readonly Chain[];
}

export interface Ruleset {
  /** Printed as a `#` line at the top. */
  readonly comment?: string;
  readonly tables: readonly Table[];
}

/** The chain of a table, or undefined. */
export function chainOf(ruleset: Ruleset, table: Table['name'], chain: string): Chain | undefined {
  return ruleset.tables.find((t) => t.name === table)?.chains.find((c) => c.name === chain);
}

/** An address as `iptables-save` prints it: a host gets /32 (IPv4) or /128 (IPv6). */
const withPrefix = (address: string) => (address.includes('/') ? address : `${address}/${address.includes(':') ? 128 : 32}`);

/** A DSCP value as `iptables-save` prints it: 0x2d. */
const hex = (value: number) => `0x${value.toString(16).padStart(2, '0')}`;

function targetArgs(target: Target): string[] {
  switch (target.jump) {
    case 'DNAT':
      return ['-j', 'DNAT', '--to-destination', target.toDestination];
    case 'SNAT':
      return ['-j', 'SNAT', '--to-source', target.toSource];
    case 'TEE':
      return ['-j', 'TEE', '--gateway', target.gateway];
    case 'TTL':
      return 'ttlSet' in target ? ['-j', 'TTL', '--ttl-set', String(target.ttlSet)] : ['-j', 'TTL', '--ttl-inc', String(target.ttlIncrement)];
    case 'DSCP':
      return ['-j', 'DSCP', '--set-dscp', hex(target.setDscp)];
    case 'CHAIN':
      return ['-j', target.chain];
    default:
      return ['-j', target.jump];
  }
}

/** A rule as `iptables-save` prints it: `-A CHAIN -s … -d … -i … -o … -p … -m … -j …`. */
export function printRule(chain: string, rule: Rule): string {
  const args = ['-A', chain];
  if (rule.source) args.push('-s', withPrefix(rule.source));
  if (rule.destination) args.push('-d', withPrefix(rule.destination));
  if (rule.inInterface) args.push('-i', rule.inInterface);
  if (rule.outInterface) args.push('-o', rule.outInterface);
  if (rule.tcpDestinationPort !== undefined || rule.tcpNotSyn) args.push('-p', 'tcp', '-m', 'tcp');
  if (rule.tcpDestinationPort !== undefined) args.push('--dport', String(rule.tcpDestinationPort));
  if (rule.tcpNotSyn) args.push('!', '--tcp-flags', 'FIN,SYN,RST,ACK', 'SYN');
  if (rule.udpDestinationPort !== undefined) args.push('-p', 'udp', '-m', 'udp', '--dport', String(rule.udpDestinationPort));
  if (rule.vrrp) args.push('-p', '112');
  if (rule.icmpType !== undefined) args.push('-p', 'icmp', '-m', 'icmp', '--icmp-type', String(rule.icmpType));
  if (rule.icmpv6Type !== undefined) args.push('-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', String(rule.icmpv6Type));
  if (rule.ctstate) args.push('-m', 'conntrack', '--ctstate', rule.ctstate.join(','));
  if (rule.socket) args.push('-m', 'socket');
  if (rule.dscp !== undefined) args.push('-m', 'dscp', '--dscp', hex(rule.dscp));
  if (rule.macSource) args.push('-m', 'mac', '--mac-source', rule.macSource);
  for (const ttl of rule.ttl === undefined ? [] : 'op' in rule.ttl ? [rule.ttl] : rule.ttl) args.push('-m', 'ttl', `--ttl-${ttl.op}`, String(ttl.value));
  if (rule.hashlimitAbove) {
    const h = rule.hashlimitAbove;
    args.push('-m', 'hashlimit', '--hashlimit-above', `${h.perSecond}/sec`, '--hashlimit-burst', String(h.burst), '--hashlimit-mode', h.mode.join(','), '--hashlimit-name', h.name);
  }
  return [...args, ...targetArgs(rule.target)].join(' ');
}

/** The whole ruleset in `iptables-restore` format: loading it replaces each table it names. */
export function printIptablesRestore(ruleset: Ruleset): string {
  const out: string[] = ruleset.comment ? [`# ${ruleset.comment}`] : [];
  for (const table of ruleset.tables) {
    out.push(`*${table.name}`);
    for (const chain of table.chains) out.push(`:${chain.name} ${chain.policy ?? '-'} [0:0]`);
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        if (rule.comment) out.push(`# ${rule.comment}`);
        out.push(printRule(chain.name, rule));
      }
    }
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}
