/**
 * In-flight forwarding on the load balancers (lib/load-balancer/in-flight.ts): the rules asked as a
 * model, keepalived's notify wiring, and the script's `master` step run by bash with stand-ins for
 * iptables and the peer probe.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argsOf, directiveAt } from '../lib/formats/directive-tree';
import { chainOf, Rule } from '../lib/formats/ruleset';
import { copiedTo, IN_FLIGHT_CHAIN, IN_FLIGHT_ENTRY_CHAIN, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT, inFlightRuleset, PASSED_ON_DSCP, renderInFlightRules, renderInFlightScript } from '../lib/load-balancer/in-flight';
import { keepalivedConf, renderNginxStateUnit } from '../lib/load-balancer/keepalived';
import { loadTopology, Topology } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';

/** lb01 (.40), lb02 (.50) and lb03 (.60), by falling priority. */
const three = () => loadTopology({
  overrides: { loadBalancer: { hosts: [100, 90, 80].map((priority, i) => ({ name: `lb0${i + 1}`, address: `192.168.10.${40 + 10 * i}`, priority })) } },
});

const rulesOf = (t: Topology, host = 0): readonly Rule[] => chainOf(inFlightRuleset(t, t.loadBalancer.hosts[host]), 'mangle', IN_FLIGHT_CHAIN)!.rules;

describe('the in-flight ruleset', () => {
  test('picks only segments to the VIP\'s port that are not a SYN, in its own chains (loaded with --noflush)', () => {
    const t = loadTopology();
    const ruleset = inFlightRuleset(t, t.loadBalancer.master);
    expect(ruleset.tables.map((table) => [table.name, table.chains.map((c) => [c.name, c.policy])])).toEqual([
      ['mangle', [[IN_FLIGHT_ENTRY_CHAIN, undefined], [IN_FLIGHT_CHAIN, undefined]]],
    ]);
    const [entry] = chainOf(ruleset, 'mangle', IN_FLIGHT_ENTRY_CHAIN)!.rules;
    expect(entry).toMatchObject({ destination: '192.168.10.100', tcpDestinationPort: 3344, tcpNotSyn: true, target: { jump: 'CHAIN', chain: IN_FLIGHT_CHAIN } });
  });

  test('the peers it copies to read back from the printed chain, as verify and the lab read iptables -S', () => {
    const t = three();
    expect(copiedTo(renderInFlightRules(t, t.loadBalancer.hosts[1]))).toEqual(['192.168.10.40', '192.168.10.60']);
  });

  test('serves its own connections, drops what a peer passed on, and copies the rest to every peer before dropping it', () => {
    const t = three();
    const rules = rulesOf(t, 1);
    expect(rules[0]).toMatchObject({ socket: true, target: { jump: 'RETURN' } });
    // A passed-on segment is dropped before anything could copy it again: no loop between peers.
    expect(rules[1]).toMatchObject({ dscp: PASSED_ON_DSCP, target: { jump: 'DROP' } });
    expect(rules[2].target).toEqual({ jump: 'DSCP', setDscp: PASSED_ON_DSCP });
    expect(rules.slice(3, -1).map((r) => r.target)).toEqual([{ jump: 'TEE', gateway: '192.168.10.40' }, { jump: 'TEE', gateway: '192.168.10.60' }]);
    expect(rules[rules.length - 1].target).toEqual({ jump: 'DROP' });
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

describe('in-flight.sh master (bash, stand-in iptables; peers probed on loopback names)', () => {
  const dir = scratchDir('k8s-ha-edge-in-flight-');

  /** The script for lb02 of three, with `timeout` answering for lb01 (alive) and failing for lb03 (gone). */
  const ANSWERS_LB01 = '[ "$6" = 192.168.10.40 ]';
  function run(action: string, host = 1, answers = ANSWERS_LB01): { code: number | null; calls: string[]; stderr: string } {
    const t = three();
    const path = join(dir, `in-flight-${action}-${host}.sh`);
    // The watch's pid file in the scratch directory, and one round of it instead of five minutes.
    const watchPid = join(dir, `watch-${action}-${host}.pid`);
    writeFileSync(path, renderInFlightScript(t, t.loadBalancer.hosts[host])
      .replace(/^readonly WATCH_PID_FILE=.*$/m, `readonly WATCH_PID_FILE=${watchPid}`)
      .replace(/^readonly WATCH_SECONDS=.*$/m, 'readonly WATCH_SECONDS=1'));
    const bin = mkdtempSync(join(dir, 'bin-'));
    const log = join(bin, 'calls.log');
    const stand = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stand('iptables', `echo "iptables $*" >> ${log}`);
    stand('iptables-restore', `echo "iptables-restore $*" >> ${log}`);
    stand('ip', `echo "ip $*" >> ${log}`);
    stand('logger', `echo "logger $*" >> ${log}`);
    // The probe: "timeout SECONDS bash -c ... _ PEER PORT"; lb01 answers, lb03 does not.
    stand('timeout', `echo "probe $1 $6 $7" >> ${log}; ${answers.replace(/COUNT/g, join(bin, 'count'))}`);
    const result = spawnSync('bash', [path, action], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    // Wait (at most 5 s) for the watch started by `master` to end its round.
    spawnSync('bash', ['-c', `for _ in $(seq 1 50); do [ -e ${watchPid} ] || exit 0; sleep 0.1; done; exit 1`], { timeout: 10_000 });
    return { code: result.status, calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [], stderr: result.stderr };
  }

  test('stops copying only to the peer that does not answer on the LB port', () => {
    const { code, calls } = run('master');
    expect(code).toBe(0);
    // Both at once, then (the watch, one round here) only the one still copied to.
    expect(calls.filter((c) => c.startsWith('probe'))).toEqual(expect.arrayContaining(['probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.60 3344']));
    expect(calls.filter((c) => c.startsWith('probe')).sort()).toEqual(['probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.40 3344', 'probe 0.5 192.168.10.60 3344']);
    expect(calls.filter((c) => c.startsWith('iptables'))).toEqual([`iptables -w 5 -t mangle -D ${IN_FLIGHT_CHAIN} -j TEE --gateway 192.168.10.60`]);
  });

  test('the watch stops copying to a peer that stops answering later, and then resets here', () => {
    // lb01 answers the first probe only (it powers off after the move); lb03 never.
    const { code, calls } = run('master', 1, 'n=$(cat COUNT 2>/dev/null || echo 0); echo $((n + 1)) > COUNT; [ "$6" = 192.168.10.40 ] && [ "$n" -eq 0 ]');
    expect(code).toBe(0);
    expect(calls.filter((c) => c.startsWith('iptables'))).toEqual([
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_CHAIN} -j TEE --gateway 192.168.10.60`,
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_CHAIN} -j TEE --gateway 192.168.10.40`,
      `iptables -w 5 -t mangle -F ${IN_FLIGHT_CHAIN}`,
    ]);
  });

  test('when no peer answers, empties its chain: what nobody serves is reset here at once, not dropped', () => {
    // lb01's peers are lb02 and lb03, and the stand-in probe answers for lb01 only.
    const { code, calls } = run('master', 0);
    expect(code).toBe(0);
    const iptables = calls.filter((c) => c.startsWith('iptables'));
    // The peers are probed side by side, so their deletions come in any order; the flush comes last.
    expect(iptables.slice(0, 2).sort()).toEqual([
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_CHAIN} -j TEE --gateway 192.168.10.50`,
      `iptables -w 5 -t mangle -D ${IN_FLIGHT_CHAIN} -j TEE --gateway 192.168.10.60`,
    ]);
    expect(iptables.slice(2)).toEqual([`iptables -w 5 -t mangle -F ${IN_FLIGHT_CHAIN}`]);
  });

  test('arm loads the rules with --noflush and puts the VIP on lo; an unknown step is refused with exit 2', () => {
    const armed = run('arm');
    expect(armed.code).toBe(0);
    expect(armed.calls).toContain('iptables-restore -w 5 --noflush /etc/keepalived/k8s-ha-edge-in-flight.rules');
    expect(armed.calls).toContain('ip -4 addr replace 192.168.10.100/32 dev lo');
    const bad = run('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('arm|master|disarm');
  });
});
