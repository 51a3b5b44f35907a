/**
 * Which site verify and drain act on. They reach hosts by address, so they never guess: the topology
 * recorded by the synth that produced cdktf.out (the one apply acts on) is the default; `--config`
 * must agree with it; with neither there is nothing to act on (exit 2).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstDifference, readRecordedTopology, RECORDED_TOPOLOGY_FILE, recordedConfig, recordedConfigToLoad, RecordedTopologyError } from '../lib/output/recorded-topology';
import { loadConfig, Topology, topologyOf } from '../lib/topology';
import { ParsedFlags, UsageError, userPath, valueOf } from './args';

/** The usage lines of the flags siteOfFlags and sshOptionsOf read, as the operator commands print them. */
export const SITE_FLAGS_USAGE = `  --config FILE          the topology that was applied (default: the one recorded in --cdktf-out by its synth;
                         given, it must be that one)
  --cdktf-out DIR        the stacks that were applied, whose topology is recorded there (default cdktf.out)
  --ssh-key PATH         the SSH private key (default: $TF_VAR_ssh_private_key_path)
  --known-hosts FILE     known_hosts to use (default ~/.ssh/known_hosts)`;

export interface SiteOptions {
  /** The synthesized output (cdktf.out), absolute. */
  readonly cdktfOut: string;
  /** --config, absolute, when given. */
  readonly configPath?: string;
}

/**
 * The site's topology: --config when given (refused when cdktf.out was synthesized from another
 * topology), else cdktf.out's recorded one. Throws a UsageError (or a TopologyError for a bad config).
 */
export function siteTopology({ cdktfOut, configPath }: SiteOptions): Topology {
  let recorded: ReturnType<typeof readRecordedTopology>;
  try {
    recorded = readRecordedTopology(cdktfOut);
  } catch (error) {
    if (error instanceof RecordedTopologyError) throw new UsageError(error.message);
    throw error;
  }
  if (configPath !== undefined) {
    const config = loadConfig({ configPath });
    const difference = recorded && firstDifference(recordedConfig(config), recorded.config);
    if (difference) {
      // No flag lets one of the two win: verify compares the gateway with cdktf.out's ruleset and
      // apply deploys cdktf.out, so a topology other than its own would check a site nobody applied.
      throw new UsageError(`--config: got ${configPath}, whose ${difference.path} is ${difference.got}; expected the topology `
        + `${cdktfOut} was synthesized from (${recorded!.source}), where it is ${difference.expected}. Either synthesize and apply `
        + `this config (npm run synth -- --config ${configPath}), or leave --config out to use the recorded one, or give --cdktf-out `
        + 'the output synthesized from this config');
    }
    return topologyOf(config);
  }
  if (recorded) return topologyOf(loadConfig({ overrides: recordedConfigToLoad(recorded), sourceName: recorded.path }));
  throw new UsageError(`--config: got nothing, and ${join(cdktfOut, RECORDED_TOPOLOGY_FILE)} does not exist; expected --config FILE `
    + '(the topology that was applied) or --cdktf-out DIR, the output of the synth that produced the site (npm run synth records its topology there). '
    + 'Without either there is no site to act on: the built-in topology\'s addresses may be someone else\'s machines');
}

/**
 * The site an operator command's flags name: `--config` (an existing file, when given) checked against the
 * record of `--cdktf-out` (default cdktf.out), as siteTopology does. Returns the topology and cdktf.out.
 */
export function siteOfFlags(flags: ParsedFlags): { topology: Topology; cdktfOut: string } {
  const config = valueOf(flags, '--config');
  if (config !== undefined && !existsSync(userPath(config))) throw new UsageError(`--config: got ${config}, expected an existing file`);
  const cdktfOut = userPath(valueOf(flags, '--cdktf-out') ?? 'cdktf.out');
  return { topology: siteTopology({ cdktfOut, configPath: config === undefined ? undefined : userPath(config) }), cdktfOut };
}
