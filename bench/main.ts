/**
 * npm run bench: how long a synth takes and how much memory it needs, for the seed
 * topology and for larger ones. Each case runs main.ts in a fresh process, as a user
 * would, several times; the table reports the median wall time and the peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

const repo = resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

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

interface Sample { wallMs: number; maxRssMiB: number }

function runOnce(cwd: string, args: string[]): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--import', require.resolve('tsx'), join(repo, 'bench', 'measure-synth.ts'), ...args], { cwd, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const report = /BENCH (\{.*\})/.exec(run.stderr);
  if (run.status !== 0 || !report) throw new Error(`synth failed in the benchmark: ${run.stderr}`);
  return { wallMs, maxRssMiB: JSON.parse(report[1]).maxRssKiB / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const cases: Array<{ name: string; config?: object; extra?: string[] }> = [
  { name: 'seed topology (2 workers)' },
  { name: 'seed, terraform_data', extra: ['--resource', 'terraform_data'] },
  { name: '20 workers', config: workersConfig(20) },
  { name: '200 workers', config: workersConfig(200) },
];

const results = cases.map(({ name, config, extra = [] }) => {
  const cwd = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-bench-'));
  try {
    const args = [...extra];
    if (config) {
      writeFileSync(join(cwd, 'topology.yaml'), stringify(config));
      args.push('--config', 'topology.yaml');
    }
    const samples = Array.from({ length: RUNS }, () => runOnce(cwd, args));
    return {
      name,
      runs: RUNS,
      medianWallMs: Math.round(median(samples.map((s) => s.wallMs))),
      minWallMs: Math.round(Math.min(...samples.map((s) => s.wallMs))),
      peakRssMiB: Math.round(Math.max(...samples.map((s) => s.maxRssMiB))),
    };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

console.log(`synth benchmark: ${RUNS} runs per case, fresh process each (node --import tsx main.ts), node ${process.version}`);
console.log(`${'case'.padEnd(28)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'peak RSS MiB'.padStart(13)}`);
for (const r of results) {
  console.log(`${r.name.padEnd(28)} ${String(r.medianWallMs).padStart(10)} ${String(r.minWallMs).padStart(8)} ${String(r.peakRssMiB).padStart(13)}`);
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(results, null, 2)}\n`);
