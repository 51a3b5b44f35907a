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
 * a threshold is exceeded. BENCH_RUNS (default 5) sets the rounds, BENCH_SCALE_RUNS (default 3)
 * those of the 200- and 1000-worker cases. A scale case's ratio to 2 workers is the median of its
 * per-round ratios to the 2-worker run of the same round, so load that comes and goes during the
 * run affects both halves of a pair alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { cdk8sTemplateCommand, prepareCdk8sTemplate } from './cdk8s-template';

const repo = resolve(__dirname, '..');
const RUNS = positiveInt('BENCH_RUNS', 5);
/** Rounds of the 200- and 1000-worker cases. */
const SCALE_RUNS = positiveInt('BENCH_SCALE_RUNS', 3);
const MD_PATH = resolve(process.env.BENCH_MD ?? join(repo, 'BENCHMARKS.md'));
const JSON_PATH = resolve(process.env.BENCH_JSON ?? join(repo, 'BENCHMARKS.json'));

/**
 * Regressions that fail the run. The goal of issue 11 is a synth of the default topology within
 * 4x `node -e 0`; the others keep the scale curve honest (linear, bounded memory).
 */
const THRESHOLDS = {
  /** `npm run synth`'s program, default topology, over `node -e 0`. */
  defaultRatio: Number(process.env.BENCH_MAX_RATIO ?? 4),
  /** 200 workers over 2 workers, wall time (issue 11: identical content written once, not per worker). */
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
}

interface Run { wallMs: number; baselineMs: number; round: number }

const node = process.execPath;
const launcher = join(repo, 'scripts', 'synth.js');
const tsxCli = join(repo, 'node_modules', '.bin', 'tsx');
const npmCli = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? process.env.npm_execpath : undefined;
const outputs = (out: string) => ['--dist', join(out, 'dist'), '--cdktf-out', join(out, 'cdktf.out')];
const configDir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-config-'));

const baseline: Case = { key: 'node-e-0', label: '`node -e 0`', command: () => [node, ['-e', '0']], group: 'startup', rss: true };
const cases: Case[] = [
  { key: 'synth', label: '`npm run synth` program (`node scripts/synth.js`), default topology', command: (out) => [node, [launcher, ...outputs(out)]], group: 'startup', rss: true },
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
const template: { dir: string } | { error: string } = (() => {
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
    let env: NodeJS.ProcessEnv = childEnv;
    if (measureRss && gnuTime) [cmd, args] = [gnuTime, ['-f', 'BENCH_RSS_KIB=%M', cmd, ...args]];
    else if (measureRss) env = { ...childEnv, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${peakRssPreload}`.trim() };
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

const results = cases.map((c) => {
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
  { what: '200 workers / 2 workers (median of per-round ratios)', value: scaleOf(200).ratioTo2Workers, max: THRESHOLDS.scale200Ratio },
  { what: '1000 workers / 2 workers (median of per-round ratios)', value: scaleOf(1000).ratioTo2Workers, max: THRESHOLDS.scale1000Ratio },
  { what: '1000 workers peak RSS MiB', value: scaleOf(1000).peakRssMiB ?? 0, max: THRESHOLDS.scale1000RssMiB },
].map((c) => ({ ...c, ok: c.value <= c.max }));

const environment = {
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - benchStart) / 1000),
  command: `${Object.entries(process.env).filter(([k]) => /^BENCH_/.test(k)).map(([k, v]) => `${k}=${v} `).join('')}npm run bench`,
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
const md = `# Benchmarks

Generated by \`${environment.command}\` (bench/main.ts) on ${environment.date}; do not edit by hand.

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
  ['`node -e 0`', byKey.get('synth')!.baselineMedianMs, undefined, byKey.get('synth')!.baselineMedianMs, 1, rss.get('node-e-0') === undefined ? undefined : Math.round(rss.get('node-e-0')!)],
  ...startup.map((r) => [r.label, r.medianMs, r.minMs, r.baselineMedianMs, r.ratioToNodeE0, r.peakRssMiB]),
])}

${'dir' in template
    ? `The whole default topology (Kubernetes manifests, every host's files, four Terraform stacks and the picture) is synthesized in 1/${round1(byKey.get('cdk8s-template')!.medianMs / byKey.get('synth')!.medianMs)} of the time the official cdk8s template takes to synthesize one Deployment (medians of this run).`
    : `The cdk8s template reference was not measured: ${template.error}`}

## Scale (\`node scripts/synth.js --config <N workers>\`)

${table(['workers', 'runs', 'median ms', 'min ms', '× 2 workers', '× `node -e 0`', 'peak RSS MiB', 'files + dirs written'], scale.map((r) => [r.workers, r.runs, r.medianMs, r.minMs, r.ratioTo2Workers, r.ratioToNodeE0, r.peakRssMiB, r.filesAndDirs]))}

## Thresholds (the run exits 1 when one fails)

${table(['check', 'measured', 'threshold', 'result'], checks.map((c) => [c.what, c.value, `≤ ${c.max}`, c.ok ? 'pass' : '**FAIL**']))}
`;

writeFileSync(MD_PATH, md);
writeFileSync(JSON_PATH, `${JSON.stringify({ environment, thresholds: THRESHOLDS, startup, scale, checks }, null, 2)}\n`);
rmSync(configDir, { recursive: true, force: true });

console.log(md);
console.log(`wrote ${MD_PATH} and ${JSON_PATH}`);
const failed = checks.filter((c) => !c.ok);
if (failed.length > 0) {
  for (const c of failed) console.error(`threshold exceeded: ${c.what}: ${c.value} > ${c.max}`);
  process.exitCode = 1;
}
