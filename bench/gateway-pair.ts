/**
 * `npm run bench -- --gateway-runs N`: the gateway pair's failovers, N of each fault, in one lab
 * (`npm run lab -- failover --config examples/gateway-pair.yaml --runs N`, the load balancers' own
 * faults left out), summarized per fault and held to the failover goal (lab/failover.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAILOVER_GOAL, medianGapHeld, stats, Stats } from '../lab/failover';
import { GATEWAY_FAULT_LABELS, GatewayFaultKind, GatewayRun } from '../lab/gateway-pair';

export const GATEWAY_BENCH_CONFIG = 'examples/gateway-pair.yaml';
const KINDS: readonly GatewayFaultKind[] = ['power-loss', 'power-off', 'outside-link', 'drain'];
/** A transfer that survived, as lab/gateway-pair.ts reports it. */
const SURVIVED = 'complete, checksum ok';

export interface GatewayKindSummary {
  readonly kind: GatewayFaultKind;
  readonly runs: number;
  readonly gap: Stats;
  readonly failed: number;
  readonly failbackFailed: number;
  /** Runs in which both transfers (DNAT and SNAT) completed with the right checksum. */
  readonly transfersSurvived: number;
  readonly vipMoveMedianMs: number;
  /** Segments handed to the peer in all runs, and the peer's handoffs dropped (never handed back). */
  readonly handedOff: number;
  readonly peersDropped: number;
}

export interface GatewayBenchPart {
  readonly date: string;
  readonly runs: number;
  readonly summaries: readonly GatewayKindSummary[];
  readonly labExit: number | null;
}

/** The sums of a run's handoff report ("gw01 handed off 12, dropped 0 of the peer's; gw02 …"). */
export function handoffTotals(report: string): { handedOff: number; peersDropped: number } {
  let handedOff = 0;
  let peersDropped = 0;
  for (const m of report.matchAll(/handed off (\d+), dropped (\d+)/g)) {
    handedOff += Number(m[1]);
    peersDropped += Number(m[2]);
  }
  return { handedOff, peersDropped };
}

export function summarizeGatewayRuns(runs: readonly GatewayRun[]): GatewayKindSummary[] {
  return KINDS.map((kind) => {
    const done = runs.filter((r) => r.kind === kind);
    const moved = stats(done.flatMap((r) => (typeof r.vipMoveMs === 'number' ? [r.vipMoveMs] : [])));
    const handoffs = done.map((r) => handoffTotals(r.handoffs ?? ''));
    return {
      kind, runs: done.length, gap: stats(done.map((r) => r.gapMs)),
      failed: done.reduce((n, r) => n + r.failed, 0), failbackFailed: done.reduce((n, r) => n + r.failbackFailed, 0),
      transfersSurvived: done.filter((r) => r.inbound === SURVIVED && r.outbound === SURVIVED).length,
      vipMoveMedianMs: moved.median,
      handedOff: handoffs.reduce((n, h) => n + h.handedOff, 0), peersDropped: handoffs.reduce((n, h) => n + h.peersDropped, 0),
    };
  });
}

/** The thresholds: the failover goal per fault (a power loss and a lost outside link: the worst gap only, see UNANNOUNCED_FAULTS), nothing lost in a failback or a drain, every transfer whole. */
export function gatewayChecks(part: GatewayBenchPart): Array<{ what: string; value: number; max: number; failover: true }> {
  return part.summaries.flatMap((k) => {
    const label = `gateway pair, ${GATEWAY_FAULT_LABELS[k.kind].replace(/ \(.*/, '')}`;
    return [
      ...(k.kind !== 'drain' && medianGapHeld(k.kind) ? [{ what: `${label}: median gap ms (${k.runs} runs)`, value: k.gap.median, max: FAILOVER_GOAL.medianGapMs, failover: true as const }] : []),
      ...(k.kind === 'drain'
        ? [{ what: `${label}: failed requests (${k.runs} runs)`, value: k.failed + k.failbackFailed, max: FAILOVER_GOAL.drainFailed, failover: true as const }]
        : [{ what: `${label}: worst gap ms (${k.runs} runs)`, value: k.gap.max, max: FAILOVER_GOAL.maxGapMs, failover: true as const }]),
      { what: `${label}: failed requests in failback (${k.runs} runs)`, value: k.failbackFailed, max: FAILOVER_GOAL.failbackFailed, failover: true as const },
      { what: `${label}: runs whose transfers did not both survive, or missing (${part.runs} asked)`, value: part.runs - k.transfersSurvived, max: 0, failover: true as const },
    ];
  });
}

/** Runs the lab (under `flock lock` when given) and reads its runs back. */
export function runGatewayBench(repo: string, runs: number, [cmd, prefix]: readonly [string, readonly string[]], lock: string | undefined): GatewayBenchPart {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-gateway-'));
  try {
    const out = join(dir, 'gateway.json');
    const labArgs = [...prefix, 'run', '-s', 'lab', '--', 'failover', '--config', GATEWAY_BENCH_CONFIG, '--runs', String(runs), '--json', out];
    const [command, args] = lock ? ['flock', ['-w', '1800', lock, cmd, ...labArgs]] : [cmd, labArgs];
    process.stderr.write(`lab: the gateway pair's faults, ${runs} runs each...\n`);
    // The load balancers' own faults and drain are left out: --runs measures those.
    const lab = spawnSync(command, args, {
      cwd: repo, stdio: ['ignore', 'inherit', 'inherit'], timeout: 90 * 60_000,
      env: { ...process.env, LAB_FAILOVER_KINDS: 'none', LAB_FAILOVER_DRAIN: '0' },
    });
    if (!existsSync(out)) throw new Error(`npm run lab -- failover --config ${GATEWAY_BENCH_CONFIG} wrote no results (exit ${lab.status ?? lab.signal})`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    return { date: report.when, runs, summaries: summarizeGatewayRuns(report.gatewayFailovers ?? []), labExit: lab.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The BENCHMARKS.md section. */
export function gatewayMarkdown(part: GatewayBenchPart): string {
  const ms = (x: number) => (Number.isFinite(x) ? Math.round(x) : '–');
  return `
## Gateway pair (lab, \`${GATEWAY_BENCH_CONFIG}\`: \`npm run bench -- --gateway-runs ${part.runs}\`, ${part.date})

Method: as the load balancers' failovers above (the client's probe through the DNAT path), with two transfers running
through every run: a 31 MB download by the client through the DNAT path and one by a worker from the client through the
SNAT path, 1 MB/s each (about 30 s: they span the fault, the failover, the heal and the failback); a run's transfers
**survive** when both complete with the right sha256. The MASTER gateway (gw01) loses power, is powered off, loses its
outside link or is drained, then comes back and takes the VIPs back after its preempt delay. **Handed off**: segments a
gateway passed to its peer because only the peer knew their connection (lib/gateway/handoff.ts), all runs; **dropped of the
peer's**: segments the peer handed over that this gateway could not place either (never handed back). A power loss and a
lost outside link are held to the worst gap only: nobody learns of them before adverts are missed, and a client SYN sent
meanwhile is resent by the client's TCP after 1 s (docs/hosts.md, "A gateway pair").

| fault on gw01 | runs | gap min / median / max ms | failed (all runs) | failback failed (all runs) | transfers survived | VIPs moved, median ms | handed off / dropped of the peer's |
|---|---|---|---|---|---|---|---|
${part.summaries.map((k) => `| ${GATEWAY_FAULT_LABELS[k.kind]} | ${k.runs} | ${ms(k.gap.min)} / ${ms(k.gap.median)} / ${ms(k.gap.max)} | ${k.failed} | ${k.failbackFailed} | ${k.transfersSurvived}/${k.runs} | ${ms(k.vipMoveMedianMs)} | ${k.handedOff} / ${k.peersDropped} |`).join('\n')}
`;
}
