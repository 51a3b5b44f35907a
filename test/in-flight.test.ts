/**
 * In-flight forwarding on the load balancers (lib/load-balancer/in-flight.ts): the rules asked as a
 * model, keepalived's notify wiring, and the script's `master` step run by bash with stand-ins for
 * iptables and the peer probe.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argsOf, directiveAt } from '../lib/formats/directive-tree';
import { chainOf, printIptablesRestore, printRule, Rule, Ruleset } from '../lib/formats/ruleset';
import {
  COPY_RATE, COPY_TTL, copiedTo, copyLine, copyOrigin, copyRules, fromPeerRule, IN_FLIGHT_CHAIN, IN_FLIGHT_COPY_CHAIN, IN_FLIGHT_ENTRY_CHAIN, IN_FLIGHT_FROM_PEER_CHAIN,
  IN_FLIGHT_HOLDER_RELAY_CHAIN, IN_FLIGHT_REARM_UNIT, IN_FLIGHT_RELAY_CHAIN, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT, inFlightCounters, inFlightRuleset, InFlightRole, lastCopyTtl,
  renderInFlightRearmUnit, renderInFlightRules, renderInFlightScript, renderInFlightUnit,
} from '../lib/load-balancer/in-flight';
import { keepalivedConf, renderNginxStateUnit } from '../lib/load-balancer/keepalived';
import { loadTopology, Topology } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';

/** `count` load balancers lb01 (.40), lb02 (.50), …, by falling priority. */
const withLoadBalancers = (count: number) => loadTopology({
  overrides: { loadBalancer: { hosts: Array.from({ length: count }, (_, i) => ({ name: `lb0${i + 1}`, address: `192.168.10.${40 + 10 * i}`, priority: 100 - 10 * i })) } },
});
const three = () => withLoadBalancers(3);
const macOf = (address: string) => `02:00:00:00:00:${address.split('.')[3]}`;

/** What became of one stray segment: who served it, who reset it, and every copy, as "lb01→lb02". */
interface Fate { served: string[]; resets: string[]; copies: string[] }

/**
 * Runs one segment to the VIP through the load balancers' rulesets as the kernel would (first match,
 * user chains, RETURN; TEE sends a copy with one TTL off, from the sender's MAC address), the
 * from-peer chain filled as the script fills it. `holders` hold the VIP (the first gets the client's
 * segment); `owner` has the socket; `live` are the peers the holder's probes found (the rest get
 * nothing and answer nothing); `pathTtl` is what a path rewrites every copy's TTL to;
 * `holderKnowsNoMac`: the holders learned no peer's MAC address yet. Bounded: a loop
 * shows as more than 100 copies.
 */
function fateOf(t: Topology, opts: { holders: string[]; owner?: string; live?: string[]; pathTtl?: number; holderKnowsNoMac?: boolean }): Fate {
  const hosts = t.loadBalancer.hosts;
  const byAddress = new Map(hosts.map((h) => [h.address, h]));
  const rulesets = new Map(hosts.map((h) => {
    const role: InFlightRole = opts.holders.includes(h.name) ? 'holder' : 'standby';
    const base = inFlightRuleset(t, h, role);
    const live = opts.live && role === 'holder' ? hosts.filter((p) => p.name !== h.name && opts.live!.includes(p.name)).map((p) => p.address) : undefined;
    const fromPeer = role === 'holder' && opts.holderKnowsNoMac ? [] : hosts.filter((p) => p.name !== h.name).map((p) => fromPeerRule(macOf(p.address), role));
    const ruleset: Ruleset = { tables: [{ name: 'mangle', chains: base.tables[0].chains.map((c) => (
      c.name === IN_FLIGHT_FROM_PEER_CHAIN ? { ...c, rules: fromPeer } : c.name === IN_FLIGHT_COPY_CHAIN && live ? { ...c, rules: copyRules(t, h, live) } : c)) }] };
    return [h.name, ruleset] as const;
  }));
  const fate: Fate = { served: [], resets: [], copies: [] };
  const queue = [{ at: opts.holders[0], ttl: 60, mac: '02:00:00:00:00:01' }];
  while (queue.length > 0 && fate.copies.length <= 100) {
    const packet = queue.shift()!;
    if (opts.live && !opts.holders.includes(packet.at) && !opts.live.includes(packet.at)) continue;
    const ruleset = rulesets.get(packet.at)!;
    // Returns the verdict of a chain, or undefined when it runs out (back to the caller).
    const walk = (chain: string): 'ACCEPT' | 'DROP' | 'RETURN' | undefined => {
      for (const rule of chainOf(ruleset, 'mangle', chain)!.rules) {
        if (rule.socket && packet.at !== opts.owner) continue;
        if (rule.macSource && rule.macSource !== packet.mac) continue;
        const ttls = rule.ttl === undefined ? [] : 'op' in rule.ttl ? [rule.ttl] : rule.ttl;
        if (!ttls.every((m) => ({ eq: packet.ttl === m.value, lt: packet.ttl < m.value, gt: packet.ttl > m.value })[m.op])) continue;
        // hashlimit --hashlimit-above: one segment is far below any rate.
        if (rule.hashlimitAbove) continue;
        const target = rule.target;
        if (target.jump === 'TTL') packet.ttl = 'ttlSet' in target ? target.ttlSet : packet.ttl + target.ttlIncrement;
        else if (target.jump === 'TEE') {
          const to = byAddress.get(target.gateway)!;
          fate.copies.push(`${packet.at}→${to.name}`);
          queue.push({ at: to.name, ttl: opts.pathTtl ?? packet.ttl - 1, mac: macOf(hosts.find((h) => h.name === packet.at)!.address) });
        } else if (target.jump === 'CHAIN') {
          const verdict = walk(target.chain);
          if (verdict !== undefined) return verdict;
        } else if (target.jump === 'ACCEPT' || target.jump === 'DROP' || target.jump === 'RETURN') return target.jump;
      }
      return undefined;
    };
    const verdict = walk(IN_FLIGHT_CHAIN);
    // RETURN or the end of the chain: on to local delivery, where the socket serves it or the TCP stack resets it.
    if (verdict !== 'DROP') (packet.at === opts.owner ? fate.served : fate.resets).push(packet.at);
  }
  return fate;
}

const rulesOf = (t: Topology, chain: string, host = 0, role: InFlightRole = 'holder'): readonly Rule[] => chainOf(inFlightRuleset(t, t.loadBalancer.hosts[host], role), 'mangle', chain)!.rules;
const targets = (rules: readonly Rule[]) => rules.map((r) => r.target);

describe('whether the load balancers forward in flight, decided once in the topology', () => {
  test('on by default with a peer; off when not asked, or with one load balancer (no peer to pass to)', () => {
    expect(loadTopology().loadBalancer.inFlight).toBe(true);
    expect(loadTopology({ overrides: { loadBalancer: { forwardInFlight: false } } }).loadBalancer.inFlight).toBe(false);
    const one = loadTopology({ overrides: { loadBalancer: { hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }] } } });
    expect(one.loadBalancer.inFlight).toBe(false);
    expect(renderFixture({ overrides: { loadBalancer: { hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }] } } }).bundles.find((b) => b.id === 'lb01')!.files.map((f) => f.name)).not.toContain('in-flight.rules');
  });
});

describe('the in-flight ruleset', () => {
  test('picks only segments to the VIP\'s port that are not a SYN, in its own chains (loaded with --noflush)', () => {
    const t = loadTopology();
    const ruleset = inFlightRuleset(t, t.loadBalancer.master);
    expect(ruleset.tables.map((table) => [table.name, table.chains.map((c) => [c.name, c.policy])])).toEqual([
      ['mangle', [[IN_FLIGHT_ENTRY_CHAIN, undefined], [IN_FLIGHT_CHAIN, undefined], [IN_FLIGHT_FROM_PEER_CHAIN, undefined], [IN_FLIGHT_RELAY_CHAIN, undefined], [IN_FLIGHT_HOLDER_RELAY_CHAIN, undefined], [IN_FLIGHT_COPY_CHAIN, undefined]]],
    ]);
    const [entry] = chainOf(ruleset, 'mangle', IN_FLIGHT_ENTRY_CHAIN)!.rules;
    expect(entry).toMatchObject({ destination: '192.168.10.100', tcpDestinationPort: 3344, tcpNotSyn: true, target: { jump: 'CHAIN', chain: IN_FLIGHT_CHAIN } });
  });

  test('the copy counters read back from iptables-save -c: per peer, and the copies taken from peers', () => {
    const save = [
      '*mangle',
      `[7:300] -A ${IN_FLIGHT_CHAIN} -m socket -j RETURN`,
      `[2:80] -A ${IN_FLIGHT_FROM_PEER_CHAIN} -m mac --mac-source 02:00:00:00:00:40 -j ACCEPT`,
      `[1:40] -A ${IN_FLIGHT_FROM_PEER_CHAIN} -m mac --mac-source 02:00:00:00:00:60 -j ACCEPT`,
      `[0:0] -A ${IN_FLIGHT_COPY_CHAIN} -m hashlimit --hashlimit-above 10000/sec --hashlimit-burst 1000 --hashlimit-mode srcip,srcport --hashlimit-name k8s-ha-edge-tee -j DROP`,
      `[20:800] -A ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.50`,
      `[3:120] -A ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.60`,
      'COMMIT',
    ].join('\n');
    expect(inFlightCounters(save)).toEqual({ copiesTo: { '192.168.10.50': 20, '192.168.10.60': 3 }, fromPeers: 3 });
    expect(inFlightCounters('')).toEqual({ copiesTo: {}, fromPeers: 0 });
  });

  test('the peers it copies to read back from the printed copy chain, as verify and the lab read iptables -S', () => {
    const t = three();
    const copyChain = (host: number) => chainOf(inFlightRuleset(t, t.loadBalancer.hosts[host]), 'mangle', IN_FLIGHT_COPY_CHAIN)!.rules.map((r) => printRule(IN_FLIGHT_COPY_CHAIN, r)).join('\n');
    expect(copiedTo(copyChain(1))).toEqual(['192.168.10.40']);
    expect(copiedTo(copyChain(0))).toEqual(['192.168.10.50']);
  });

  test('serves its own connections, sends a peer\'s copy to a relay chain before anything could copy it, copies only in the copy chain, drops the rest', () => {
    const t = three();
    expect(targets(rulesOf(t, IN_FLIGHT_CHAIN, 1))).toEqual([
      { jump: 'RETURN' },
      // The loop guard (a copy from a peer, by its MAC address) comes before the copying.
      { jump: 'CHAIN', chain: IN_FLIGHT_FROM_PEER_CHAIN },
      { jump: 'CHAIN', chain: IN_FLIGHT_COPY_CHAIN },
      { jump: 'DROP' },
    ]);
    expect(rulesOf(t, IN_FLIGHT_CHAIN, 1)[0].socket).toBe(true);
    // Every relay chain ends in a verdict: a peer's copy never falls through to the copying.
    for (const chain of [IN_FLIGHT_RELAY_CHAIN, IN_FLIGHT_HOLDER_RELAY_CHAIN]) expect(rulesOf(t, chain, 1).at(-1)).toEqual({ comment: expect.any(String), target: { jump: 'DROP' } });
    expect(fromPeerRule('02:00:00:00:00:50', 'standby')).toEqual({ macSource: '02:00:00:00:00:50', target: { jump: 'CHAIN', chain: IN_FLIGHT_RELAY_CHAIN } });
    expect(fromPeerRule('02:00:00:00:00:50', 'holder').target).toEqual({ jump: 'CHAIN', chain: IN_FLIGHT_HOLDER_RELAY_CHAIN });
    // Nothing depends on DSCP: a path may rewrite it.
    const all = inFlightRuleset(t, t.loadBalancer.hosts[1]).tables.flatMap((table) => table.chains.flatMap((c) => c.rules));
    expect(all.filter((r) => r.dscp !== undefined || r.target.jump === 'DSCP')).toEqual([]);
  });

  test('the holder copies once, at a bounded rate per connection, to the first peer of the line with the TTL set; on standby nothing of its own is copied', () => {
    const t = three();
    expect(copyLine(t).map((h) => h.name)).toEqual(['lb01', 'lb02', 'lb03']);
    const copy = rulesOf(t, IN_FLIGHT_COPY_CHAIN, 1);
    // Segments with a TTL of the copies' range are never copied afresh.
    expect(copy[0]).toMatchObject({ ttl: [{ op: 'gt', value: lastCopyTtl(t) - 1 }, { op: 'lt', value: COPY_TTL }], target: { jump: 'DROP' } });
    expect(COPY_RATE.mode).toEqual(['srcip', 'srcport']);
    expect(copy[1]).toMatchObject({ hashlimitAbove: COPY_RATE, target: { jump: 'DROP' } });
    expect(targets(copy.slice(2))).toEqual([{ jump: 'TTL', ttlSet: COPY_TTL }, { jump: 'TEE', gateway: '192.168.10.40' }, { jump: 'DROP' }]);
    expect(rulesOf(t, IN_FLIGHT_COPY_CHAIN, 1, 'standby')).toEqual([]);
  });

  test.each([2, 3, 4])('%i load balancers, any holder: the owner serves a segment and nobody resets it; nobody owns it: exactly one reset, by the last of the chain; one copy per peer at most', (count) => {
    const t = withLoadBalancers(count);
    const names = t.loadBalancer.hosts.map((h) => h.name);
    for (const holder of names) {
      for (const owner of names.filter((n) => n !== holder)) {
        const fate = fateOf(t, { holders: [holder], owner });
        expect({ holder, owner, served: fate.served, resets: fate.resets }).toEqual({ holder, owner, served: [owner], resets: [] });
      }
      const nobody = fateOf(t, { holders: [holder] });
      const lastPeer = names.filter((n) => n !== holder).at(-1);
      expect({ holder, resets: nobody.resets, served: nobody.served }).toEqual({ holder, resets: [lastPeer], served: [] });
      // Every load balancer gets at most one copy: count-1 peers, plus the holder's own when the chain passes it.
      const received = nobody.copies.map((c) => c.split('→')[1]);
      expect(new Set(received).size).toBe(received.length);
      expect(nobody.copies.filter((c) => c.startsWith(`${holder}→`)).length).toBeLessThanOrEqual(2);
    }
  });

  test('who copies to whom with three: along the line, the holder in the middle passes the chain on with its TTL unchanged', () => {
    const t = three();
    expect(lastCopyTtl(t)).toBe(COPY_TTL - 2);
    expect(fateOf(t, { holders: ['lb01'] }).copies).toEqual(['lb01→lb02', 'lb02→lb03']);
    expect(fateOf(t, { holders: ['lb02'] }).copies).toEqual(['lb02→lb01', 'lb01→lb02', 'lb02→lb03']);
    expect(fateOf(t, { holders: ['lb03'] }).copies).toEqual(['lb03→lb01', 'lb01→lb02']);
    // The last never passes on; the holder, when the chain reaches it, never resets.
    expect(targets(rulesOf(t, IN_FLIGHT_RELAY_CHAIN, 2))).toEqual([{ jump: 'ACCEPT' }, { jump: 'DROP' }]);
    expect(rulesOf(t, IN_FLIGHT_RELAY_CHAIN, 2)[0].ttl).toEqual({ op: 'eq', value: lastCopyTtl(t) });
    expect(targets(rulesOf(t, IN_FLIGHT_HOLDER_RELAY_CHAIN, 1)).filter((r) => r.jump === 'ACCEPT')).toEqual([]);
  });

  test.each([2, 3, 4])('%i load balancers: whatever a path rewrites the TTL to, and in split brain, copies stay bounded (each load balancer gets one at most)', (count) => {
    const t = withLoadBalancers(count);
    const names = t.loadBalancer.hosts.map((h) => h.name);
    for (let pathTtl = 0; pathTtl <= 255; pathTtl++) {
      for (const holders of [[names[0]], [names[count - 1]], names, [...names].reverse()]) {
        const fate = fateOf(t, { holders, pathTtl });
        const received = fate.copies.map((c) => c.split('→')[1]);
        expect({ pathTtl, holders, unique: new Set(received).size === received.length, most: received.length <= count }).toEqual({ pathTtl, holders, unique: true, most: true });
      }
    }
  });

  test.each([3, 4, 5])('%i load balancers: a holder that has not learned the peers\' MAC addresses yet never copies a copy afresh (its TTL gives it away)', (count) => {
    const t = withLoadBalancers(count);
    const names = t.loadBalancer.hosts.map((h) => h.name);
    for (const holder of names) {
      const fate = fateOf(t, { holders: [holder], holderKnowsNoMac: true });
      expect({ holder, fromHolder: fate.copies.filter((c) => c.startsWith(`${holder}→`)).length }).toEqual({ holder, fromHolder: 1 });
      expect(fate.copies.length).toBeLessThan(count);
    }
  });

  test('dead peers at either end of the line are left out: a segment nobody owns is still reset once, by the last live peer; one the live peer owns is served', () => {
    const t = withLoadBalancers(4);
    expect(copyOrigin(t, t.loadBalancer.hosts[1], ['192.168.10.60'])).toEqual({ gateway: '192.168.10.60', ttlSet: lastCopyTtl(t) + 1 });
    expect(copyOrigin(t, t.loadBalancer.hosts[1], [])).toBeUndefined();
    expect(copyRules(t, t.loadBalancer.hosts[1], []).map((r) => r.target)).toEqual([{ jump: 'ACCEPT' }]);
    // lb01 powered off, lb02 took the VIP: lb03 and lb04 live.
    expect(fateOf(t, { holders: ['lb02'], live: ['lb03', 'lb04'] })).toEqual({ served: [], resets: ['lb04'], copies: ['lb02→lb03', 'lb03→lb04'] });
    expect(fateOf(t, { holders: ['lb02'], live: ['lb03', 'lb04'], owner: 'lb03' })).toEqual({ served: ['lb03'], resets: [], copies: ['lb02→lb03'] });
    // lb04 dead as well, and lb01 live: the chain ends at lb03.
    expect(fateOf(t, { holders: ['lb02'], live: ['lb01', 'lb03'] }).resets).toEqual(['lb03']);
    // No peer live: reset by the holder itself.
    expect(fateOf(t, { holders: ['lb02'], live: [] })).toEqual({ served: [], resets: ['lb02'], copies: [] });
  });
});

describe('the load balancer bundle with and without in-flight forwarding', () => {
  const names = (overrides?: Parameters<typeof loadTopology>[0]) => renderFixture(overrides).bundles.find((b) => b.id === 'lb01')!.files.map((f) => f.name);

  test('on by default: the rules, the script and the unit; keepalived runs the script as root on every transition', () => {
    expect(names()).toEqual(expect.arrayContaining(['in-flight.rules', 'in-flight.sh', IN_FLIGHT_UNIT, IN_FLIGHT_REARM_UNIT]));
    // Armed after firewalld (which empties the iptables tables when it starts), and again after each of its reloads.
    expect(renderInFlightUnit()).toMatch(/^After=firewalld\.service$/m);
    expect(renderInFlightRearmUnit()).toContain(`ExecStart=${IN_FLIGHT_SCRIPT} follow-firewalld`);
    expect(renderInFlightRearmUnit()).toContain(`PartOf=${IN_FLIGHT_UNIT}`);
    const t = loadTopology();
    const conf = keepalivedConf(t, t.loadBalancer.master);
    expect(argsOf(directiveAt(conf, 'vrrp_instance', 'notify_master'))).toEqual([`${IN_FLIGHT_SCRIPT} master`, 'root']);
    expect(argsOf(directiveAt(conf, 'vrrp_instance', 'notify_backup'))).toEqual([`${IN_FLIGHT_SCRIPT} arm`, 'root']);
    expect(argsOf(directiveAt(conf, 'vrrp_instance', 'notify_fault'))).toEqual([`${IN_FLIGHT_SCRIPT} arm`, 'root']);
    // The VIP stays on lo when nginx starts: a peer passes this host's connections back to it there.
    expect(renderNginxStateUnit(t)).not.toContain('dev lo');
  });

  test.each([
    ['forwardInFlight: false', { loadBalancer: { forwardInFlight: false } }],
    ['a single load balancer (no peer)', { loadBalancer: { hosts: [{ name: 'lb01', address: '192.168.10.40', priority: 100 }] } }],
  ])('none of it with %s', (_name, overrides) => {
    expect(names({ overrides })).not.toContain('in-flight.rules');
    const t = loadTopology({ overrides });
    expect(directiveAt(keepalivedConf(t, t.loadBalancer.master), 'vrrp_instance', 'notify_master')).toBeUndefined();
    expect(renderNginxStateUnit(t)).toContain(`ip -4 addr del ${t.loadBalancer.vip}/32 dev lo`);
  });
});

describe('in-flight.sh (bash; stand-ins for iptables, ip and the peer probe)', () => {
  const dir = scratchDir('k8s-ha-edge-in-flight-');
  const MACS: Record<string, string> = { '192.168.10.40': '02:00:00:00:00:40', '192.168.10.50': '02:00:00:00:00:50', '192.168.10.60': '02:00:00:00:00:60' };

  /** The probe stand-in answers for lb01 (alive) and fails for lb03 (gone). */
  const ANSWERS_LB01 = '[ "$6" = 192.168.10.40 ]';
  interface Run { code: number | null; calls: string[]; restored: string[]; stderr: string }
  /**
   * Runs steps of the script for host `host` of three, side by side when there are several; `holding`
   * says whether the stand-in `ip` shows the VIP on the VRRP interface; `slow` makes each iptables call
   * last 0.2 s and note when two calls overlap.
   */
  function run(steps: string[], opts: { host?: number; answers?: string; holding?: boolean; slow?: boolean; emptied?: boolean; busctl?: string } = {}): Run {
    const { host = 1, answers = ANSWERS_LB01, holding = true, slow = false, emptied = false, busctl = 'exit 0' } = opts;
    const t = three();
    const lb = t.loadBalancer.hosts[host];
    const work = mkdtempSync(join(dir, 'run-'));
    const path = join(work, 'in-flight.sh');
    // The lock and the watch's pid file in the scratch directory, a short settle, and one round of the watch.
    writeFileSync(path, renderInFlightScript(t, lb)
      .replace(/^readonly WATCH_PID_FILE=.*$/m, `readonly WATCH_PID_FILE=${join(work, 'watch.pid')}`)
      .replace(/^readonly LOCK_FILE=.*$/m, `readonly LOCK_FILE=${join(work, 'lock')}`)
      .replace(/^readonly RULES_FILE=.*$/m, `readonly RULES_FILE=${join(work, 'in-flight.rules')}`)
      .replace(/^readonly SETTLE_SECONDS=.*$/m, 'readonly SETTLE_SECONDS=0.2')
      .replace(/^readonly WATCH_SECONDS=.*$/m, 'readonly WATCH_SECONDS=1')
      .replace(/^readonly FIREWALLD_SETTLE_SECONDS=.*$/m, 'readonly FIREWALLD_SETTLE_SECONDS=0.1'));
    writeFileSync(join(work, 'in-flight.rules'), renderInFlightRules(t, lb));
    const bin = join(work, 'bin');
    spawnSync('mkdir', [bin]);
    const log = join(work, 'calls.log');
    const restored = join(work, 'restored.log');
    const stand = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    const busy = slow ? `mkdir ${work}/busy 2>/dev/null || echo OVERLAP >> ${log}; sleep 0.2; rmdir ${work}/busy 2>/dev/null` : ':';
    // emptied: the tables were emptied (firewalld): the hook is missing until the script puts it back.
    const hook = emptied ? `if [ "$*" = "-w 5 -t mangle -C PREROUTING -j ${IN_FLIGHT_ENTRY_CHAIN}" ] && ! grep -q -- '-I PREROUTING' ${log}; then exit 1; fi` : ':';
    stand('iptables', `echo "iptables $*" >> ${log}; ${busy}; ${hook}`);
    stand('busctl', `echo "busctl $*" >> ${log}; ${busctl}`);
    stand('iptables-restore', `echo "iptables-restore $*" >> ${log}; { cat; echo ---; } >> ${restored}; ${busy}`);
    stand('ip', [
      `echo "ip $*" >> ${log}`,
      'case "$*" in',
      `  "-o -4 addr show dev ${lb.interface}") ${holding ? `echo "2: ${lb.interface}    inet ${t.loadBalancer.vip}/24 scope global ${lb.interface}"` : ':'} ;;`,
      ...Object.entries(MACS).map(([address, mac]) => `  "-4 neigh show to ${address}") echo "${address} dev ${lb.interface} lladdr ${mac} REACHABLE" ;;`),
      'esac',
    ].join('\n'));
    stand('logger', `echo "logger $*" >> ${log}`);
    // The probe: "timeout SECONDS bash -c ... _ PEER PORT".
    stand('timeout', `echo "probe $1 $6 $7" >> ${log}; ${answers.replace(/COUNT/g, join(work, 'count'))}`);
    const script = steps.map((step) => `bash ${path} ${step} & pids+=($!)`).join('\n');
    const result = spawnSync('bash', ['-c', `pids=()\n${script}\ncode=0; for p in "\${pids[@]}"; do wait "$p" || code=$?; done; exit $code`],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    // Wait (at most 5 s) for a watch started by `master` to end its round.
    spawnSync('bash', ['-c', `for _ in $(seq 1 50); do [ -e ${join(work, 'watch.pid')} ] || exit 0; sleep 0.1; done; exit 1`], { timeout: 10_000 });
    const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    return { code: result.status, calls: read(log).trim().split('\n').filter(Boolean), restored: read(restored).split('---\n').filter(Boolean), stderr: result.stderr };
  }
  const rulesIn = (restored: string) => restored.split('\n').filter((l) => l.startsWith('-A '));
  const fromPeers = (t: Topology, host: number, role: InFlightRole = 'holder') => t.loadBalancer.hosts.filter((_, i) => i !== host).map((h) => printRule(IN_FLIGHT_FROM_PEER_CHAIN, fromPeerRule(MACS[h.address], role)));

  test('master, the VIP here: copies along the whole line at once, with a relay rule for each peer MAC, then leaves out the peer that does not answer', () => {
    const t = three();
    const { code, calls, restored } = run(['master']);
    expect(code).toBe(0);
    // One atomic load: the holder's ruleset as printed, plus the learned from-peer rules.
    const first = rulesIn(restored[0]);
    const holder = rulesIn(renderInFlightRules(t, t.loadBalancer.hosts[1]));
    expect(first).toEqual([...holder, ...fromPeers(t, 1)]);
    // The first probe and one round of the watch, each of every peer.
    expect(calls.filter((c) => c.startsWith('probe')).sort()).toEqual(['probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.60 3344', 'probe 0.5 192.168.10.60 3344']);
    // lb03, the last of the line, does not answer: the chain ends at lb01 (the same rules as the model's).
    const rebuilt = copyRules(t, t.loadBalancer.hosts[1], ['192.168.10.40']).map((r) => printRule(IN_FLIGHT_COPY_CHAIN, r));
    expect(rebuilt).toContain(`-A ${IN_FLIGHT_COPY_CHAIN} -j TTL --ttl-set ${lastCopyTtl(t) + 1}`);
    expect(rulesIn(restored[restored.length - 1])).toEqual(rebuilt);
    expect(restored).toHaveLength(3);
  });

  test('arm, the VIP elsewhere: the standby ruleset (no copy rule) and the relay rules; nothing copies of its own', () => {
    const t = three();
    const { code, calls, restored } = run(['arm'], { holding: false });
    expect(code).toBe(0);
    expect(calls).toContain('ip -4 addr replace 192.168.10.100/32 dev lo');
    const standby = rulesIn(printIptablesRestoreOf(t, 1, 'standby'));
    expect(rulesIn(restored[0])).toEqual([...standby, ...fromPeers(t, 1, 'standby')]);
    expect(restored.join('\n')).not.toContain(`-A ${IN_FLIGHT_COPY_CHAIN} `);
  });

  test('the step keepalived named does not decide: master with the VIP gone loads the standby rules, arm with the VIP here the holder\'s', () => {
    const t = three();
    const lateMaster = run(['master'], { holding: false });
    expect(lateMaster.code).toBe(0);
    expect(lateMaster.restored.join('\n')).not.toContain(`-A ${IN_FLIGHT_COPY_CHAIN} `);
    expect(rulesIn(lateMaster.restored[0])).toEqual([...rulesIn(printIptablesRestoreOf(t, 1, 'standby')), ...fromPeers(t, 1, 'standby')]);
    const lateArm = run(['arm'], { holding: true });
    expect(lateArm.code).toBe(0);
    expect(rulesIn(lateArm.restored[0])).toEqual([...rulesIn(renderInFlightRules(t, t.loadBalancer.hosts[1])), ...fromPeers(t, 1)]);
  });

  test('arm and master forked at once (keepalived flapping) never interleave their iptables calls', () => {
    const { code, calls } = run(['arm', 'master', 'arm'], { slow: true });
    expect(code).toBe(0);
    expect(calls).not.toContain('OVERLAP');
    expect(calls.filter((c) => c.startsWith('iptables-restore')).length).toBeGreaterThanOrEqual(6);
  });

  test('the watch leaves out a peer that stops answering later, and then resets here', () => {
    // lb01 answers its first probe only (it powers off after the move); lb03 never. A count per peer: the probes run side by side.
    const { code, restored } = run(['master'], { answers: 'n=$(cat COUNT.$6 2>/dev/null || echo 0); echo $((n + 1)) > COUNT.$6; [ "$6" = 192.168.10.40 ] && [ "$n" -eq 0 ]' });
    expect(code).toBe(0);
    const t = three();
    expect(restored.map(rulesIn)).toContainEqual(copyRules(t, t.loadBalancer.hosts[1], ['192.168.10.40']).map((r) => printRule(IN_FLIGHT_COPY_CHAIN, r)));
    expect(rulesIn(restored[restored.length - 1])).toEqual([`-A ${IN_FLIGHT_COPY_CHAIN} -j ACCEPT`]);
  });

  test('the watch adds a peer that answers only later (its nginx came up after this host took the VIP), at its place in the line', () => {
    // lb02 holds; lb01 answers from the start, lb03 (the last of the line) only from its second probe on.
    const { code, restored } = run(['master'], { answers: 'n=$(cat COUNT.$6 2>/dev/null || echo 0); echo $((n + 1)) > COUNT.$6; [ "$6" = 192.168.10.40 ] || [ "$n" -ge 1 ]' });
    expect(code).toBe(0);
    const t = three();
    const chain = (live: string[]) => copyRules(t, t.loadBalancer.hosts[1], live).map((r) => printRule(IN_FLIGHT_COPY_CHAIN, r));
    expect(restored.map(rulesIn)).toContainEqual(chain(['192.168.10.40']));
    expect(rulesIn(restored[restored.length - 1])).toEqual(chain(['192.168.10.40', '192.168.10.60']));
  });

  test('the watch runs when no peer answered at first: the first peer that answers gets the copies', () => {
    // lb01 holds; neither peer answers its first probe, lb02 answers from its second on.
    const { code, restored } = run(['master'], { host: 0, answers: 'n=$(cat COUNT.$6 2>/dev/null || echo 0); echo $((n + 1)) > COUNT.$6; [ "$6" = 192.168.10.50 ] && [ "$n" -ge 1 ]' });
    expect(code).toBe(0);
    const t = three();
    expect(restored.map(rulesIn)).toContainEqual([`-A ${IN_FLIGHT_COPY_CHAIN} -j ACCEPT`]);
    expect(rulesIn(restored[restored.length - 1])).toEqual(copyRules(t, t.loadBalancer.hosts[0], ['192.168.10.50']).map((r) => printRule(IN_FLIGHT_COPY_CHAIN, r)));
  });

  test('when no peer answers: what nobody serves goes on to this host\'s TCP stack (reset at once), not dropped', () => {
    // lb01's peers are lb02 and lb03, and the stand-in probe answers for lb01 only.
    const { code, restored } = run(['master'], { host: 0 });
    expect(code).toBe(0);
    expect(restored[restored.length - 1]).toContain(`:${IN_FLIGHT_COPY_CHAIN} - [0:0]`);
    expect(rulesIn(restored[restored.length - 1])).toEqual([`-A ${IN_FLIGHT_COPY_CHAIN} -j ACCEPT`]);
  });

  test('follow-firewalld: after firewalld\'s signal, the rules emptied by its reload are armed again (the state in force), once', () => {
    const t = three();
    // Two signals in one burst (a restart: the bus name lost, then taken), then busctl ends.
    const signals = 'echo \'{"member":"NameOwnerChanged"}\'; echo \'{"member":"NameOwnerChanged"}\'';
    const { code, calls, restored } = run(['follow-firewalld'], { holding: false, emptied: true, busctl: signals });
    expect(code).toBe(0);
    const monitor = calls.find((c) => c.startsWith('busctl '))!;
    expect(monitor).toContain('monitor --system');
    expect(monitor).toContain("member='Reloaded'");
    expect(monitor).toContain("arg0='org.fedoraproject.FirewallD1'");
    // One arm for the burst: the standby rules (the VIP is elsewhere), hooked into PREROUTING again.
    expect(restored).toHaveLength(2);
    expect(rulesIn(restored[0])).toEqual([...rulesIn(printIptablesRestoreOf(t, 1, 'standby')), ...fromPeers(t, 1, 'standby')]);
    expect(calls).toContain(`iptables -w 5 -t mangle -I PREROUTING 1 -j ${IN_FLIGHT_ENTRY_CHAIN}`);
  });

  test('follow-firewalld: a signal that left the rules in place changes nothing', () => {
    const { code, calls, restored } = run(['follow-firewalld'], { busctl: 'echo \'{"member":"Reloaded"}\'' });
    expect(code).toBe(0);
    expect(calls.filter((c) => c.includes('-C PREROUTING'))).toHaveLength(3);
    expect(restored).toEqual([]);
  });

  test('an unknown step is refused with exit 2, before taking the lock', () => {
    const bad = run(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('arm|master|disarm');
    expect(bad.calls).toEqual([]);
  });
});

function printIptablesRestoreOf(t: Topology, host: number, role: InFlightRole): string {
  return printIptablesRestore(inFlightRuleset(t, t.loadBalancer.hosts[host], role));
}
