import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * A site for an operator command's test: `npm run synth -- --only tf` of `config` into `cdktfOut`
 * (which records the topology the command then reads), from `cwd`. Throws when the synth fails.
 */
export function synthSite(config: string, cdktfOut: string, cwd: string): void {
  const run = spawnSync('node', [join(resolve(__dirname, '..', '..'), 'scripts', 'synth.js'), '--config', config, '--only', 'tf', '--cdktf-out', cdktfOut], { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
}
