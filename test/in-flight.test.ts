/**
 * In-flight forwarding on the load balancers (lib/load-balancer/in-flight.ts): the rules asked as a
 * model, keepalived's notify wiring, and the script's `master` step run by bash with stand-ins for
 * iptables and the peer probe.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argsOf, directiveAt } from '../lib/formats/directive-tree';
import { chainOf, printIptablesRestore, printRule, Rule } from '../lib/formats/ruleset';
import {
  COPY_RATE, copiedTo, fromPeerRule, IN_FLIGHT_CHAIN, IN_FLIGHT_COPY_CHAIN, IN_FLIGHT_ENTRY_CHAIN, IN_FLIGHT_FROM_PEER_CHAIN, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT,
  inFlightCounters, inFlightRuleset, InFlightRole, passedOnVerdict, renderInFlightRules, renderInFlightScript,
} from '../lib/load-balancer/in-flight';
import { keepalivedConf, renderNginxStateUnit } from '../lib/load-balancer/keepalived';
import { loadTopology, Topology } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';

/** lb01 (.40), lb02 (.50) and lb03 (.60), by falling priority. */
const three = () => loadTopology({
  overrides: { loadBalancer: { hosts: [100, 90, 80].map((priority, i) => ({ name: `lb0${i + 1}`, address: `192.168.10.${40 + 10 * i}`, priority })) } },
});

const rulesOf = (t: Topology, chain: string, host = 0, role: InFlightRole = 'holder'): readonly Rule[] => chainOf(inFlightRuleset(t, t.loadBalancer.hosts[host], role), 'mangle', chain)!.rules;
const targets = (rules: readonly Rule[]) => rules.map((r) => r.target);

describe('the in-flight ruleset', () => {
  test('picks only segments to the VIP\'s port that are not a SYN, in its own chains (loaded with --noflush)', () => {
    const t = loadTopology();
    const ruleset = inFlightRuleset(t, t.loadBalancer.master);
    expect(ruleset.tables.map((table) => [table.name, table.chains.map((c) => [c.name, c.policy])])).toEqual([
      ['mangle', [[IN_FLIGHT_ENTRY_CHAIN, undefined], [IN_FLIGHT_CHAIN, undefined], [IN_FLIGHT_FROM_PEER_CHAIN, undefined], [IN_FLIGHT_COPY_CHAIN, undefined]]],
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

  test('the peers it copies to read back from the printed chain, as verify and the lab read iptables -S', () => {
    const t = three();
    expect(copiedTo(renderInFlightRules(t, t.loadBalancer.hosts[1]))).toEqual(['192.168.10.40', '192.168.10.60']);
  });

  test('serves its own connections, settles a peer\'s copy before anything could copy it, copies only in the copy chain, drops the rest', () => {
    const t = three();
    expect(targets(rulesOf(t, IN_FLIGHT_CHAIN, 1))).toEqual([
      { jump: 'RETURN' },
      // The loop guard (a copy from a peer, by its MAC address) comes before the copying.
      { jump: 'CHAIN', chain: IN_FLIGHT_FROM_PEER_CHAIN },
      { jump: 'CHAIN', chain: IN_FLIGHT_COPY_CHAIN },
      { jump: 'DROP' },
    ]);
    expect(rulesOf(t, IN_FLIGHT_CHAIN, 1)[0].socket).toBe(true);
    // Nothing in the guard depends on the IP header (DSCP, TTL): a path may rewrite it.
    const all = inFlightRuleset(t, t.loadBalancer.hosts[1]).tables.flatMap((table) => table.chains.flatMap((c) => c.rules));
    expect(all.filter((r) => r.dscp !== undefined || r.target.jump === 'DSCP')).toEqual([]);
  });

  test('the holder copies at a bounded rate per connection, to every peer, then drops; on standby nothing is copied', () => {
    const t = three();
    const copy = rulesOf(t, IN_FLIGHT_COPY_CHAIN, 1);
    expect(copy[0]).toMatchObject({ hashlimitAbove: COPY_RATE, target: { jump: 'DROP' } });
    expect(COPY_RATE.mode).toEqual(['srcip', 'srcport']);
    expect(targets(copy.slice(1))).toEqual([{ jump: 'TEE', gateway: '192.168.10.40' }, { jump: 'TEE', gateway: '192.168.10.60' }, { jump: 'DROP' }]);
    const standby = inFlightRuleset(t, t.loadBalancer.hosts[1], 'standby').tables.flatMap((table) => table.chains.flatMap((c) => c.rules));
    expect(standby.filter((r) => r.target.jump === 'TEE')).toEqual([]);
    expect(rulesOf(t, IN_FLIGHT_COPY_CHAIN, 1, 'standby')).toEqual([]);
  });

  test('a copy nobody owns: reset with two load balancers (nobody else can own it), dropped with three (another peer may)', () => {
    const two = loadTopology();
    expect(passedOnVerdict(two)).toBe('ACCEPT');
    expect(fromPeerRule(two, '02:00:00:00:00:50')).toEqual({ macSource: '02:00:00:00:00:50', target: { jump: 'ACCEPT' } });
    expect(passedOnVerdict(three())).toBe('DROP');
    expect(printRule(IN_FLIGHT_FROM_PEER_CHAIN, fromPeerRule(three(), '02:00:00:00:00:50'))).toBe(`-A ${IN_FLIGHT_FROM_PEER_CHAIN} -m mac --mac-source 02:00:00:00:00:50 -j DROP`);
  });
});

describe('the load balancer bundle with and without in-flight forwarding', () => {
  const names = (overrides?: Parameters<typeof loadTopology>[0]) => renderFixture(overrides).bundles.find((b) => b.id === 'lb01')!.files.map((f) => f.name);

  test('on by default: the rules, the script and the unit; keepalived runs the script as root on every transition', () => {
    expect(names()).toEqual(expect.arrayContaining(['in-flight.rules', 'in-flight.sh', IN_FLIGHT_UNIT]));
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
  function run(steps: string[], opts: { host?: number; answers?: string; holding?: boolean; slow?: boolean } = {}): Run {
    const { host = 1, answers = ANSWERS_LB01, holding = true, slow = false } = opts;
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
      .replace(/^readonly WATCH_SECONDS=.*$/m, 'readonly WATCH_SECONDS=1'));
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
    stand('iptables', `echo "iptables $*" >> ${log}; ${busy}`);
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
  const fromPeers = (t: Topology, host: number) => t.loadBalancer.hosts.filter((_, i) => i !== host).map((h) => printRule(IN_FLIGHT_FROM_PEER_CHAIN, fromPeerRule(t, MACS[h.address])));

  test('master, the VIP here: copies to every peer at once, with a guard rule for each peer MAC, then stops copying to the one that does not answer', () => {
    const t = three();
    const { code, calls, restored } = run(['master']);
    expect(code).toBe(0);
    // One atomic load: the holder's ruleset as printed, plus the learned guard rules.
    const first = rulesIn(restored[0]);
    const holder = rulesIn(renderInFlightRules(t, t.loadBalancer.hosts[1]));
    expect(first).toEqual([...holder, ...fromPeers(t, 1)]);
    expect(calls.filter((c) => c.startsWith('probe')).sort()).toEqual(['probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.60 3344']);
    expect(calls.filter((c) => c.startsWith('iptables -'))).toContain(`iptables -w 5 -t mangle -D ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.60`);
    expect(calls.filter((c) => c.includes(`-D ${IN_FLIGHT_COPY_CHAIN}`))).toHaveLength(1);
  });

  test('arm, the VIP elsewhere: the standby ruleset (no copy rule) and the guard rules; nothing copies', () => {
    const t = three();
    const { code, calls, restored } = run(['arm'], { holding: false });
    expect(code).toBe(0);
    expect(calls).toContain('ip -4 addr replace 192.168.10.100/32 dev lo');
    const standby = rulesIn(printIptablesRestoreOf(t, 1, 'standby'));
    expect(rulesIn(restored[0])).toEqual([...standby, ...fromPeers(t, 1)]);
    expect(restored.join('\n')).not.toContain('-j TEE');
  });

  test('the step keepalived named does not decide: master with the VIP gone loads the standby rules, arm with the VIP here the holder\'s', () => {
    const t = three();
    const lateMaster = run(['master'], { holding: false });
    expect(lateMaster.code).toBe(0);
    expect(lateMaster.restored.join('\n')).not.toContain('-j TEE');
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

  test('the watch stops copying to a peer that stops answering later, and then resets here', () => {
    // lb01 answers the first probe only (it powers off after the move); lb03 never.
    const { code, calls, restored } = run(['master'], { answers: 'n=$(cat COUNT 2>/dev/null || echo 0); echo $((n + 1)) > COUNT; [ "$6" = 192.168.10.40 ] && [ "$n" -eq 0 ]' });
    expect(code).toBe(0);
    expect(calls.filter((c) => c.startsWith('iptables -'))).toEqual(expect.arrayContaining([
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.60`,
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.40`,
    ]));
    expect(rulesIn(restored[restored.length - 1])).toEqual([`-A ${IN_FLIGHT_COPY_CHAIN} -j ACCEPT`]);
  });

  test('when no peer answers: what nobody serves goes on to this host\'s TCP stack (reset at once), not dropped', () => {
    // lb01's peers are lb02 and lb03, and the stand-in probe answers for lb01 only.
    const { code, calls, restored } = run(['master'], { host: 0 });
    expect(code).toBe(0);
    expect(calls.filter((c) => c.includes(`-D ${IN_FLIGHT_COPY_CHAIN}`)).sort()).toEqual([
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.50`,
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_COPY_CHAIN} -j TEE --gateway 192.168.10.60`,
    ]);
    expect(restored[restored.length - 1]).toContain(`:${IN_FLIGHT_COPY_CHAIN} - [0:0]`);
    expect(rulesIn(restored[restored.length - 1])).toEqual([`-A ${IN_FLIGHT_COPY_CHAIN} -j ACCEPT`]);
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
