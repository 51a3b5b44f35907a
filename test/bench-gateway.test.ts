/**
 * The gateway pair's benchmark: its flag, how its runs are summed, and which sums a threshold holds.
 */
import { parseBenchArgs } from '../bench/args';
import { gatewayChecks, gatewayMarkdown, handoffTotals, summarizeGatewayRuns } from '../bench/gateway-pair';
import { GatewayRun } from '../lab/gateway-pair';

const run = (kind: GatewayRun['kind'], gapMs: number, extra: Partial<GatewayRun> = {}): GatewayRun => ({
  kind, vipMoveMs: 400, vipReturnMs: 6000, gapMs, failed: 0, failbackFailed: 0, requests: 600,
  inbound: 'complete, checksum ok', outbound: 'complete, checksum ok', slow: '',
  handoffs: "gw01 handed off 3, dropped 0 of the peer's; gw02 handed off 10, dropped 1 of the peer's", ...extra,
});

describe('npm run bench -- --gateway-runs N', () => {
  test('takes an integer in 1-100, and names the flag, the value and the range otherwise', () => {
    expect(parseBenchArgs(['--gateway-runs', '10'])).toMatchObject({ gatewayRuns: 10 });
    expect(parseBenchArgs(['--gateway-runs', '0'])).toEqual({ error: '--gateway-runs: got "0", expected an integer in 1-100' });
    expect(parseBenchArgs(['--gateway-runs', 'ten'])).toEqual({ error: '--gateway-runs: got "ten", expected an integer in 1-100' });
    expect(parseBenchArgs(['--gateway-runs'])).toEqual({ error: '--gateway-runs: got null, expected an integer in 1-100' });
  });

  test('sums the handoff counters of a run report', () => {
    expect(handoffTotals("gw01 handed off 3, dropped 0 of the peer's; gw02 handed off 10, dropped 1 of the peer's")).toEqual({ handedOff: 13, peersDropped: 1 });
    expect(handoffTotals('gw01 unread; gw02 unread')).toEqual({ handedOff: 0, peersDropped: 0 });
  });

  const runs = [
    run('power-loss', 200), run('power-loss', 300), run('power-loss', 900),
    run('outside-link', 1200), run('outside-link', 1250, { failed: 1 }),
    run('drain', 180, { failbackFailed: 1 }),
    run('power-off', 190, { outbound: 'broken (curl exit 28, 4.0 MiB, checksum wrong)' }),
  ];
  const summaries = summarizeGatewayRuns(runs);
  const part = { date: '2026-12-07T19:00:00Z', runs: 3, summaries, labExit: 1 };
  const checks = new Map(gatewayChecks(part).map((c) => [c.what, c]));

  test('sums each fault on its own: gaps, failures, surviving transfers, handoffs', () => {
    const loss = summaries.find((k) => k.kind === 'power-loss')!;
    expect([loss.runs, loss.gap.median, loss.gap.max, loss.transfersSurvived, loss.handedOff, loss.peersDropped]).toEqual([3, 300, 900, 3, 39, 3]);
    expect(summaries.find((k) => k.kind === 'power-off')!.transfersSurvived).toBe(0);
  });

  test('holds a power-off to the median and the worst gap, a power loss and a lost outside link to the worst only, a drain to nothing lost', () => {
    expect(checks.get('gateway pair, powered off: median gap ms (1 runs)')).toMatchObject({ value: 190, max: 1000 });
    expect(checks.get('gateway pair, loses power: worst gap ms (3 runs)')).toMatchObject({ value: 900, max: 1500 });
    expect(checks.get('gateway pair, loses its outside link: worst gap ms (2 runs)')).toMatchObject({ value: 1250, max: 1500 });
    expect([...checks.keys()].some((k) => k.includes('outside link: median') || k.includes('loses power: median'))).toBe(false);
    expect(checks.get('gateway pair, drained: failed requests (1 runs)')).toMatchObject({ value: 1, max: 0 });
  });

  test('counts a run whose transfer broke, or a run missing, against the runs asked', () => {
    expect(checks.get('gateway pair, powered off: runs whose transfers did not both survive, or missing (3 asked)')).toMatchObject({ value: 3, max: 0 });
    expect(checks.get('gateway pair, loses power: runs whose transfers did not both survive, or missing (3 asked)')).toMatchObject({ value: 0 });
    expect(gatewayMarkdown(part)).toContain('| loses power (cables cut, every process SIGKILLed) | 3 | 200 / 300 / 900 | 0 | 0 | 3/3 | 400 | 39 / 3 |');
  });
});
