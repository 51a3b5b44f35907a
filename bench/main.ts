/**
 * npm run bench: how long a synth takes, as a multiple of `node -e 0` measured in the same run,
 * and how it scales with the topology.
 *
 * Every case runs in a fresh process, as a user would, into a fresh scratch directory (removed
 * untimed). Runs are interleaved: each round runs every case once, and each case run is paired
 * with a `node -e 0` run just before it; a case's ratio is the median of its per-pair ratios, so
 * a machine shared with other work slows both halves of a pair alike. Peak RSS comes from one
 * extra, untimed run per case.
 *
 * Beside `node -e 0`, the reference is the official cdk8s template's `cdk8s synth` of a one-Deployment
 * app (bench/cdk8s-template.ts), installed once from the npm registry.
 *
 * Writes BENCHMARKS.md and BENCHMARKS.json (BENCH_MD / BENCH_JSON to move them) and exits 1 when
 * a threshold is exceeded. BENCH_RUNS (default 5) sets the rounds, BENCH_SCALE_RUNS (default 1)
 * those of the 200- and 1000-worker cases. `--lab-scale` runs the lab on three site sizes
 * (bench/lab-scale.ts); `--help` lists the flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { cdk8sTemplateCommand, prepareCdk8sTemplate } from './cdk8s-template';
import { DrainRun, FAILOVER_GOAL, FailoverRun, FAULT_LABELS, FaultKind, GAP_GOAL_KINDS, KindSummary, medianGapHeld, summarize } from '../lab/failover';
import { BENCH_USAGE, parseBenchArgs } from './args';
import { LAB_SCALE_BOUNDS, LAB_SCALE_SITES, LabScaleRun, labScaleChecks, mergeLabScale, runLabScale } from './lab-scale';
import { GatewayBenchPart, gatewayChecks, gatewayMarkdown, runGatewayBench } from './gateway-pair';

const repo = resolve(__dirname, '..');
const argv = process.argv.slice(2);
const parsedArgs = parseBenchArgs(argv);
if ('error' in parsedArgs) {
  console.error(`${parsedArgs.error}\n${BENCH_USAGE}`);
  process.exit(2);
}
if (parsedArgs.help) {
  console.log(BENCH_USAGE);
  process.exit(0);
}
/** `--runs N`: failovers of each kind (and drains) in the lab; without it the failover section of the previous BENCHMARKS.json is kept. */
const FAILOVER_RUNS = parsedArgs.runs;
/** `--lab-scale [sizes]`: the lab on these site sizes; without it the lab-scale section of the previous BENCHMARKS.json is kept. */
const LAB_SCALE = parsedArgs.labScale;
/** `--gateway-runs N`: the gateway pair's faults in the lab; without it the gateway section of the previous BENCHMARKS.json is kept. */
const GATEWAY_RUNS = parsedArgs.gatewayRuns;
/** No synth timing (`--failover-only`, or `--lab-scale`): the synth sections of the previous BENCHMARKS.json are kept. */
const FAILOVER_ONLY = parsedArgs.failoverOnly || LAB_SCALE !== undefined || GATEWAY_RUNS !== undefined;
const RUNS = positiveInt('BENCH_RUNS', 5);
/** Rounds of the 200- and 1000-worker cases. */
const SCALE_RUNS = positiveInt('BENCH_SCALE_RUNS', 3);
const MD_PATH = resolve(process.env.BENCH_MD ?? join(repo, 'BENCHMARKS.md'));
const JSON_PATH = resolve(process.env.BENCH_JSON ?? join(repo, 'BENCHMARKS.json'));

/**
 * Regressions that fail the run. A synth of the default topology within 2.5x `node -e 0` when its
 * picture is in the diagram cache, 3.5x when it is drawn for the first time (what a newcomer
 * feels); the others keep the scale curve honest (linear, bounded memory).
 */
const THRESHOLDS = {
  /** `npm run synth`'s program, default topology, picture in the cache, over `node -e 0`. */
  defaultRatio: Number(process.env.BENCH_MAX_RATIO ?? 2.5),
  /** The same with an empty diagram cache: Graphviz draws the picture. */
  coldRatio: Number(process.env.BENCH_MAX_COLD_RATIO ?? 3.5),
  /** 200 workers over 2 workers, wall time (identical content is written once, not per worker). */
  scale200Ratio: 2,
  /** 1000 workers over 2 workers, wall time. */
  scale1000Ratio: 5,
  /** Peak RSS of the 1000-worker synth. */
  scale1000RssMiB: 400,
};

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: got ${process.env[name]}, expected a positive integer`);
  return value;
}

/** A topology with `count` workers on a /16, so large counts fit. */
function workersConfig(count: number): object {
  return {
    networks: { internal: '10.30.0.0/16' },
    controlPlane: { address: '10.30.0.10' },
    workers: Array.from({ length: count }, (_, i) => ({ name: `w${i + 1}`, address: `10.30.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` })),
    loadBalancer: {
      vip: '10.30.0.100',
      hosts: [{ name: 'lb01', address: '10.30.0.40', priority: 100 }, { name: 'lb02', address: '10.30.0.50', priority: 90 }],
    },
    gateway: { inside: { address: '10.30.0.1' } },
  };
}

interface Case {
  readonly key: string;
  readonly label: string;
  /** Command and arguments; `out` is a fresh scratch directory for this run's output. */
  readonly command: (out: string) => readonly [string, readonly string[]];
  readonly group: 'startup' | 'scale';
  readonly workers?: number;
  /** Working directory. @default the run's scratch directory */
  readonly cwd?: string;
  /** Whether to take this case's peak RSS (not for wrappers such as npm, whose own RSS would be taken). */
  readonly rss: boolean;
  /** More environment for the run; `out` as in `command`. @default none */
  readonly env?: (out: string) => NodeJS.ProcessEnv;
}

interface Run { wallMs: number; baselineMs: number; round: number }

const node = process.execPath;
const launcher = join(repo, 'scripts', 'synth.js');
const tsxCli = join(repo, 'node_modules', '.bin', 'tsx');
const npmCli = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? process.env.npm_execpath : undefined;
const outputs = (out: string) => ['--dist', join(out, 'dist'), '--cdktf-out', join(out, 'cdktf.out')];
const configDir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-config-'));

const baseline: Case = { key: 'node-e-0', label: '`node -e 0`', command: () => [node, ['-e', '0']], group: 'startup', rss: true };
/**
 * The diagram cache of the timed runs (XDG_CACHE_HOME), filled by the untimed warm-up run: the
 * user's own cache neither helps nor hurts the figures.
 */
const warmCache = join(configDir, 'cache');
const cases: Case[] = [
  { key: 'synth', label: '`npm run synth` program (`node scripts/synth.js`), default topology', command: (out) => [node, [launcher, ...outputs(out)]], group: 'startup', rss: true, env: () => ({ XDG_CACHE_HOME: warmCache }) },
  {
    key: 'synth-cold',
    label: 'same, picture drawn for the first time (empty diagram cache)',
    command: (out) => [node, [launcher, ...outputs(out)]],
    group: 'startup',
    rss: true,
    env: (out) => ({ XDG_CACHE_HOME: join(out, 'cache') }),
  },
  { key: 'synth-terraform-data', label: 'same, `--resource terraform_data`', command: (out) => [node, [launcher, '--resource', 'terraform_data', ...outputs(out)]], group: 'startup', rss: true },
  { key: 'synth-only-k8s', label: 'same, `--only k8s`', command: (out) => [node, [launcher, '--only', 'k8s', '--dist', join(out, 'dist')]], group: 'startup', rss: true },
  {
    key: 'npm-run-synth',
    label: '`npm run synth` whole (npm itself included)',
    command: (out) => (npmCli ? [node, [npmCli, 'run', '--silent', 'synth', '--', ...outputs(out)]] : ['npm', ['run', '--silent', 'synth', '--', ...outputs(out)]]),
    group: 'startup',
    cwd: repo,
    rss: false,
  },
  { key: 'tsx-main', label: 'before: `tsx main.ts` (the former `npm run synth`)', command: (out) => [tsxCli, [join(repo, 'main.ts'), ...outputs(out)]], group: 'startup', rss: false },
  ...[2, 50, 200, 1000].map((workers): Case => {
    const config = join(configDir, `workers-${workers}.yaml`);
    writeFileSync(config, stringify(workersConfig(workers)));
    return { key: `workers-${workers}`, label: `${workers} workers`, command: (out) => [node, [launcher, '--config', config, ...outputs(out)]], group: 'scale', workers, rss: true };
  }),
];

/** The official cdk8s template's synth of a one-Deployment app: installed once (untimed), or why it could not be. */
const template: { dir: string } | { error: string } = FAILOVER_ONLY ? { error: `not measured (${LAB_SCALE ? '--lab-scale' : '--failover-only'})` } : (() => {
  try {
    return { dir: prepareCdk8sTemplate() };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
})();
if ('dir' in template) {
  const { dir } = template;
  cases.push({
    key: 'cdk8s-template',
    label: 'reference: the official cdk8s template (`cdk8s synth` → `npx ts-node main.ts`), a one-Deployment app',
    command: (out) => cdk8sTemplateCommand(dir, out),
    group: 'startup',
    cwd: dir,
    rss: false,
  });
}

const childEnv = { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' };

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const peakRssPreload = join(repo, 'bench', 'peak-rss.js');

/**
 * Runs one case in a fresh scratch directory; throws on failure. With `measureRss`, also its peak
 * RSS: through GNU time when installed (the process itself is untouched), else through a preload
 * (NODE_OPTIONS, which gives the launcher another code-cache key: only in untimed runs).
 */
function runOnce(c: Case, measureRss = false): { wallMs: number; rssMiB?: number; inodes?: number } {
  const out = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-'));
  let inodes: number | undefined;
  try {
    let [cmd, args] = c.command(out);
    let env: NodeJS.ProcessEnv = { ...childEnv, ...c.env?.(out) };
    if (measureRss && gnuTime) [cmd, args] = [gnuTime, ['-f', 'BENCH_RSS_KIB=%M', cmd, ...args]];
    else if (measureRss) env = { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${peakRssPreload}`.trim() };
    const start = process.hrtime.bigint();
    const run = spawnSync(cmd, args, { cwd: c.cwd ?? out, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${c.label}: exit ${run.status ?? run.signal}: ${run.error ?? ''}${run.stderr}`);
    // Untimed: how many files and directories the run created (inode creation is what a large synth pays most for).
    if (c.group === 'scale') inodes = countInodes(out);
    if (!measureRss) return { wallMs, inodes };
    const kib = [...run.stderr.matchAll(/BENCH_RSS_KIB=(\d+)|BENCH_RSS (\{.*\})/g)].map((m) => (m[1] ? Number(m[1]) : JSON.parse(m[2]).maxRssKiB as number));
    return { wallMs, inodes, rssMiB: kib.length > 0 ? Math.max(...kib) / 1024 : undefined };
  } finally {
    rmSync(out, { recursive: true, force: true });
    // Untimed: the removal's deferred filesystem work (journal commit, discards) is done now, not
    // during the next run. On this kind of disk removing a 1000-worker output costs seconds.
    spawnSync('sync');
  }
}

/** Files and directories below `dir`. */
function countInodes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, entry) => n + 1 + (entry.isDirectory() ? countInodes(join(dir, entry.name)) : 0), 0);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

function sh(cmd: string, args: string[]): string {
  const run = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : '?';
}

const startedAt = new Date();
const loadBefore = loadavg();
const benchStart = Date.now();

/** Rounds per case: the large topologies take seconds each, so they get fewer by default. */
const roundsOf = (c: Case) => {
  if (c.workers === 2) return Math.max(RUNS, SCALE_RUNS); // the pair of every scale run
  return c.group === 'scale' && (c.workers ?? 0) > 50 ? SCALE_RUNS : RUNS;
};
/** Cases whose peak RSS is taken in their timed runs (seconds long: GNU time's exec is noise there). */
const rssInTimedRuns = (c: Case) => c.group === 'scale' && gnuTime !== undefined;

interface SynthBench {
  results: ReturnType<typeof summarizeCases>;
  scale: Array<ReturnType<typeof summarizeCases>[number] & { ratioTo2Workers: number }>;
  checks: Array<{ what: string; value: number; max: number; ok: boolean }>;
  nodeE0RssMiB?: number;
  date: string;
}

function measureSynth(): { results: ReturnType<typeof summarizeCases>; rss: Map<string, number | undefined>; runs: Map<string, Run[]> } {
// Untimed: builds the bundle and its code cache if needed, warms the file cache, takes peak RSS.
  process.stderr.write('warm-up and peak RSS runs...\n');
  runOnce(cases[0]);
  const rss = new Map<string, number | undefined>();
  for (const c of [baseline, ...cases]) {
    if (rssInTimedRuns(c)) continue;
    if (c.rss) rss.set(c.key, runOnce(c, true).rssMiB);
    else if (c.group === 'startup') runOnce(c);
  }

  const runs = new Map<string, Run[]>(cases.map((c) => [c.key, []]));
  /** Files and directories each scale case wrote (dist/ and cdktf.out/ together). */
  const inodesOf = new Map<string, number>();
  const rounds = Math.max(RUNS, SCALE_RUNS);
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
    for (const c of cases) {
      if (round >= roundsOf(c)) continue;
      const baselineMs = runOnce(baseline).wallMs;
      const { wallMs, rssMiB, inodes } = runOnce(c, rssInTimedRuns(c));
      runs.get(c.key)!.push({ wallMs, baselineMs, round });
      if (inodes !== undefined) inodesOf.set(c.key, inodes);
      if (rssMiB !== undefined) rss.set(c.key, Math.max(rss.get(c.key) ?? 0, rssMiB));
    }
  }

  return { results: summarizeCases(runs, rss, inodesOf), rss, runs };
}

function summarizeCases(runs: Map<string, Run[]>, rss: Map<string, number | undefined>, inodesOf: Map<string, number>) {
  return cases.map((c) => {
    const rs = runs.get(c.key)!;
    return {
      key: c.key,
      label: c.label,
      group: c.group,
      workers: c.workers,
      runs: rs.length,
      medianMs: round1(median(rs.map((r) => r.wallMs))),
      minMs: round1(Math.min(...rs.map((r) => r.wallMs))),
      baselineMedianMs: round1(median(rs.map((r) => r.baselineMs))),
      ratioToNodeE0: round2(median(rs.map((r) => r.wallMs / r.baselineMs))),
      peakRssMiB: rss.get(c.key) === undefined ? undefined : Math.round(rss.get(c.key)!),
      filesAndDirs: inodesOf.get(c.key),
    };
  });
}

function synthBench(): SynthBench {
  const { results, rss, runs } = measureSynth();
  const date = new Date().toISOString();
  const byKey = new Map(results.map((r) => [r.key, r]));
  /** Wall time of the 2-worker run in each round. */
  const twoByRound = new Map(runs.get('workers-2')!.map((r) => [r.round, r.wallMs]));
  const scale = results.filter((r) => r.group === 'scale').map((r) => ({
    ...r,
    ratioTo2Workers: round2(median(runs.get(r.key)!.map((run) => run.wallMs / twoByRound.get(run.round)!))),
  }));
  const scaleOf = (workers: number) => scale.find((r) => r.workers === workers)!;

  const checks = [
    { what: 'default topology synth / `node -e 0` (median of paired ratios)', value: byKey.get('synth')!.ratioToNodeE0, max: THRESHOLDS.defaultRatio },
    { what: 'same, picture drawn for the first time / `node -e 0` (median of paired ratios)', value: byKey.get('synth-cold')!.ratioToNodeE0, max: THRESHOLDS.coldRatio },
    { what: '200 workers / 2 workers (median of per-round ratios)', value: scaleOf(200).ratioTo2Workers, max: THRESHOLDS.scale200Ratio },
    { what: '1000 workers / 2 workers (median of per-round ratios)', value: scaleOf(1000).ratioTo2Workers, max: THRESHOLDS.scale1000Ratio },
    { what: '1000 workers peak RSS MiB', value: scaleOf(1000).peakRssMiB ?? 0, max: THRESHOLDS.scale1000RssMiB },
  ].map((c) => ({ ...c, ok: c.value <= c.max }));
  return { results, scale, checks, nodeE0RssMiB: rss.get('node-e-0') === undefined ? undefined : Math.round(rss.get('node-e-0')!), date };
}

/** The failover part: `npm run lab -- failover --runs N` (root, the lab), or the previous run's when `--runs` is not given. */
interface FailoverPart {
  readonly date: string;
  readonly runs: number;
  readonly settings: Record<string, unknown>;
  readonly summaries: KindSummary[];
  readonly drains: DrainRun[];
  readonly dataPlane: { chainRps: number; directRps: number; ratio: number };
  readonly vrrpCost: { masterCpuPct: number; backupCpuPct: number; advertsPerSecond: number };
  readonly vipMoveMs: Record<string, number>;
  readonly labExit: number | null;
  /**
   * How the lab made a power loss in these runs: 'cables-first' since the lab cuts a host's cables before it
   * kills its processes. Runs kept from before that have no mark: their host's kernel went on forwarding
   * (and answering a SYN with a reset) until it removed the host's namespace, so their gaps are optimistic.
   */
  readonly powerLoss?: 'cables-first';
}

/**
 * The lab's failover runs, in two lab invocations of about 12 minutes each (a lab holds the machine's
 * namespaces for its whole run; BENCH_LAB_LOCK=FILE runs each under `flock FILE`, as shared machines ask).
 */
const LAB_BATCHES: Array<{ kinds: string; drain: boolean }> = [
  { kinds: 'nginx-dies,nginx-stop', drain: true },
  { kinds: 'power-off,power-loss', drain: false },
];

function failoverBench(runs: number): FailoverPart {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-lab-'));
  const failovers: FailoverRun[] = [];
  const drains: DrainRun[] = [];
  let first: any;
  let labExit: number | null = 0;
  try {
    for (const [i, batch] of LAB_BATCHES.entries()) {
      const out = join(dir, `failover-${i}.json`);
      const npmArgs = [...(npmCli ? [npmCli] : []), 'run', '-s', 'lab', '--', 'failover', '--runs', String(runs), '--json', out];
      const [cmd, args] = process.env.BENCH_LAB_LOCK
        ? ['flock', ['-w', '1800', process.env.BENCH_LAB_LOCK, npmCli ? node : 'npm', ...npmArgs]]
        : [npmCli ? node : 'npm', npmArgs];
      process.stderr.write(`lab ${i + 1}/${LAB_BATCHES.length}: ${batch.kinds}${batch.drain ? ' and the drain' : ''}, ${runs} runs each...\n`);
      const lab = spawnSync(cmd, args, {
        cwd: repo, stdio: ['ignore', 'inherit', 'inherit'], timeout: 60 * 60_000,
        env: { ...process.env, LAB_FAILOVER_KINDS: batch.kinds, LAB_FAILOVER_DRAIN: batch.drain ? '1' : '0' },
      });
      if (lab.status !== 0) labExit = lab.status ?? 1;
      if (!existsSync(out)) throw new Error(`npm run lab -- failover wrote no results (exit ${lab.status ?? lab.signal})`);
      const report = JSON.parse(readFileSync(out, 'utf8'));
      first ??= report;
      failovers.push(...(report.failovers ?? []));
      drains.push(...(report.drains ?? []));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const kinds = [...new Set(failovers.map((r) => r.kind))];
  const vipMoveMs: Record<string, number> = {};
  for (const kind of kinds) vipMoveMs[kind] = median(failovers.filter((r) => r.kind === kind && typeof r.vipMoveMs === 'number').map((r) => r.vipMoveMs as number));
  return {
    date: first.when, runs, settings: first.settings, summaries: kinds.map((k) => summarize(k, failovers.filter((r) => r.kind === k))), drains,
    dataPlane: first.dataPlane, vrrpCost: first.vrrpCost, vipMoveMs, labExit, powerLoss: 'cables-first',
  };
}

const previous = existsSync(JSON_PATH) ? JSON.parse(readFileSync(JSON_PATH, 'utf8')) : undefined;
let synthPart: SynthBench;
if (FAILOVER_ONLY) {
  if (!previous?.startup) {
    console.error(`${LAB_SCALE ? '--lab-scale' : GATEWAY_RUNS !== undefined ? '--gateway-runs' : '--failover-only'}: ${JSON_PATH} holds no synth results to keep; run npm run bench without it first`);
    process.exit(2);
  }
  synthPart = {
    results: [...previous.startup, ...previous.scale], scale: previous.scale, checks: previous.checks.filter((c: { failover?: boolean; labScale?: boolean }) => !c.failover && !c.labScale),
    nodeE0RssMiB: previous.nodeE0RssMiB, date: previous.synthDate ?? previous.environment.date,
  };
} else synthPart = synthBench();
const failoverPart: FailoverPart | undefined = FAILOVER_RUNS !== undefined ? failoverBench(FAILOVER_RUNS) : previous?.failover;
/** A fault's label; a power loss measured before the lab cut the cables first says so. */
const faultLabel = (kind: FaultKind): string => (kind === 'power-loss' && failoverPart?.powerLoss !== 'cables-first'
  ? 'loses power (measured before the lab cut the cables first: optimistic, see below)'
  : FAULT_LABELS[kind]);
/** Each size's latest lab run: measured now, or kept from the previous BENCHMARKS.json. */
const labScaleRuns: LabScaleRun[] = mergeLabScale(previous?.labScale, LAB_SCALE
  ? runLabScale(repo, LAB_SCALE, npmCli ? [node, [npmCli]] : ['npm', []], process.env.BENCH_LAB_LOCK)
  : []);
/** The gateway pair's faults: measured now, or kept from the previous BENCHMARKS.json. */
const gatewayPart: GatewayBenchPart | undefined = GATEWAY_RUNS !== undefined
  ? runGatewayBench(repo, GATEWAY_RUNS, npmCli ? [node, [npmCli]] : ['npm', []], process.env.BENCH_LAB_LOCK)
  : previous?.gatewayPair;
const { results, scale } = synthPart;
const byKey = new Map(results.map((r) => [r.key, r]));
const failoverChecks = failoverPart ? [
  ...failoverPart.summaries.filter((k) => GAP_GOAL_KINDS.includes(k.kind)).flatMap((k) => [
    ...(medianGapHeld(k.kind) ? [{ what: `${faultLabel(k.kind)}: median gap ms (${k.runs} runs)`, value: k.gap.median, max: FAILOVER_GOAL.medianGapMs, failover: true }] : []),
    { what: `${faultLabel(k.kind)}: worst gap ms (${k.runs} runs)`, value: k.gap.max, max: FAILOVER_GOAL.maxGapMs, failover: true },
  ]),
  ...failoverPart.summaries.map((k) => ({ what: `${faultLabel(k.kind)}: failed requests in failback (${k.runs} runs)`, value: k.failbackFailed, max: FAILOVER_GOAL.failbackFailed, failover: true })),
  { what: `drain, maintenance, undrain: failed requests (${failoverPart.drains.length} runs)`, value: failoverPart.drains.reduce((n, d) => n + d.failed, 0), max: FAILOVER_GOAL.drainFailed, failover: true },
  {
    what: `runs missing (${failoverPart.runs} of every fault kind and of the drain asked)`,
    value: failoverPart.summaries.reduce((n, k) => n + Math.max(0, failoverPart.runs - k.runs), 0) + Math.max(0, failoverPart.runs - failoverPart.drains.length)
      + Math.max(0, 4 - failoverPart.summaries.length) * failoverPart.runs,
    max: 0, failover: true,
  },
] : [];
// Judged with the current bounds, kept runs too (as the kept failover runs are).
const checks = [...synthPart.checks, ...[...failoverChecks, ...(gatewayPart ? gatewayChecks(gatewayPart) : []), ...labScaleChecks(labScaleRuns)].map((c) => ({ ...c, ok: c.value <= c.max }))];

const environment = {
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - benchStart) / 1000),
  command: `${Object.entries(process.env).filter(([k]) => /^BENCH_/.test(k)).map(([k, v]) => `${k}=${v} `).join('')}npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  git: `${sh('git', ['rev-parse', '--short', 'HEAD'])}${sh('git', ['status', '--porcelain']) ? ' (with uncommitted changes)' : ''}`,
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? '?',
  memoryGiB: round1(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  npm: sh(npmCli ? node : 'npm', npmCli ? [npmCli, '--version'] : ['--version']),
  loadAverageBefore: loadBefore.map(round2),
  loadAverageAfter: loadavg().map(round2),
  nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set (node loads these certificates at every start-up, `node -e 0` included)' : 'not set',
  runs: RUNS,
  scaleRuns: SCALE_RUNS,
};

const table = (header: string[], rows: Array<Array<string | number | undefined>>) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((x) => x ?? '–').join(' | ')} |`)].join('\n');

const startup = results.filter((r) => r.group === 'startup');
const ms = (x: number) => (Number.isFinite(x) ? Math.round(x) : '–');
const failoverMd = failoverPart ? `
## Failover (lab, default topology: \`npm run lab -- failover --runs ${failoverPart.runs}\` in two invocations, ${failoverPart.date})

Settings: ${(() => { const lb = failoverPart.settings as any; return `VRRP version ${lb.vrrp?.version}, adverts every ${lb.vrrp?.advertIntervalMs} ms, preempt delay ${lb.vrrp?.preemptDelaySeconds} s, port check every ${lb.healthCheck?.intervalSeconds} s (fall ${lb.healthCheck?.fall}, rise ${lb.healthCheck?.rise}), nginx state and drain through keepalived track_files`; })()}.

Method: the client (outside, through the gateway's DNAT) sends one request after another (\`curl --max-time 1\`, 50 ms
apart). Each run: the fault on the MASTER 1 s after the probe started; the VIP on the BACKUP; 2 s; the MASTER healed
(nginx started, or the host booted); the VIP back on it (after the preempt delay); 1.5 s. **Gap**: the longest time between
two consecutive good responses (by arrival) among the requests sent from the fault to the heal, counted from the last good
response before the fault. **Failed**: requests of that window that got no page. **Failback**: the same for the requests
sent from the heal to the end. **Long download**: a 1 MiB/s download of a large file through the VIP, started 1 s before
the fault: \`survived\` (still transferring at the end), or broken before or after the heal (when curl gave up, by the clock; its exit
code says how: 56 or 18, the connection was reset; 28, it stalled under 1 KiB/s for 3 s).
"VIP moved" is measured by polling both load balancers (~0.2 s a poll), so it is later than the switch.

| fault on the MASTER | runs | gap min / median / p95 / max ms | failed per run min / median / max | failback: failed (all runs), worst gap ms | VIP moved, median ms | long download |
|---|---|---|---|---|---|---|
${failoverPart.summaries.map((k) => `| ${faultLabel(k.kind)}${GAP_GOAL_KINDS.includes(k.kind) ? (medianGapHeld(k.kind) ? '' : ' (worst gap held, median reported)') : ' (reported, no gap goal)'} | ${k.runs} | ${ms(k.gap.min)} / ${ms(k.gap.median)} / ${ms(k.gap.p95)} / ${ms(k.gap.max)} | ${k.failed.min} / ${k.failed.median} / ${k.failed.max} | ${k.failbackFailed}, ${ms(k.failbackGap.max)} | ${ms(failoverPart.vipMoveMs[k.kind])} | ${Object.entries(k.downloads).map(([o, n]) => `${o} ×${n}`).join(', ')} |`).join('\n')}
${failoverPart.powerLoss === 'cables-first' ? '' : `
These power-loss runs were measured before the lab cut a host's cables first: the host's kernel went on forwarding, and
answering a SYN with a reset, until it removed the host's namespace, after the VIP had moved, so their gaps are optimistic.
A power loss now cuts the cables, then kills every process: the lab measures 1.2–1.4 s, one request lost each time (a SYN
the client's TCP resends after 1 s; docs/hosts.md). \`npm run bench -- --runs 10\` measures them again.
`}

Planned maintenance, ${failoverPart.drains.length} runs of: \`npm run drain -- lb01\` (returns once lb02 holds the VIP), \`systemctl stop nginx\` on lb01, 2 s,
\`systemctl start nginx\`, \`npm run drain -- lb01 --undo\` (returns once lb01 holds the VIP again), 1.5 s; the probe and a long download running throughout.

| runs | failed (all runs) | worst gap ms | drain median ms | undo median ms (incl. the preempt delay) | long download |
|---|---|---|---|---|---|
| ${failoverPart.drains.length} | ${failoverPart.drains.reduce((n, d) => n + d.failed, 0)} | ${Math.max(...failoverPart.drains.map((d) => d.gapMs))} | ${ms(median(failoverPart.drains.map((d) => d.drainMs)))} | ${ms(median(failoverPart.drains.map((d) => d.undrainMs)))} | ${Object.entries(failoverPart.drains.reduce((m: Record<string, number>, d) => { const o = d.download.replace(/ .*/, ''); m[o] = (m[o] ?? 0) + 1; return m; }, {})).map(([o, n]) => `${o} ×${n}`).join(', ')} |

Data plane, same run: 500 requests, one curl process, a new connection each (\`Connection: close\`): through the whole chain
(client → gateway DNAT → VIP → nginx → NodePort) **${failoverPart.dataPlane.chainRps} req/s**; directly to node01's NodePort from the gateway
**${failoverPart.dataPlane.directRps} req/s**; ratio **${failoverPart.dataPlane.ratio}**.

Cost of the adverts (10 s, MASTER and BACKUP up): keepalived's VRRP process ${failoverPart.vrrpCost.masterCpuPct}% of a core on the MASTER,
${failoverPart.vrrpCost.backupCpuPct}% on the BACKUP; ${failoverPart.vrrpCost.advertsPerSecond} adverts/s received by the BACKUP (60-byte frames).
` : '';
const secs = (msValue: number | undefined) => (msValue === undefined ? undefined : Math.round(msValue / 1000));
const labScaleMd = labScaleRuns.length > 0 ? `
## Lab cost by site size (\`npm run bench -- --lab-scale\`)

\`npm run lab -- test\` (every check, 3 runs of each failover) on the default site (2 workers) and on the default site with 12 and
20 workers (${LAB_SCALE_SITES.filter((s) => s.config).map((s) => `\`${s.config}\``).join(', ')}), one after another, each read back from
the results file the lab writes. **Total**: the lab's wall time, start to end. **Boot**: synth, booting the containers (systemd-nspawn,
one per host and the client) and their SSH users; **first apply**: the first \`npm run apply\`; **checks**: everything after it up to the
teardown (the re-apply, verify, the failovers, destroy and apply again…); **teardown**: \`down\`. **Containers' memory**: the
high-water mark of the cgroup every container runs in (\`memory.peak\`, or \`memory.max_usage_in_bytes\` on cgroup v1; page cache
the containers caused included), read before the teardown; the bound applies to it. **Machine-wide**: how far the machine's available
memory (\`MemAvailable\`, sampled every 2 s) fell below its value at the start, so whatever else ran on the machine during the lab
counts too (reported, not bounded, unless the containers' figure is missing).

${table(['workers', 'containers', 'measured', 'total s', 'boot s', 'first apply s', 'checks s', 'teardown s', "containers' memory at the peak MiB", 'machine-wide MiB (available at the start)', 'checks passed / failed / not run', 'lab exit'],
  labScaleRuns.map((r) => [r.workers, r.containers, r.date, secs(r.totalMs), secs(r.bootMs), secs(r.applyMs), secs(r.checksMs), secs(r.teardownMs),
    r.containersPeakMiB, r.peakUsedMiB === undefined ? undefined : `${r.peakUsedMiB} (${r.startAvailableMiB})`, r.error ?? `${r.passed} / ${r.failed}${r.failedChecks?.length ? ` (${r.failedChecks.join(', ')})` : ''} / ${r.notRun}`, r.labExit ?? 'killed']))}

Bounds (in the thresholds below): ${LAB_SCALE_SITES.map((s) => `${s.workers} workers ≤ ${LAB_SCALE_BOUNDS[s.workers].wallS} s and ≤ ${LAB_SCALE_BOUNDS[s.workers].memoryMiB} MiB`).join('; ')}; and at every size
no failed or unrun check, exit 0, and the worker count asked. Margin: wall time, the slowest run seen at the size plus about a
third, since the 2 cores are shared with other builds and tests, which decided most of these times (load average 10 to 47 beside
the lab's runs); memory, the containers' own figure plus half (their cgroup also counts page cache, which varies from run to run).
The reasons per figure are in bench/lab-scale.ts.
` : '';
const md = `# Benchmarks

Generated by \`${environment.command}\` (bench/main.ts) on ${environment.date}; do not edit by hand.
Synth cases measured ${synthPart.date}${FAILOVER_ONLY ? ' (kept from the previous BENCHMARKS.json)' : ''}; failover measured ${failoverPart ? `${failoverPart.date} by \`npm run bench -- --runs ${failoverPart.runs}\`${FAILOVER_RUNS === undefined ? ' (kept from the previous BENCHMARKS.json)' : ''}` : 'not (no --runs, and none in the previous BENCHMARKS.json)'};
gateway pair ${gatewayPart ? `measured ${gatewayPart.date} by \`npm run bench -- --gateway-runs ${gatewayPart.runs}\`${GATEWAY_RUNS === undefined ? ' (kept from the previous BENCHMARKS.json)' : ''}` : 'not (no --gateway-runs, and none in the previous BENCHMARKS.json)'};
lab cost by site size ${labScaleRuns.length > 0 ? `measured ${labScaleRuns.map((r) => `${r.workers} workers ${r.date}${LAB_SCALE?.includes(r.workers) ? '' : ' (kept from the previous BENCHMARKS.json)'}`).join(', ')} by \`npm run bench -- --lab-scale\`` : 'not (no --lab-scale, and none in the previous BENCHMARKS.json)'}.

Machine: ${environment.nproc} CPUs (${environment.cpu}), ${environment.memoryGiB} GiB memory, Linux ${environment.kernel};
node ${environment.node}, npm ${environment.npm}; commit ${environment.git}.
Load average before/after: ${environment.loadAverageBefore.join(' ')} / ${environment.loadAverageAfter.join(' ')}. NODE_EXTRA_CA_CERTS ${environment.nodeExtraCaCerts}.
Run took ${environment.durationS} s.

Each case is a fresh process writing into a fresh directory (removed untimed, then \`sync\`). "× node -e 0" is the median, over
the case's interleaved rounds (${RUNS}; ${SCALE_RUNS} for 200 and 1000 workers), of its wall time divided by that
of a \`node -e 0\` run just before it; "× 2 workers" the median of its wall time divided by that of the
2-worker run of the same round. Peak RSS: ${gnuTime ? 'GNU time' : 'process.resourceUsage() in a preload'}.

## Start-up cases (default topology unless said)

${table(['case', 'median ms', 'min ms', '`node -e 0` median ms', '× `node -e 0`', 'peak RSS MiB'], [
  ['`node -e 0`', byKey.get('synth')!.baselineMedianMs, undefined, byKey.get('synth')!.baselineMedianMs, 1, synthPart.nodeE0RssMiB],
  ...startup.map((r) => [r.label, r.medianMs, r.minMs, r.baselineMedianMs, r.ratioToNodeE0, r.peakRssMiB]),
])}

${byKey.has('cdk8s-template')
  ? `The whole default topology (Kubernetes manifests, every host's files, four Terraform stacks and the picture) is synthesized in 1/${round1(byKey.get('cdk8s-template')!.medianMs / byKey.get('synth')!.medianMs)} of the time the official cdk8s template takes to synthesize one Deployment (medians of the same run).`
  : `The cdk8s template reference was not measured: ${'error' in template ? template.error : 'not in the kept results'}.`}

## Scale (\`node scripts/synth.js --config <N workers>\`)

${table(['workers', 'runs', 'median ms', 'min ms', '× 2 workers', '× `node -e 0`', 'peak RSS MiB', 'files + dirs written'], scale.map((r) => [r.workers, r.runs, r.medianMs, r.minMs, r.ratioTo2Workers, r.ratioToNodeE0, r.peakRssMiB, r.filesAndDirs]))}

${failoverMd}${gatewayPart ? gatewayMarkdown(gatewayPart) : ''}${labScaleMd}
## Thresholds (the run exits 1 when one fails)

${table(['check', 'measured', 'threshold', 'result'], checks.map((c) => [c.what, c.value, `≤ ${c.max}`, c.ok ? 'pass' : '**FAIL**']))}
`;

writeFileSync(MD_PATH, md);
writeFileSync(JSON_PATH, `${JSON.stringify({ environment, synthDate: synthPart.date, thresholds: THRESHOLDS, failoverGoal: FAILOVER_GOAL, startup, scale, nodeE0RssMiB: synthPart.nodeE0RssMiB, checks, failover: failoverPart, gatewayPair: gatewayPart, labScaleBounds: LAB_SCALE_BOUNDS, labScale: labScaleRuns }, null, 2)}\n`);
rmSync(configDir, { recursive: true, force: true });

console.log(md);
console.log(`wrote ${MD_PATH} and ${JSON_PATH}`);
const failed = checks.filter((c) => !c.ok);
if (failed.length > 0) {
  for (const c of failed) console.error(`threshold exceeded: ${c.what}: ${c.value} > ${c.max}`);
  process.exitCode = 1;
}
