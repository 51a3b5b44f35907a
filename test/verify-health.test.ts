/**
 * verify's health checks: the verdicts from recorded answers (pure functions), the command run by bash
 * with stand-in tools, and npm run verify end to end under `unshare -n` with an `ssh` stand-in that
 * answers each host's commands (no host is reached; a real clock is checked only in the lab).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLOCK_COMMAND, clockVerdict } from '../ops/health';
import { scratchDir } from './support/scratch';

const repo = resolve(__dirname, '..');
const dir = scratchDir('k8s-ha-edge-health-');

/** A directory of stand-in commands. */
function bin(commands: Record<string, string>): string {
  const path = join(dir, `bin-${Object.keys(commands).join('-')}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(path);
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(path, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(path, name), 0o755);
  }
  return path;
}

/** `chronyc -n tracking` as chrony 4 prints it (the fields verify reads; the numbers are made up). */
const TRACKING = (leap: string) => [
  'Reference ID    : C0A80A02 (192.168.10.2)',
  'Stratum         : 3',
  'Ref time (UTC)  : Mon Dec 07 18:00:00 2026',
  'System time     : 0.000012345 seconds fast of NTP time',
  'Last offset     : +0.000001234 seconds',
  'RMS offset      : 0.000023456 seconds',
  'Frequency       : 12.345 ppm slow',
  'Residual freq   : +0.001 ppm',
  'Skew            : 0.012 ppm',
  'Root delay      : 0.012345678 seconds',
  'Root dispersion : 0.001234567 seconds',
  'Update interval : 64.2 seconds',
  `Leap status     : ${leap}`,
].join('\n');

describe('verify: clock synchronised', () => {
  test.each([
    ['timedatectl says yes', 'timedatectl yes\nchronyc Normal\nactive chrony\n', 'pass', 'synchronised (timedatectl NTPSynchronized=yes; chrony active)'],
    ['timedatectl says no, chrony running', 'timedatectl no\nchronyc Not synchronised\nactive chronyd\n', 'warn', 'not synchronised (timedatectl NTPSynchronized=no; chronyd active)'],
    ['timedatectl says no, no daemon', 'timedatectl no\nchronyc \n', 'warn', 'not synchronised (timedatectl NTPSynchronized=no; no time sync daemon active)'],
    ['no timedatectl, chronyc synchronised', 'timedatectl \nchronyc Normal\nactive chronyd\n', 'pass', 'synchronised (chronyc leap status Normal; chronyd active)'],
    ['no timedatectl, chronyc not synchronised', 'timedatectl \nchronyc Not synchronised\nactive chrony\n', 'warn', 'not synchronised (chronyc leap status Not synchronised; chrony active)'],
    ['neither answers', 'timedatectl \nchronyc \n', 'skipped', 'not checked: neither timedatectl nor chronyc answered'],
  ])('GIVEN %s THEN %s', (_name, output, result, detail) => {
    expect(clockVerdict(output)).toEqual({ result, detail });
  });

  test('the command, run by bash with stand-in timedatectl, chronyc and systemctl, gives what the verdict reads', () => {
    const tools = bin({
      timedatectl: '[ "$*" = "show -p NTPSynchronized --value" ] && echo no',
      chronyc: `[ "$*" = "-n tracking" ] && cat <<'OUT'\n${TRACKING('Not synchronised')}\nOUT`,
      systemctl: '[ "$1 $2 $3" = "is-active --quiet chrony" ]',
    });
    const run = spawnSync('bash', ['-c', CLOCK_COMMAND], { encoding: 'utf8', env: { ...process.env, PATH: `${tools}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('timedatectl no\nchronyc Not synchronised\nactive chrony\n');
    expect(clockVerdict(run.stdout).result).toBe('warn');
  });
});

/** A synth's cdktf.out of the built-in topology. */
const site = scratchDir('k8s-ha-edge-health-site-');
beforeAll(() => {
  const run = spawnSync('node', [join(repo, 'scripts', 'synth.js'), '--only', 'tf', '--cdktf-out', join(site, 'cdktf.out')], { cwd: site, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
});

/**
 * npm run verify --json with an ssh stand-in: every host answers `true` (reachable) and the clock
 * command with `clock[address]`; every other command fails, so only the rows asked about are read.
 */
function verify(clock: Record<string, string>) {
  const ssh = bin({
    ssh: [
      'case "$*" in *" -O exit "*) exit 0 ;; esac',
      'for last; do :; done',
      'host=""; for a in "$@"; do case "$a" in *@*) host=${a#*@} ;; esac; done',
      'case "$last" in',
      '  true|"sudo -n true") exit 0 ;;',
      '  *"timedatectl show"*) case "$host" in',
      ...Object.entries(clock).map(([address, answer]) => `    ${address}) printf ${JSON.stringify(answer)} ;;`),
      '    *) printf "timedatectl yes\\nchronyc \\n" ;;',
      '  esac ;;',
      '  *) exit 1 ;;',
      'esac',
    ].join('\n'),
  });
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'verify.ts'), '--ssh-key', __filename, '--json'], {
    cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, INIT_CWD: site, PATH: `${ssh}:${process.env.PATH}` },
  });
  const report = JSON.parse(run.stdout) as { summary: Record<string, number>; checks: Array<{ host: string; check: string; result: string; detail: string }> };
  return { status: run.status, report, clocks: report.checks.filter((c) => c.check === 'clock synchronised (NTP)') };
}

describe('npm run verify: every host\'s clock', () => {
  test('GIVEN node02 not synchronised THEN its row warns, by name, every other host passes, and the warning is counted', () => {
    const { report, clocks } = verify({ '192.168.10.30': 'timedatectl no\nchronyc \nactive chrony\n' });
    expect(clocks.map((c) => c.host).sort()).toEqual(['client', 'gateway', 'lb01', 'lb02', 'master', 'node01', 'node02'].sort());
    expect(clocks.filter((c) => c.result !== 'pass')).toEqual([
      { host: 'node02', check: 'clock synchronised (NTP)', result: 'warn', detail: 'not synchronised (timedatectl NTPSynchronized=no; chrony active)' },
    ]);
    expect(report.summary.warned).toBe(1);
  });
});
