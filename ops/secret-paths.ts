import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Topology } from '../lib/topology';
import { UsageError, userDir } from './args';

/**
 * The directories a file holding the cluster's secrets (a kubeconfig, an etcd backup) must never be
 * written into: the synthesized output (dist/ and cdktf.out/, with terraform's logs: reviewed and
 * shared) and the local Terraform state directory (kept, often committed or uploaded). stateDir and
 * dist/ are relative to the directory synth ran in, cdktf.out's parent.
 */
function forbiddenDirs(t: Topology, cdktfOut: string): Array<{ dir: string; what: string }> {
  const synthDir = dirname(cdktfOut);
  return [
    { dir: cdktfOut, what: 'the synthesized stacks (cdktf.out)' },
    { dir: join(synthDir, 'dist'), what: 'the synthesized files (dist)' },
    { dir: join(userDir(), 'dist'), what: 'the synthesized files (dist)' },
    { dir: resolve(synthDir, t.provisioning.stateDir), what: 'the Terraform state directory (provisioning.stateDir)' },
  ];
}

/** The path with every existing ancestor's symbolic links resolved: where a write would really land. */
function realTarget(path: string): string {
  let dir = resolve(path);
  const rest: string[] = [];
  while (!existsSync(dir) && dirname(dir) !== dir) {
    rest.unshift(basename(dir));
    dir = dirname(dir);
  }
  return join(realpathSync(dir), ...rest);
}

function inside(path: string, dir: string): boolean {
  const r = relative(realTarget(dir), realTarget(path));
  return r === '' || (!r.startsWith('..') && !r.startsWith('/'));
}

/** A UsageError when `--out` (typed as `raw`, resolved to `out`) is inside one of those directories. `holds`: what the file holds, for the message. */
export function refuseSecretPath(raw: string, out: string, t: Topology, cdktfOut: string, holds: string): void {
  for (const { dir, what } of forbiddenDirs(t, cdktfOut)) {
    if (inside(out, dir)) throw new UsageError(`--out: got ${raw}, which is inside ${what} at ${dir}; expected a path outside it (${holds})`);
  }
}
