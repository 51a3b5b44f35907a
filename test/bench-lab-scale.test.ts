import { parseBenchArgs } from '../bench/args';
import { LAB_SCALE_BOUNDS, labScaleChecks, labScaleRun, mergeLabScale } from '../bench/lab-scale';

describe('npm run bench flags', () => {
  test('GIVEN no flag THEN synth only: no lab, no help', () => {
    expect(parseBenchArgs([])).toEqual({ help: false, runs: undefined, failoverOnly: false, labScale: undefined, gatewayRuns: undefined });
  });

  test('GIVEN --lab-scale alone or before another flag THEN every size, in the table order', () => {
    expect(parseBenchArgs(['--lab-scale'])).toMatchObject({ labScale: [2, 12, 20] });
    expect(parseBenchArgs(['--lab-scale', '--runs', '3'])).toMatchObject({ labScale: [2, 12, 20], runs: 3 });
  });

  test('GIVEN --lab-scale with a list THEN only those sizes, each once, in the table order', () => {
    expect(parseBenchArgs(['--lab-scale', '20'])).toMatchObject({ labScale: [20] });
    expect(parseBenchArgs(['--lab-scale', '20,2,20'])).toMatchObject({ labScale: [2, 20] });
  });

  test('GIVEN a bad flag or value THEN an error naming the flag, the value and what was expected', () => {
    expect(parseBenchArgs(['--lab-scale', '7'])).toEqual({ error: '--lab-scale: got "7", expected a comma list of worker counts among 2, 12, 20' });
    expect(parseBenchArgs(['--lab-scale', '12,'])).toHaveProperty('error');
    expect(parseBenchArgs(['--runs', '0'])).toEqual({ error: '--runs: got "0", expected an integer in 1-100' });
    expect(parseBenchArgs(['--runs'])).toEqual({ error: '--runs: got null, expected an integer in 1-100' });
    expect(parseBenchArgs(['--runs', '2.5'])).toHaveProperty('error');
    expect(parseBenchArgs(['--labscale'])).toEqual({ error: 'flag: got "--labscale", expected one of --runs N, --gateway-runs N, --failover-only, --lab-scale [2,12,20], --help' });
    expect(parseBenchArgs(['--help'])).toMatchObject({ help: true });
  });
});

describe('the lab cost by site size', () => {
  /** A results file as `npm run lab -- test` writes it (lab/main.ts). */
  const results = (over: Record<string, unknown> = {}, checks?: unknown[]) => JSON.stringify({
    when: '2026-12-07T15:00:00.000Z', totalMs: 600_000, memory: { startAvailableMiB: 23000, minAvailableMiB: 22600, peakUsedMiB: 400, containersPeakMiB: 300 },
    workers: 12, containers: 17,
    results: checks ?? [
      { id: '1', ok: true, measured: { labUpMs: 60_000, applyMs: 30_000 } },
      { id: '2', ok: true, measured: {} },
      { id: '8', ok: true, measured: { downMs: 20_000 } },
    ],
    ...over,
  });

  test('GIVEN a passing run THEN its total, phases, memory, containers and counts', () => {
    expect(labScaleRun(12, 'lab/sites/twelve-workers.yaml', results(), 0, 'x')).toEqual({
      workers: 12, site: 'lab/sites/twelve-workers.yaml', date: '2026-12-07T15:00:00.000Z', labExit: 0,
      totalMs: 600_000, bootMs: 60_000, applyMs: 30_000, checksMs: 490_000, teardownMs: 20_000,
      peakUsedMiB: 400, containersPeakMiB: 300, startAvailableMiB: 23000, containers: 17, labWorkers: 12, passed: 3, failed: 0, notRun: 0, failedChecks: [],
    });
    expect(labScaleChecks([labScaleRun(12, 'x', results(), 0, 'x')]).filter((c) => c.value > c.max)).toEqual([]);
  });

  test('GIVEN a failed check, an unrun one, or a lab exit 1 THEN the bench fails', () => {
    const failing = labScaleRun(12, 'x', results({}, [
      { id: '1', ok: true, measured: { labUpMs: 1, applyMs: 1 } }, { id: 'V2', ok: false, measured: {} },
      { id: '6', ok: true, notRun: true, measured: {} }, { id: '8', ok: true, measured: { downMs: 1 } },
    ]), 1, 'x');
    expect(failing).toMatchObject({ passed: 2, failed: 1, notRun: 1, failedChecks: ['V2'] });
    const over = labScaleChecks([failing]).filter((c) => c.value > c.max).map((c) => c.what);
    expect(over).toEqual(['lab, 12 workers: checks failed or not run (V2)', 'lab, 12 workers: lab exit code']);
  });

  test('GIVEN wall time or memory above the size bound THEN exactly that check fails', () => {
    const { wallS, memoryMiB } = LAB_SCALE_BOUNDS[12];
    const slow = labScaleRun(12, 'x', results({ totalMs: (wallS + 1) * 1000 }), 0, 'x');
    expect(labScaleChecks([slow]).filter((c) => c.value > c.max).map((c) => c.what)).toEqual(['lab, 12 workers: wall time s']);
    const heavy = labScaleRun(12, 'x', results({ memory: { startAvailableMiB: 23000, peakUsedMiB: memoryMiB + 1, containersPeakMiB: memoryMiB + 1 } }), 0, 'x');
    expect(labScaleChecks([heavy]).filter((c) => c.value > c.max).map((c) => c.what)).toEqual(["lab, 12 workers: containers' memory at the peak MiB"]);
    const atBound = labScaleRun(12, 'x', results({ totalMs: wallS * 1000, memory: { peakUsedMiB: memoryMiB, containersPeakMiB: memoryMiB } }), 0, 'x');
    expect(labScaleChecks([atBound]).filter((c) => c.value > c.max)).toEqual([]);
  });

  test("GIVEN other work on the machine took memory during the lab THEN only the containers' own figure is held to the bound", () => {
    const { memoryMiB } = LAB_SCALE_BOUNDS[12];
    const busyMachine = labScaleRun(12, 'x', results({ memory: { startAvailableMiB: 23000, peakUsedMiB: memoryMiB * 3, containersPeakMiB: memoryMiB - 1 } }), 0, 'x');
    expect(labScaleChecks([busyMachine]).filter((c) => c.value > c.max)).toEqual([]);
    // A lab that could not read its cgroup: the machine-wide figure, and the check says so.
    const noCgroup = labScaleRun(12, 'x', results({ memory: { startAvailableMiB: 23000, peakUsedMiB: memoryMiB + 1 } }), 0, 'x');
    expect(labScaleChecks([noCgroup]).filter((c) => c.value > c.max).map((c) => c.what))
      .toEqual(["lab, 12 workers: memory at the peak MiB (machine-wide: the containers' own figure was not measured)"]);
  });

  test('GIVEN the lab booted another worker count than the size THEN the bench fails', () => {
    const wrongSite = labScaleRun(20, 'x', results(), 0, 'x');
    expect(labScaleChecks([wrongSite]).filter((c) => c.value > c.max).map((c) => c.what)).toEqual(['lab, 20 workers: workers booted other than asked']);
  });

  test('GIVEN no results file or an unreadable one THEN a run with no figures, which fails every check', () => {
    const none = labScaleRun(2, 'default', undefined, null, '2026-12-07T15:00:00.000Z');
    expect(none).toEqual({ workers: 2, site: 'default', date: '2026-12-07T15:00:00.000Z', labExit: null, error: 'the lab wrote no results file (exit null)' });
    expect(labScaleChecks([none]).every((c) => c.value > c.max)).toBe(true);
    expect(labScaleRun(2, 'default', '{"totalMs":', 1, 'x').error).toMatch(/^the results file is not JSON/);
    expect(labScaleRun(2, 'default', '{}', 1, 'x').error).toBe('the results file has no totalMs or no results');
  });

  test('GIVEN one size rerun THEN the other sizes are kept from before, in the sites order', () => {
    const old = [2, 12, 20].map((w) => ({ workers: w, site: 's', date: 'before', labExit: 0 }));
    const merged = mergeLabScale(old, [{ workers: 20, site: 's', date: 'now', labExit: 0 }]);
    expect(merged.map((r) => `${r.workers} ${r.date}`)).toEqual(['2 before', '12 before', '20 now']);
    expect(mergeLabScale(undefined, [{ workers: 12, site: 's', date: 'now', labExit: 0 }]).map((r) => r.workers)).toEqual([12]);
  });
});
