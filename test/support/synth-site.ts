import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scratchDir } from './scratch';

/** The files of an operator command's test site, in a scratch directory. */
export interface OperatorSite {
  readonly site: string;
  /** site.yaml, the topology the command acts on. */
  readonly config: string;
  /** Where synthSite writes the stacks (and the recorded topology the command reads). */
  readonly cdktfOut: string;
  /** A placeholder private key file (mode 0600): the ssh stand-in never reads it. */
  readonly key: string;
  /** An empty HOME for the command. */
  readonly home: string;
  /** An empty directory for the stand-in commands, to put first on PATH. */
  readonly bin: string;
}

/** A site for an operator command's test (npm run backup, kubeconfig, upgrade): `configYaml` as site.yaml. */
export function operatorSite(prefix: string, configYaml: string): OperatorSite {
  const site = scratchDir(prefix);
  const config = join(site, 'site.yaml');
  writeFileSync(config, configYaml);
  const key = join(site, 'id_test');
  writeFileSync(key, 'not a key: the ssh stand-in never reads it\n', { mode: 0o600 });
  const home = join(site, 'home');
  mkdirSync(home);
  const bin = join(site, 'bin');
  mkdirSync(bin);
  return { site, config, cdktfOut: join(site, 'cdktf.out'), key, home, bin };
}

/**
 * `npm run synth -- --only tf` of the site's config into its cdktf.out (which records the topology the
 * command then reads). Throws when the synth fails.
 */
export function synthSite({ site, config, cdktfOut }: OperatorSite): void {
  const run = spawnSync('node', [join(resolve(__dirname, '..', '..'), 'scripts', 'synth.js'), '--config', config, '--only', 'tf', '--cdktf-out', cdktfOut], { cwd: site, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
}
