/**
 * The lab's cost by site size: `npm run lab -- test` on the default site (2 workers) and on the
 * default site with 12 and 20 workers (lab/sites/), one after another, each read back from the
 * results file the lab writes (LAB_RESULTS), and held to per-size bounds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The sites, by worker count; `config` is relative to the repository (none: the default site). */
export const LAB_SCALE_SITES: ReadonlyArray<{ readonly workers: number; readonly config?: string }> = [
  { workers: 2 },
  { workers: 12, config: 'lab/sites/twelve-workers.yaml' },
  { workers: 20, config: 'lab/sites/twenty-workers.yaml' },
];

/**
 * Per size, the wall time and the containers' memory a whole lab run may take, chosen from the
 * runs this bench measured on a 2-core machine shared with other builds and tests (BENCHMARKS.md,
 * "Lab cost by site size"). Wall time: the slowest run seen at the size plus about a third (826 s
 * for 2 workers at load average ~27; 1351 s for 12 at up to 47; 1105 s for 20 at 10-38, and 672-711 s
 * for 20 on a quieter machine): other work on the cores, not the site, decided these, so the 20-worker
 * bound is the 12-worker one. Memory: the containers' own high-water mark (page cache they caused
 * included), which other work does not add to, plus half (835 MiB for 20 workers; about 33 MiB per
 * container).
 */
export const LAB_SCALE_BOUNDS: Readonly<Record<number, { readonly wallS: number; readonly memoryMiB: number }>> = {
  2: { wallS: 1200, memoryMiB: 700 },
  12: { wallS: 1800, memoryMiB: 1100 },
  20: { wallS: 1800, memoryMiB: 1250 },
};

/** One lab run of one size, as its results file says. */
export interface LabScaleRun {
  readonly workers: number;
  /** The site file, or `default`. */
  readonly site: string;
  readonly date: string;
  /** The lab's exit code (null: killed). */
  readonly labExit: number | null;
  /** Why there are no figures (no results file, or one the bench cannot read). */
  readonly error?: string;
  readonly totalMs?: number;
  /** `up`: synth, booting the containers, SSH users (check 1's labUpMs). */
  readonly bootMs?: number;
  /** The first `npm run apply` (check 1's applyMs). */
  readonly applyMs?: number;
  /** Every check after the boot and the first apply, up to the teardown. */
  readonly checksMs?: number;
  /** Teardown (check 8's downMs). */
  readonly teardownMs?: number;
  /** How far the machine's available memory fell during the run (machine-wide: other work counts too). */
  readonly peakUsedMiB?: number;
  /** The containers' own peak (their cgroup's high-water mark): what the bound applies to. */
  readonly containersPeakMiB?: number;
  readonly startAvailableMiB?: number;
  readonly containers?: number;
  /** Workers of the topology the lab booted (must be `workers`). */
  readonly labWorkers?: number;
  readonly passed?: number;
  readonly failed?: number;
  readonly notRun?: number;
  /** The ids of the failed checks. */
  readonly failedChecks?: readonly string[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Reads one size's figures from the lab's results file (lab/main.ts `test`). */
export function labScaleRun(workers: number, site: string, resultsJson: string | undefined, labExit: number | null, date: string): LabScaleRun {
  const base = { workers, site, date, labExit };
  if (resultsJson === undefined) return { ...base, error: `the lab wrote no results file (exit ${labExit})` };
  let report: any;
  try {
    report = JSON.parse(resultsJson);
  } catch (error) {
    return { ...base, error: `the results file is not JSON: ${(error as Error).message}` };
  }
  const results: Array<{ id: string; ok: boolean; notRun?: boolean; measured?: Record<string, unknown> }> = Array.isArray(report?.results) ? report.results : [];
  const totalMs = num(report?.totalMs);
  if (totalMs === undefined || results.length === 0) return { ...base, error: 'the results file has no totalMs or no results' };
  const measured = (id: string, key: string) => num(results.find((r) => r.id === id)?.measured?.[key]);
  const bootMs = measured('1', 'labUpMs');
  const applyMs = measured('1', 'applyMs');
  const teardownMs = measured('8', 'downMs');
  const failedChecks = results.filter((r) => !r.ok).map((r) => r.id);
  const notRun = results.filter((r) => r.notRun).length;
  return {
    ...base,
    date: typeof report.when === 'string' ? report.when : date,
    totalMs,
    bootMs,
    applyMs,
    checksMs: bootMs !== undefined && applyMs !== undefined && teardownMs !== undefined ? totalMs - bootMs - applyMs - teardownMs : undefined,
    teardownMs,
    peakUsedMiB: num(report.memory?.peakUsedMiB),
    containersPeakMiB: num(report.memory?.containersPeakMiB),
    startAvailableMiB: num(report.memory?.startAvailableMiB),
    containers: num(report.containers),
    labWorkers: num(report.workers),
    passed: results.length - failedChecks.length - notRun,
    failed: failedChecks.length,
    notRun,
    failedChecks,
  };
}

export interface LabScaleCheck { readonly what: string; readonly value: number; readonly max: number; readonly labScale: true }

/**
 * What fails the bench, per size: a failed or unrun check, a lab that exited non-zero or booted
 * another worker count than asked, and wall time or memory above the size's bound. A run with no
 * figures fails every one of its checks (its value is Infinity).
 */
export function labScaleChecks(runs: readonly LabScaleRun[], bounds = LAB_SCALE_BOUNDS): LabScaleCheck[] {
  return runs.flatMap((r) => {
    const bound = bounds[r.workers];
    const size = `lab, ${r.workers} workers`;
    const or = (v: number | undefined) => v ?? Infinity;
    return [
      { what: `${size}: checks failed or not run${r.failedChecks?.length ? ` (${r.failedChecks.join(', ')})` : ''}`, value: r.error ? Infinity : or(r.failed) + or(r.notRun), max: 0, labScale: true as const },
      { what: `${size}: lab exit code`, value: r.labExit ?? Infinity, max: 0, labScale: true as const },
      { what: `${size}: workers booted other than asked`, value: r.labWorkers === undefined ? Infinity : Math.abs(r.labWorkers - r.workers), max: 0, labScale: true as const },
      { what: `${size}: wall time s`, value: r.totalMs === undefined ? Infinity : Math.round(r.totalMs / 1000), max: bound?.wallS ?? 0, labScale: true as const },
      // The containers' own figure; where the lab could not read it, the machine-wide one (which counts other work, but not page cache).
      r.containersPeakMiB !== undefined || r.peakUsedMiB === undefined
        ? { what: `${size}: containers' memory at the peak MiB`, value: or(r.containersPeakMiB), max: bound?.memoryMiB ?? 0, labScale: true as const }
        : { what: `${size}: memory at the peak MiB (machine-wide: the containers' own figure was not measured)`, value: r.peakUsedMiB, max: bound?.memoryMiB ?? 0, labScale: true as const },
    ];
  });
}

/**
 * Keeps the previous run of every size not measured now, so that rerunning one size leaves the
 * others' figures (each with its own date) in the table; in the sites' order.
 */
export function mergeLabScale(previous: readonly LabScaleRun[] | undefined, fresh: readonly LabScaleRun[]): LabScaleRun[] {
  const bySize = new Map<number, LabScaleRun>((previous ?? []).map((r) => [r.workers, r]));
  for (const r of fresh) bySize.set(r.workers, r);
  return LAB_SCALE_SITES.map((s) => bySize.get(s.workers)).filter((r): r is LabScaleRun => r !== undefined);
}

/**
 * Runs `npm run lab -- test` on each size, one after another (the lab's output goes to this
 * process's, so a log shows every check). `command` is how to start npm (node and npm's CLI, or
 * npm); with `lock`, each lab runs under `flock -w 1800 lock`.
 */
export function runLabScale(repo: string, sizes: readonly number[], command: readonly [string, readonly string[]], lock?: string): LabScaleRun[] {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-lab-scale-'));
  try {
    return LAB_SCALE_SITES.filter((s) => sizes.includes(s.workers)).map((site, i) => {
      const results = join(dir, `results-${site.workers}.json`);
      const npmArgs = [...command[1], 'run', '-s', 'lab', '--', 'test', ...(site.config ? ['--config', join(repo, site.config)] : [])];
      const [cmd, args] = lock ? ['flock', ['-w', '1800', lock, command[0], ...npmArgs]] : [command[0], npmArgs];
      const date = new Date().toISOString();
      process.stderr.write(`lab scale ${i + 1}/${sizes.length}: ${site.workers} workers (${site.config ?? 'the default site'})...\n`);
      const lab = spawnSync(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'], timeout: 45 * 60_000, env: { ...process.env, LAB_RESULTS: results } });
      const run = labScaleRun(site.workers, site.config ?? 'default', existsSync(results) ? readFileSync(results, 'utf8') : undefined, lab.status, date);
      process.stderr.write(`lab scale ${site.workers} workers: exit ${lab.status ?? lab.signal}, ${run.error ?? `${Math.round(run.totalMs! / 1000)} s, ${run.peakUsedMiB} MiB, ${run.passed} passed, ${run.failed} failed, ${run.notRun} not run`}\n`);
      return run;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
