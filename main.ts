/**
 * npm run synth: config file → validated Topology → one plan in memory → dist/ and cdktf.out/.
 * Exit codes: 0 written, 2 bad input (nothing written), 1 unexpected failure, 130/143 interrupted.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parseSynthArgs, SynthArgs, UsageError, USAGE } from './lib/cli-args';
import { writeDistTree } from './lib/plan/dist-tree';
import { OutputBusyError } from './lib/output/lock';
import { OutputTargetError } from './lib/output/ownership';
import { OutputTree, synthesize, SynthInterrupted, SynthResult } from './lib/synth';
import { SynthPlan, PlannedFile } from './lib/plan/synth-plan';
import { planSynth } from './lib/site-plan';
import { topologyDiagram } from './lib/diagram';
import { bundleResourceIds, formatWarning, loadConfig, topologyOf, topologyWarnings, TopologyError } from './lib/topology';
import { readRecordedTopology, recordedConfigToLoad, RecordedTopologyError, writeRecordedTopology } from './lib/output/recorded-topology';
import { synthWorkloadManifest } from './constructs/k8s/workload-app';
// A type only: the module itself is loaded when stacks are asked for (see below).
import type { PreviousSite } from './constructs/tf/removed-workers';

/** The signal that interrupted the synth, if any; checked before anything is committed. */
let interruptedBy: NodeJS.Signals | undefined;
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

async function main(argv: readonly string[]): Promise<number> {
  let outputs = 'dist/ and cdktf.out/';
  try {
    const args = parseSynthArgs(argv, process.env);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    outputs = describeOutputs(args);
    const config = loadConfig({
      configPath: args.configPath,
      overrides: args.resource ? { provisioning: { resource: args.resource } } : undefined,
    });
    const topology = topologyOf(config);
    // Valid but worth hearing about (a deprecated mode, an unverified download, no HA): stderr, at synth time.
    for (const warning of topologyWarnings(topology)) console.error(formatWarning(warning));
    // The picture is for the review tree; the stacks (--only tf, cdktf synth) do not need it.
    // Started first: when it is not in the cache, Graphviz draws it on another thread while this
    // one synthesizes the manifests and the stacks; the review tree is written once it is drawn.
    const diagram = args.distDir !== undefined ? topologyDiagram(topology) : undefined;
    // A failure to draw is reported when the review tree is written, never as an unhandled rejection.
    diagram?.catch(() => undefined);
    const plan = planSynth(topology, synthWorkloadManifest(topology));
    const trees: OutputTree[] = [];
    if (diagram !== undefined) {
      trees.push({ target: args.distDir!, flag: '--dist', write: async (dir) => writeDistTree(withManifests(plan, await diagram), dir) });
    }
    if (args.cdktfOutDir !== undefined) {
      // Loaded only when stacks are asked for: cdktf is a third of the load, and `--only k8s`
      // (and `cdk8s synth`) need none of it.
      const { hostsLeftBehind, removedWorkers, synthStacks } = require('./constructs/tf/stacks-app') as typeof import('./constructs/tf/stacks-app');
      const stacksRoot = args.cdktfOutDir;
      checkStateDirOutside(topology.provisioning.stateDir, [args.distDir, stacksRoot]);
      // The state file's path relative to the stack directory where the stack will be (not the staging copy).
      const localStatePath = (stack: string, stateFile: string) => relative(resolve(stacksRoot, 'stacks', stack), resolve(stateFile)).split(sep).join('/');
      // Beside the stacks, the topology they were made from: verify and drain act on that site, not on a guess.
      const source = args.configPath ?? 'the built-in defaults';
      trees.push({
        target: stacksRoot, flag: '--cdktf-out', keepsTerraformState: true,
        write: (dir) => {
          // Read while synth holds the output's lock: the site as the previous synth of this output left it.
          // A worker it had and this topology has not is removed by the k8s stack, its teardown first.
          const previous = previousSite(stacksRoot);
          for (const warning of hostsLeftBehind(topology, previous)) console.error(formatWarning(warning));
          const removed = removedWorkers(topology, previous, new Set(plan.bundles.flatMap((b) => Object.values(bundleResourceIds(b.id)))));
          return [...synthStacks(plan, dir, { localStatePath, removedWorkers: removed }), writeRecordedTopology(dir, config, source, removed)].sort();
        },
      });
    }
    printSummary(args.configPath, await synthesize(trees, { interrupted: () => interruptedBy !== undefined }));
    return 0;
  } catch (error) {
    if (error instanceof TopologyError || error instanceof UsageError || error instanceof OutputTargetError || error instanceof RecordedTopologyError) {
      console.error(`error: ${error.message}`);
      if (error instanceof UsageError) console.error(`\n${USAGE}`);
      console.error(`nothing was written; ${outputs} unchanged`);
      return 2;
    }
    if (error instanceof SynthInterrupted) {
      console.error(`synth interrupted by ${interruptedBy}: nothing was written; ${outputs} unchanged`);
      return SIGNAL_EXIT_CODES[interruptedBy ?? 'SIGINT'] ?? 130;
    }
    if (error instanceof OutputBusyError) {
      console.error(`error: ${error.message}`);
      console.error(`nothing was written; ${outputs} unchanged`);
      return 1;
    }
    // A failure of the machine (a full disk, a lost mount) is said in one line; a stack trace is for a bug.
    console.error(isSystemError(error) ? `error: ${error.message}` : error);
    console.error(`synth failed; ${outputs} unchanged`);
    return 1;
  }
}

/** An error from the operating system (it carries an errno code such as ENOSPC), not from this program's logic. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The plan with more files at the top of dist/ (the picture, drawn while the rest was synthesized). */
function withManifests(plan: SynthPlan, files: readonly PlannedFile[]): SynthPlan {
  return { ...plan, manifests: [...plan.manifests, ...files] };
}

/** The site the previous synth into `cdktfOut` recorded: its topology and the removed workers it carried; undefined when there is none. */
function previousSite(cdktfOut: string): PreviousSite | undefined {
  const recorded = readRecordedTopology(cdktfOut);
  if (recorded === undefined) return undefined;
  const topology = topologyOf(loadConfig({ overrides: recordedConfigToLoad(recorded), sourceName: recorded.path }));
  return { path: recorded.path, topology, removedWorkers: recorded.removedWorkers };
}

/** Synth replaces its output directories whole: state inside one of them would be lost. */
function checkStateDirOutside(stateDir: string, outputs: ReadonlyArray<string | undefined>): void {
  const state = resolve(stateDir);
  for (const output of outputs) {
    if (output === undefined) continue;
    const rel = relative(resolve(output), state);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new UsageError(`provisioning.stateDir: got ${JSON.stringify(stateDir)}, expected a directory outside ${output} (synth replaces it whole)`);
    }
  }
}

/** "dist/ and cdktf.out/ are", naming the directories this run was asked to write. */
function describeOutputs(args: SynthArgs): string {
  const dirs = [args.distDir, args.cdktfOutDir].filter((d): d is string => d !== undefined).map((d) => `${d.replace(/\/+$/, '')}/`);
  return dirs.length === 1 ? `${dirs[0]} is` : `${dirs.join(' and ')} are`;
}

/** Lines of groups a tree's summary shows at most: the rest are summed up in one more. */
const SUMMARY_GROUPS = 16;

function printSummary(configPath: string | undefined, result: SynthResult): void {
  const out = [`synthesized the topology from ${configPath ?? 'the built-in defaults'}:`];
  for (const { dir, files } of result.written) {
    // One line per bundle directory or stack, the first SUMMARY_GROUPS of them, so the summary stays short for any topology.
    const groups = new Map<string, number>();
    for (const file of files) {
      const slash = file.indexOf('/');
      const key = slash < 0 ? file : file.startsWith('stacks/') ? file.split('/', 2).join('/') : file.slice(0, slash + 1);
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const shown = [...groups];
    const rest = shown.length > SUMMARY_GROUPS ? shown.splice(SUMMARY_GROUPS - 1) : [];
    if (rest.length > 0) shown.push([`(${rest.length} more)`, rest.reduce((n, [, count]) => n + count, 0)]);
    out.push(`  ${dir}/ (${files.length} files)`, ...shown.map(([group, count]) => `    ${group.padEnd(28)} ${count}`));
  }
  console.log(out.join('\n'));
}

for (const signal of Object.keys(SIGNAL_EXIT_CODES) as NodeJS.Signals[]) {
  process.on(signal, () => {
    interruptedBy = signal;
  });
}
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // The signal handlers above would keep a second Ctrl-C from ending a finished process.
  for (const signal of Object.keys(SIGNAL_EXIT_CODES)) process.removeAllListeners(signal);
});
