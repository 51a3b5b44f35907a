import { parseArgs } from 'node:util';

/**
 * `npm run bench` flags. Parsed here, apart from bench/main.ts (which measures as soon as it is
 * loaded), so that a bad flag is refused before anything runs and the parsing can be tested.
 */

/** The lab sites `--lab-scale` can run, by worker count (the default site and lab/sites/). */
export const LAB_SCALE_WORKERS = [2, 12, 20] as const;

export interface BenchArgs {
  /** `--help`: print the usage and exit 0. */
  readonly help: boolean;
  /** `--runs N`: failovers of each kind (and drains) in the lab. @default the kept failover section */
  readonly runs?: number;
  /** `--failover-only`: no synth timing; the synth sections of the previous BENCHMARKS.json are kept. */
  readonly failoverOnly: boolean;
  /**
   * `--lab-scale [2,12,20]`: `npm run lab -- test` on these site sizes, one after another; the synth
   * sections are kept, as with `--failover-only`. @default not run: the kept lab-scale section
   */
  readonly labScale?: readonly number[];
  /** `--gateway-runs N`: the gateway pair's faults, N of each, in the lab. @default the kept gateway section */
  readonly gatewayRuns?: number;
}

export const BENCH_USAGE = `usage: npm run bench -- [--runs N] [--gateway-runs N] [--failover-only] [--lab-scale [2,12,20]] [--help]
  (no flag)        synth timing; the failover and lab-scale sections are kept from BENCHMARKS.json
  --runs N         also N failovers of every kind and N drains in the lab (1-100; about 25 min at 10)
  --gateway-runs N the gateway pair's faults (power loss, power off, outside link, drain) N times each, in one lab
                   on examples/gateway-pair.yaml (1-100; about 25 min at 10); no synth timing, as with --failover-only
  --failover-only  no synth timing: the synth sections are kept from BENCHMARKS.json
  --lab-scale      npm run lab -- test on the default site (2 workers), then 12, then 20 workers (about 35 min);
                   a comma list (--lab-scale 20 or --lab-scale 2,12) reruns only those sizes and keeps the others.
                   No synth timing, as with --failover-only.
  --help           this text
Environment: BENCH_RUNS, BENCH_SCALE_RUNS (synth rounds), BENCH_MD, BENCH_JSON (output files),
BENCH_LAB_LOCK=FILE (each lab invocation under flock FILE; leave it unset when the whole bench already holds that lock).
The run exits 1 when a threshold fails, 2 on a bad flag.`;

const FLAG_EXPECTED = 'expected one of --runs N, --gateway-runs N, --failover-only, --lab-scale [2,12,20], --help';

/** Parses the flags (node:util parseArgs, strict), or says which one is wrong: "what, got X, expected Y". */
export function parseBenchArgs(argv: readonly string[]): BenchArgs | { error: string } {
  // The list after --lab-scale is optional: a following flag (or nothing) means every size.
  const args = argv.flatMap((arg, i) => (arg === '--lab-scale' && (argv[i + 1] === undefined || argv[i + 1].startsWith('-')) ? [arg, LAB_SCALE_WORKERS.join(',')] : [arg]));
  let values: { help?: boolean; runs?: string; 'gateway-runs'?: string; 'failover-only'?: boolean; 'lab-scale'?: string };
  try {
    values = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, runs: { type: 'string' }, 'gateway-runs': { type: 'string' }, 'failover-only': { type: 'boolean' }, 'lab-scale': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // Told by the code, not `instanceof TypeError` (under jest, node's TypeError is another realm's).
    const code = String((error as { code?: unknown }).code);
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw error;
    const message = (error as Error).message;
    if (/'--runs/.test(message)) return { error: '--runs: got null, expected an integer in 1-100' };
    if (/'--gateway-runs/.test(message)) return { error: '--gateway-runs: got null, expected an integer in 1-100' };
    const named = /'(-[^' ]*)/.exec(message)?.[1] ?? /"([^"]*)"/.exec(message)?.[1] ?? message;
    return { error: `flag: got ${JSON.stringify(named)}, ${FLAG_EXPECTED}` };
  }
  let runs: number | undefined;
  if (values.runs !== undefined) {
    const n = Number(values.runs);
    if (!/^\d+$/.test(values.runs) || n < 1 || n > 100) return { error: `--runs: got ${JSON.stringify(values.runs)}, expected an integer in 1-100` };
    runs = n;
  }
  let gatewayRuns: number | undefined;
  if (values['gateway-runs'] !== undefined) {
    const n = Number(values['gateway-runs']);
    if (!/^\d+$/.test(values['gateway-runs']) || n < 1 || n > 100) return { error: `--gateway-runs: got ${JSON.stringify(values['gateway-runs'])}, expected an integer in 1-100` };
    gatewayRuns = n;
  }
  let labScale: number[] | undefined;
  if (values['lab-scale'] !== undefined) {
    const value = values['lab-scale'];
    const sizes = value.split(',');
    const wrong = sizes.find((s) => !(LAB_SCALE_WORKERS as readonly number[]).includes(Number(s)) || !/^\d+$/.test(s));
    if (wrong !== undefined) return { error: `--lab-scale: got ${JSON.stringify(value)}, expected a comma list of worker counts among ${LAB_SCALE_WORKERS.join(', ')}` };
    // In the table's order, each once.
    labScale = LAB_SCALE_WORKERS.filter((w) => sizes.includes(String(w)));
  }
  return { help: values.help === true, runs, failoverOnly: values['failover-only'] === true, labScale, gatewayRuns };
}
