/**
 * npm run synth: config file → validated Topology → dist/ and cdktf.out/, in one pass.
 * Exit codes: 0 written, 2 bad input (nothing written), 1 unexpected failure.
 */
import { parseSynthArgs, UsageError, USAGE } from './lib/cli-args';
import { synthesize, SynthResult } from './lib/synth';
import { loadTopology, TopologyError } from './lib/topology';
import { synthWorkloadManifests } from './constructs/k8s/workload-app';
import { renderHostFilesInto } from './constructs/host-files';

function main(argv: readonly string[]): number {
  try {
    const args = parseSynthArgs(argv, process.env);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const topology = loadTopology({
      configPath: args.configPath,
      overrides: args.resource ? { provisioning: { resource: args.resource } } : undefined,
    });
    const result = synthesize(topology, { dist: args.distDir, cdktfOut: args.cdktfOutDir }, {
      dist: (t, dir) => {
        synthWorkloadManifests(t, dir);
        renderHostFilesInto(t, dir);
      },
      // Loaded only when stacks are asked for: cdktf is a third of the load, and `--only k8s`
      // (and `cdk8s synth`) need none of it.
      cdktf: (t, dir, hostFilesDir) =>
        (require('./constructs/tf/stacks-app') as typeof import('./constructs/tf/stacks-app')).synthStacks(t, dir, hostFilesDir),
    });
    printSummary(args.configPath, result);
    return 0;
  } catch (error) {
    if (error instanceof TopologyError || error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      if (error instanceof UsageError) console.error(`\n${USAGE}`);
      console.error('nothing was written; dist/ and cdktf.out/ are unchanged');
      return 2;
    }
    console.error(error);
    console.error('synth failed; dist/ and cdktf.out/ are unchanged');
    return 1;
  }
}

function printSummary(configPath: string | undefined, result: SynthResult): void {
  console.log(`synthesized the topology from ${configPath ?? 'the built-in defaults (the seed system)'}:`);
  for (const { dir, files } of result.written) {
    // One line per host directory or stack, so the summary stays short for any topology.
    const groups = new Map<string, number>();
    for (const file of files) {
      const parts = file.split('/');
      const key = parts[0] === 'stacks' ? `stacks/${parts[1]}` : parts.length > 1 ? `${parts[0]}/` : file;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    console.log(`  ${dir}/ (${files.length} files)`);
    for (const [group, count] of groups) console.log(`    ${group.padEnd(28)} ${count}`);
  }
}

process.exitCode = main(process.argv.slice(2));
