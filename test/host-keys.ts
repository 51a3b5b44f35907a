import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './support/scratch';

/** A fresh ed25519 public key line, as /etc/ssh/ssh_host_ed25519_key.pub holds it (made by ssh-keygen). */
export function hostKeyLine(comment: string): string {
  const dir = scratchDir('k8s-ha-edge-hostkey-');
  const path = join(dir, 'key');
  const run = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  if (run.status !== 0) throw new Error(`ssh-keygen failed: ${run.stderr.toString()}`);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

export const HAS_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?']).error === undefined;
