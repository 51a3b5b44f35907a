import { show, TopologyProblem } from './errors';
import { contains, formatCidr, Ipv4Network, isNetworkOrBroadcast, overlaps, parseCidr, parseIpv4 } from './ipv4';

/**
 * One validation rule: a condition and a message, in the manner of aws-cdk's
 * `validate-queue-props.ts`. A table of rules is run against a subject and yields
 * every problem at once, each as "path: got X, expected Y".
 */
export interface Rule<S> {
  /** The config path judged, below the base path the table runs at ('' for the base itself). */
  readonly path: string;
  /** The value judged, shown after "got". */
  readonly value: (subject: S) => unknown;
  /** The condition: true when the value breaks the rule. */
  readonly fails: (subject: S) => boolean;
  /** What would have been accepted. */
  readonly expected: string | ((subject: S) => string);
}

export type RuleTable<S> = readonly Rule<S>[];

function join(base: string, path: string): string {
  if (base === '') return path;
  if (path === '') return base;
  return `${base}.${path}`;
}

/** Every rule of `table` that `subject` breaks, with paths below `base`. */
export function applyRules<S>(base: string, subject: S, table: RuleTable<S>): TopologyProblem[] {
  return table
    .filter((rule) => rule.fails(subject))
    .map((rule) => ({
      path: join(base, rule.path),
      got: show(rule.value(subject)),
      expected: typeof rule.expected === 'string' ? rule.expected : rule.expected(subject),
    }));
}

/** A table run against each item of a list, at `base[index]`. */
export function applyToEach<T, S>(base: string, items: readonly T[], subject: (item: T) => S, table: RuleTable<S>): TopologyProblem[] {
  return items.flatMap((item, index) => applyRules(`${base}[${index}]`, subject(item), table));
}

/** An integer in min-max; `what` names it ("a TCP port in 1-65535"). */
export function inRange<S>(path: string, value: (s: S) => number, min: number, max: number, what = 'an integer'): Rule<S> {
  return {
    path,
    value,
    fails: (s) => {
      const v = value(s);
      return !Number.isInteger(v) || v < min || v > max;
    },
    expected: `${what} in ${min}-${max}`,
  };
}

/** A string that matches `pattern`. */
export function matching<S>(path: string, value: (s: S) => string, pattern: RegExp, expected: string): Rule<S> {
  return { path, value, fails: (s) => !pattern.test(value(s)), expected };
}

/** A network in CIDR form with no host bits set; the message says what is wrong with it. */
export function cidr<S>(path: string, value: (s: S) => string): Rule<S> {
  const error = (s: S) => {
    const parsed = parseCidr(value(s));
    return 'error' in parsed ? parsed.error : undefined;
  };
  return { path, value, fails: (s) => error(s) !== undefined, expected: (s) => error(s) ?? '' };
}

/** The parsed network, or undefined where it is not one (a `cidr` rule reports that). */
export function networkOf(text: string): Ipv4Network | undefined {
  const parsed = parseCidr(text);
  return 'error' in parsed ? undefined : parsed;
}

/**
 * A usable host address inside a network: an IPv4 address, inside the network (when that
 * parsed), and neither its network nor its broadcast address.
 */
export function addressIn<S>(
  path: string,
  value: (s: S) => string,
  network: (s: S) => Ipv4Network | undefined,
  networkPath: string,
): Rule<S>[] {
  const parsed = (s: S) => parseIpv4(value(s));
  const shown = (s: S) => {
    const net = network(s);
    return net === undefined ? '' : formatCidr(net);
  };
  const placed = (s: S) => {
    const address = parsed(s);
    const net = network(s);
    return address === undefined || net === undefined ? undefined : { address, net };
  };
  return [
    { path, value, fails: (s) => parsed(s) === undefined, expected: 'an IPv4 address such as 192.168.10.20' },
    {
      path,
      value,
      fails: (s) => {
        const p = placed(s);
        return p !== undefined && !contains(p.net, p.address);
      },
      expected: (s) => `an address inside ${shown(s)} (${networkPath})`,
    },
    {
      path,
      value,
      fails: (s) => {
        const p = placed(s);
        return p !== undefined && contains(p.net, p.address) && isNetworkOrBroadcast(p.net, p.address);
      },
      expected: (s) => `a host address of ${shown(s)}, not its network or broadcast address`,
    },
  ];
}

/** A network that does not overlap another one (both parsed; a `cidr` rule reports those that did not). */
export function notOverlapping<S>(
  path: string,
  value: (s: S) => unknown,
  network: (s: S) => Ipv4Network | undefined,
  otherPath: string,
  other: (s: S) => Ipv4Network | undefined,
  otherText: (s: S) => string,
): Rule<S> {
  return {
    path,
    value,
    fails: (s) => {
      const a = network(s);
      const b = other(s);
      return a !== undefined && b !== undefined && overlaps(a, b);
    },
    expected: (s) => `a network that does not overlap ${otherPath} (${otherText(s)})`,
  };
}

/** A value at some config path, for rules that compare values across the config. */
export interface Located<V> {
  readonly path: string;
  readonly value: V;
}

/** A problem for each value an earlier one already has; `expected` names the first holder's path. */
export function distinct<V>(values: readonly Located<V>[], expected: (firstPath: string) => string): TopologyProblem[] {
  const firstPath = new Map<V, string>();
  const problems: TopologyProblem[] = [];
  for (const { path, value } of values) {
    const first = firstPath.get(value);
    if (first !== undefined) problems.push({ path, got: show(value), expected: expected(first) });
    else firstPath.set(value, path);
  }
  return problems;
}
