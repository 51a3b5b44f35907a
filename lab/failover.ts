/**
 * What a client sees during a failover, from the probe's samples, and the goal a run must meet
 * (the failover goal): per fault kind, the client-visible gap — from the last good response before the fault
 * to the first good response after it — has a median ≤ 1.0 s and a worst ≤ 1.5 s; failback and a
 * drain lose no request.
 */

/** One request of the client's probe: when it was sent, when it ended, whether it got a page. */
export interface Sample { readonly atMs: number; readonly endMs: number; readonly ok: boolean; readonly body: string }

export const FAILOVER_GOAL = { medianGapMs: 1000, maxGapMs: 1500, failbackFailed: 0, drainFailed: 0 } as const;

/**
 * What `npm run lab` (and so CI) holds its few runs to: the goal itself — the median and the worst gap
 * over its runs, and no failed request in any failback or drain (since in-flight forwarding, a request
 * in flight at the instant the VIP moves is no longer reset by the new holder). `npm run bench` holds
 * the same over ten runs and reports a miss as FAIL.
 */
export const LAB_GATE = { maxGapMs: FAILOVER_GOAL.maxGapMs, failbackFailedPerRun: FAILOVER_GOAL.failbackFailed, drainFailedPerRun: FAILOVER_GOAL.drainFailed } as const;

/** The client-visible gap a failover may cost: the median over a kind's runs, and the worst run. */
export interface GapBound { readonly medianGapMs: number; readonly maxGapMs: number }

/** The VRRP knobs the gap depends on, as the resolved topology has them. */
export interface VrrpKnobs { readonly version: number; readonly advertIntervalMs: number; readonly backupPriority: number }

/** The defaults the goal was measured with (VRRPv3, 100 ms adverts). */
export const DEFAULT_VRRP = { version: 3, advertIntervalMs: 100 } as const;

/**
 * How long a BACKUP waits, after the last advert of a MASTER that is gone, before it takes over:
 * RFC 5798 (VRRPv3) §6.1, Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time with
 * Skew_Time = ((256 − Priority) × Advertisement_Interval) / 256; RFC 3768 (VRRPv2) §6.1, the same
 * with Skew_Time = (256 − Priority) / 256 seconds. keepalived follows both.
 */
export function masterDownIntervalMs(k: VrrpKnobs): number {
  const skewMs = k.version === 3 ? ((256 - k.backupPriority) * k.advertIntervalMs) / 256 : ((256 - k.backupPriority) * 1000) / 256;
  return 3 * k.advertIntervalMs + skewMs;
}

/**
 * The gap a site's own knobs promise: the goal, plus how much later than with the default knobs its
 * first BACKUP notices a MASTER that is gone. Every fault the lab injects is noticed that way: power off
 * and power loss by missing adverts; nginx dying by nginx's systemd state, which drops the MASTER's
 * priority to 1, after which the BACKUP takes over once the interval runs out (measured: 5.2–7.1 s with
 * 2 s adverts). The health check's interval, fall and weight act only when nginx runs but its port does
 * not answer, which the lab does not inject; the preempt delay acts on the way back (failback), where the
 * bound is "nothing fails", not a gap. With the default knobs this is exactly FAILOVER_GOAL.
 */
export function siteGapBound(k: VrrpKnobs): GapBound & { readonly extraMs: number } {
  const extraMs = Math.max(0, Math.round(masterDownIntervalMs(k) - masterDownIntervalMs({ ...DEFAULT_VRRP, backupPriority: k.backupPriority })));
  return { medianGapMs: FAILOVER_GOAL.medianGapMs + extraMs, maxGapMs: FAILOVER_GOAL.maxGapMs + extraMs, extraMs };
}

/** Which requirement a check applies: the goal (the benchmark), or the lab's gate (npm run lab, CI). */
export type FailoverBar = 'goal' | 'lab';

/** Parses the probe's lines: `<sent ms> <ended ms> ok <body>` or `<sent ms> <ended ms> fail [<curl's exit code>]` (the code as the body). */
export function parseSamples(stdout: string): Sample[] {
  return stdout.split('\n').filter((l) => /^\d+ \d+ (ok|fail)/.test(l)).map((l) => {
    const [at, end, status, ...body] = l.split(' ');
    return { atMs: Number(at), endMs: Number(end), ok: status === 'ok', body: body.join(' ') };
  });
}

/**
 * The longest time between two consecutive good responses (by when each response arrived) among
 * the requests sent in [fromMs, toMs), and the requests of that window that failed. A window with
 * no failure still has a gap: the probe's own spacing (~0.1 s).
 */
export function window(samples: readonly Sample[], fromMs: number, toMs: number): { gapMs: number; failed: number; requests: number } {
  const inside = samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
  // The good response just before the window counts: a gap that starts before it is still the outage.
  const before = samples.filter((s) => s.ok && s.atMs < fromMs).slice(-1);
  let gapMs = 0;
  let last: number | undefined;
  for (const s of [...before, ...inside]) {
    if (!s.ok) continue;
    if (last !== undefined) gapMs = Math.max(gapMs, s.endMs - last);
    last = s.endMs;
  }
  return { gapMs, failed: inside.filter((s) => !s.ok).length, requests: inside.length };
}

/**
 * Requests that failed or took at least `slowMs`, as "+<sent, ms after t0>:<took ms>:<ok|fail>", a
 * failure with curl's exit code when the probe gave it ("fail/curl56": reset; 7: refused; 28: timed
 * out; 52: closed without a byte): where an outage came from, and what ended it.
 */
export function slowRequests(samples: readonly Sample[], t0: number, slowMs = 500): string {
  const status = (s: Sample) => (s.ok ? 'ok' : /^\d+$/.test(s.body) ? `fail/curl${s.body}` : 'fail');
  return samples.filter((s) => !s.ok || s.endMs - s.atMs >= slowMs).map((s) => `+${s.atMs - t0}:${s.endMs - s.atMs}:${status(s)}`).join(' ');
}

export interface Stats { readonly n: number; readonly min: number; readonly median: number; readonly p95: number; readonly max: number }

/** min / median / p95 (nearest rank) / max of the values. */
export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { n: 0, min: NaN, median: NaN, p95: NaN, max: NaN };
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  const p95 = v[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)];
  return { n: v.length, min: v[0], median, p95, max: v[v.length - 1] };
}

/** The fault kinds the lab provokes on the MASTER. */
export type FaultKind = 'nginx-dies' | 'nginx-stop' | 'power-off' | 'power-loss';

export const FAULT_LABELS: Record<FaultKind, string> = {
  'nginx-dies': 'nginx dies (every nginx process SIGKILLed)',
  'nginx-stop': 'nginx stopped (systemctl stop nginx)',
  'power-off': 'powered off (clean shutdown)',
  'power-loss': 'loses power (cables cut, every process SIGKILLed)',
};

/** One failover and failback of one kind, as measured. */
export interface FailoverRun {
  readonly kind: FaultKind;
  readonly vipMoveMs: number | 'never';
  readonly vipReturnMs: number | 'never';
  /** The failover: requests sent from 1 s before the fault until the MASTER was healed. */
  readonly gapMs: number;
  readonly failed: number;
  /** The failback: requests sent from the heal to the end. */
  readonly failbackGapMs: number;
  readonly failbackFailed: number;
  readonly requests: number;
  /** The long download through the VIP started before the fault: how it ended. */
  readonly download: string;
  /** Failed or slow requests (slowRequests, from the fault), and the heal, ms after the fault. */
  readonly slow?: string;
  readonly healAtMs?: number;
  /** In-flight forwarding on the new holder 2 s after the fault: the peers it copies to ('none' once the old holder stopped answering), or 'unarmed'. */
  readonly inFlightPassesTo?: string;
  /** And on the MASTER 1.5 s after it took the VIP back: the peers it copies to, or 'unarmed' (its rules gone). */
  readonly inFlightPassesBackTo?: string;
}

/** One drain, maintenance (nginx stopped and started) and undrain. */
export interface DrainRun {
  readonly drainMs: number;
  readonly undrainMs: number;
  readonly failed: number;
  readonly gapMs: number;
  readonly requests: number;
  readonly download: string;
  readonly ok: boolean;
  /** Failed or slow requests, ms after the drain began; when each step began, ms after the drain began. */
  readonly slow?: string;
  readonly steps?: string;
}

export interface KindSummary {
  readonly kind: FaultKind;
  readonly runs: number;
  readonly gap: Stats;
  readonly failed: Stats;
  readonly failbackFailed: number;
  readonly failbackGap: Stats;
  readonly downloads: Record<string, number>;
  /** Which goals this kind missed; empty: met. */
  readonly missed: string[];
}

/** Whether a kind is held to the gap goal (nginx stop is reported; the goal names nginx dying, power off and power loss). */
export const GAP_GOAL_KINDS: readonly FaultKind[] = ['nginx-dies', 'power-off', 'power-loss'];

/**
 * Faults the MASTER cannot announce: it loses power (a load balancer or a gateway), or a gateway loses the
 * link its clients reach it on. Neither the BACKUP nor the clients learn of it before the master down
 * interval has passed (about 0.36 s with the default knobs), and a client's SYN sent in that interval is
 * lost; the client's TCP sends it again only after its initial retransmission timeout, 1 s (RFC 6298 §2.1,
 * Linux's TCP_TIMEOUT_INIT), which no VRRP setting shortens. One such client waits about 1.1–1.3 s
 * (measured), so these faults are held to the goal's worst gap and their median is reported beside the goal.
 * The faults the MASTER does announce (nginx dying or stopped: keepalived lowers its priority at once while
 * its kernel still answers a SYN with a reset, which the client retries at once; a clean power-off and a
 * drain: priority-0 adverts) are held to the whole goal.
 */
export const UNANNOUNCED_FAULTS: readonly string[] = ['power-loss', 'outside-link'];

/** Whether a fault kind's median gap is held to the goal's median (see UNANNOUNCED_FAULTS). */
export function medianGapHeld(kind: string): boolean {
  return !UNANNOUNCED_FAULTS.includes(kind);
}

export function summarize(kind: FaultKind, runs: readonly FailoverRun[], bar: FailoverBar = 'goal', bound: GapBound = FAILOVER_GOAL): KindSummary {
  const gap = stats(runs.map((r) => r.gapMs));
  const failbackFailed = runs.reduce((n, r) => n + r.failbackFailed, 0);
  const missed: string[] = [];
  if (runs.some((r) => r.vipMoveMs === 'never')) missed.push('the VIP did not move');
  if (runs.some((r) => r.vipReturnMs === 'never')) missed.push('the VIP did not come back');
  if (GAP_GOAL_KINDS.includes(kind)) {
    // The lab holds its few runs to the goal's median too: since in-flight forwarding (and the VIP on lo) a
    // clean power-off no longer drops the SYN that reached the old holder just after the move, which
    // gave the 1.25 s outliers CI once saw (a 1256 ms median over 3 power-offs).
    if (medianGapHeld(kind) && !(gap.median <= bound.medianGapMs)) missed.push(`median gap ${gap.median} ms > ${bound.medianGapMs} ms`);
    if (!(gap.max <= bound.maxGapMs)) missed.push(`worst gap ${gap.max} ms > ${bound.maxGapMs} ms`);
  }
  if (bar === 'goal' && failbackFailed > FAILOVER_GOAL.failbackFailed) missed.push(`${failbackFailed} failed during failback`);
  const worstFailback = Math.max(0, ...runs.map((r) => r.failbackFailed));
  if (bar === 'lab' && worstFailback > LAB_GATE.failbackFailedPerRun) missed.push(`${worstFailback} failed during one failback (the lab allows ${LAB_GATE.failbackFailedPerRun})`);
  const downloads: Record<string, number> = {};
  for (const r of runs) {
    const outcome = r.download.replace(/ .*/, '');
    downloads[outcome] = (downloads[outcome] ?? 0) + 1;
  }
  return {
    kind, runs: runs.length, gap, failed: stats(runs.map((r) => r.failed)), failbackFailed,
    failbackGap: stats(runs.map((r) => r.failbackGapMs)), downloads, missed,
  };
}
