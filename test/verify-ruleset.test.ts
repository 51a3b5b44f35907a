/**
 * npm run verify's gateway ruleset row end to end, under `unshare -n`, with an `ssh` stand-in whose
 * `iptables-save` prints what the real iptables-save printed of the synthesized firewall.rules after it
 * was loaded in a network namespace of its own (and, for a failure, changed there). Root only: the
 * namespaces need it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const site = scratchDir('k8s-ha-edge-verify-ruleset-');
const asRoot = process.getuid?.() === 0 ? test : test.skip;
const CHECK = 'ruleset equals the generated one (counters stripped)';

beforeAll(() => {
  const run = spawnSync('node', [join(repo, 'scripts', 'synth.js'), '--only', 'tf', '--cdktf-out', join(site, 'cdktf.out')], { cwd: site, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
});

/** The gateway's firewall.rules loaded by iptables-restore in a namespace of its own, `then` run there, and iptables-save's output. */
function savedOnHost(then = 'true'): string {
  const generated = readFileSync(join(site, 'cdktf.out', 'stacks', 'gateway', 'assets', 'gateway', 'firewall.rules'), 'utf8');
  const run = spawnSync('unshare', ['-n', 'sh', '-c', `iptables-restore && ${then} && iptables-save -c`], { input: generated, encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout;
}

/** verify --json's gateway ruleset row, the gateway's `iptables-save` answering `saved` (every other command fails). */
function rulesetRow(saved: string) {
  const out = join(site, `saved-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(out, saved);
  const bin = scratchDir('k8s-ha-edge-verify-ruleset-bin-');
  writeFileSync(join(bin, 'ssh'), [
    '#!/usr/bin/env bash',
    'case "$*" in *" -O exit "*) exit 0 ;; esac',
    'for last; do :; done',
    'case "$last" in',
    '  true|"sudo -n true") exit 0 ;;',
    `  iptables-save|"sudo -n iptables-save") cat ${JSON.stringify(out)} ;;`,
    '  *) exit 1 ;;',
    'esac',
  ].join('\n'));
  chmodSync(join(bin, 'ssh'), 0o755);
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'verify.ts'), '--ssh-key', __filename, '--json'], {
    cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, INIT_CWD: site, PATH: `${bin}:${process.env.PATH}` },
  });
  const report = JSON.parse(run.stdout) as { checks: Array<{ host: string; check: string; result: string; detail: string }> };
  return report.checks.filter((c) => c.check === CHECK);
}

describe('npm run verify: the gateway ruleset, compared as models', () => {
  asRoot('GIVEN the host loaded the generated ruleset THEN the row passes, counting its rules (iptables-save -c counters and all)', () => {
    expect(rulesetRow(savedOnHost())).toEqual([{ host: 'gateway', check: CHECK, result: 'pass', detail: '11 rules in filter, nat' }]);
  });

  asRoot('GIVEN a rule changed on the host and a chain added THEN the row fails naming that rule (its chain and place) and the chain', () => {
    const row = rulesetRow(savedOnHost('iptables -R INPUT 3 -s 192.168.10.0/24 -i ens33 -p tcp --dport 2222 -j ACCEPT && iptables -N EXTRA'));
    expect(row).toEqual([{
      host: 'gateway', check: CHECK, result: 'FAIL',
      detail: 'filter INPUT rule 3 missing: -A INPUT -s 192.168.10.0/24 -i ens33 -p tcp -m tcp --dport 22 -j ACCEPT; '
        + 'filter INPUT rule 3 not generated: -A INPUT -s 192.168.10.0/24 -i ens33 -p tcp -m tcp --dport 2222 -j ACCEPT; filter EXTRA: chain not generated',
    }]);
  });

  asRoot('GIVEN a rule on the host the model has no words for THEN the row fails naming its line, never a pass', () => {
    const row = rulesetRow(savedOnHost('iptables -A FORWARD -j LOG --log-prefix x'));
    expect(row).toEqual([{ host: 'gateway', check: CHECK, result: 'FAIL', detail: expect.stringMatching(/^iptables-save, a rule the generated ruleset could not have: line \d+ \(\[0:0\] -A FORWARD -j LOG --log-prefix x\): -j LOG --log-prefix x: a target the model does not have$/) }]);
  });
});
