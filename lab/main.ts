/**
 * npm run lab -- [test|failover|up|down] [--config FILE] [--firewalld] [--runs N] [--json FILE] [--suite bookworm|trixie]
 *
 * Builds the topology's machines on this one machine (Debian containers booted with
 * systemd, each in its own network namespace, wired through bridges in a switch
 * namespace: see lab/hosts.sh), applies the synthesized Terraform stacks to them with
 * the real terraform from a management namespace, and drives traffic through them.
 * `test` = up, every check, down (also on failure and Ctrl-C).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { loadTopology, readConfigFile, Topology } from '../lib/topology';
import { CheckResult, LabChecks } from './checks';
import { GatewayPairChecks, GatewayRun } from './gateway-pair';
import { DrainRun, FailoverRun, FaultKind, siteGapBound, summarize } from './failover';
import { hostsSh, labNetns, mustOnHost, run, RunResult } from './exec';
import { labHostsFile } from './lab-hosts';
import { containersPeakMiB } from './containers-memory';
import { LabProject, PROJECT_DIR, synth, writeLabConfig } from './project';

const RESULTS_FILE = process.env.LAB_RESULTS ?? join(resolve(__dirname, '..'), 'lab', 'results.json');

function log(message: string): void {
  process.stderr.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function up(configFile: string | undefined, firewalld = false): LabProject {
  rmSync(PROJECT_DIR, { recursive: true, force: true });
  mkdirSync(PROJECT_DIR, { recursive: true, mode: 0o700 });
  const userConfig = configFile ? readConfigFile(configFile) : {};
  const { path: configPath, topology } = writeLabConfig(PROJECT_DIR, 'lab-topology.yaml', userConfig);
  writeFileSync(join(PROJECT_DIR, 'user-config.json'), JSON.stringify(userConfig));
  // As the user's file says: which hosts the lab cannot boot as they are.
  const notDebian = allHosts(loadTopology({ overrides: userConfig })).filter((h) => h.osFamily !== 'debian').map((h) => `${h.name} (${h.osFamily})`);
  if (notDebian.length > 0) {
    log(`note: only Debian can be booted here; ${notDebian.join(', ')} ${notDebian.length === 1 ? 'is' : 'are'} booted and synthesized as Debian ${process.env.LAB_SUITE ?? 'bookworm'}`);
  }
  const users = [...new Set(allHosts(topology).map((h) => h.sshUser))];
  log(`SSH users: ${users.join(', ')}${users.some((u) => u !== 'root') ? ' (created in each container with passwordless sudo, as the README asks of a non-root user)' : ''}`);

  log('synthesizing the stacks (terraform_data, Debian hosts)');
  synth({ dir: PROJECT_DIR, configPath });

  const hostsFile = join(PROJECT_DIR, 'hosts.json');
  writeFileSync(hostsFile, JSON.stringify(labHostsFile(topology), null, 2));
  log('booting the hosts');
  const upResult = hostsSh(['up', hostsFile], 900_000);
  process.stderr.write(upResult.stderr.split('\n').filter((l) => /lab up:|ERROR/.test(l)).join('\n') + '\n');
  if (upResult.code !== 0) throw new Error(`hosts.sh up failed:\n${upResult.stderr.slice(-3000)}`);
  const sshKey = /LAB_KEY=(\S+)/.exec(upResult.stdout)?.[1];
  const labKnownHosts = /LAB_KNOWN_HOSTS=(\S+)/.exec(upResult.stdout)?.[1];
  if (!sshKey || !labKnownHosts) throw new Error('hosts.sh up did not print LAB_KEY and LAB_KNOWN_HOSTS');
  createSshUsers(topology, `${sshKey}.pub`);
  // verify adds hosts reached by address to its own copy; the lab's file stays as hosts.sh wrote it.
  const knownHosts = join(PROJECT_DIR, 'known_hosts');
  copyFileSync(labKnownHosts, knownHosts);
  return { topology, dir: PROJECT_DIR, configPath, cdktfDir: join(PROJECT_DIR, 'cdktf.out'), sshKey, knownHosts, firewalld };
}

/** Every machine of the topology that the lab boots, with its SSH user. */
function allHosts(t: Topology): Array<{ name: string; sshUser: string; osFamily: string }> {
  return [...t.gateway.hosts, ...t.loadBalancer.hosts, t.controlPlane, ...t.workers, t.client];
}

/** Each host's SSH user, with the lab's key and (not root) passwordless sudo: the README's requirement, met as a site would. */
function createSshUsers(t: Topology, publicKey: string): void {
  const key = readFileSync(publicKey, 'utf8').trim();
  for (const host of allHosts(t).filter((h) => h.sshUser !== 'root')) {
    const u = host.sshUser;
    mustOnHost(host.name, [
      `id -u ${u} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${u}`,
      `install -d -m 0700 -o ${u} -g ${u} /home/${u}/.ssh`,
      `printf '%s\\n' '${key}' > /home/${u}/.ssh/authorized_keys`,
      `chown ${u}:${u} /home/${u}/.ssh/authorized_keys && chmod 0600 /home/${u}/.ssh/authorized_keys`,
      `printf '%s\\n' '${u} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-${u} && chmod 0440 /etc/sudoers.d/90-${u}`,
      'visudo -cq',
    ].join(' && '));
  }
}

function down(): RunResult {
  const result = hostsSh(['down'], 300_000);
  rmSync(PROJECT_DIR, { recursive: true, force: true });
  return result;
}

/** What must not survive `down`: namespaces, nspawn processes, mounts, cgroups of the lab. */
export function leftovers(): string[] {
  const found: string[] = [];
  const netns = run('ip', ['netns', 'list']).stdout.split('\n').filter((l) => l.startsWith(labNetns('')));
  if (netns.length > 0) found.push(`namespaces: ${netns.join(', ')}`);
  const nspawn = run('pgrep', ['-af', 'systemd-nspawn']).stdout.split('\n').filter((l) => l.includes('k8s-ha-edge-lab'));
  if (nspawn.length > 0) found.push(`nspawn processes: ${nspawn.length}`);
  const mounts = run('grep', ['-c', 'k8s-ha-edge-lab', '/proc/self/mountinfo']).stdout.trim();
  if (mounts !== '' && mounts !== '0') found.push(`mounts: ${mounts}`);
  const cgroups = run('find', ['/sys/fs/cgroup', '-mindepth', '2', '-maxdepth', '6', '-type', 'd', '-name', 'k8s-ha-edge-lab']).stdout.trim();
  if (cgroups !== '') found.push(`cgroups: ${cgroups.split('\n').length}`);
  if (existsSync(PROJECT_DIR)) found.push(`project dir ${PROJECT_DIR}`);
  return found;
}

function printTable(results: readonly CheckResult[], project?: LabProject): void {
  const workers = project ? project.topology.workers.map((w) => w.name).join(', ') : 'the workers';
  const where = project ? `${project.topology.workload.hostPath} on port ${project.topology.workload.nodePort}` : 'the hostPath on the NodePort';
  console.log(`\nlab results (${workers}: stand-ins, nginx serving ${where} in place of kube-proxy and the Pod)`);
  console.log(`${'#'.padEnd(3)} ${'check'.padEnd(58)} ${'result'.padEnd(6)} measured`);
  for (const r of results) {
    const numbers = Object.entries(r.measured).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`${r.id.padEnd(3)} ${r.name.padEnd(58)} ${(r.notRun ? 'not run' : r.ok ? 'pass' : 'FAIL').padEnd(6)} ${numbers}`);
    if (!r.ok) console.log(`      ${r.detail.split('\n').join('\n      ')}`);
  }
}

/** The machine's available memory in MiB (/proc/meminfo), what the lab's hosts take from. */
function availableMiB(): number {
  const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return kib === undefined ? NaN : Math.round(Number(kib) / 1024);
}

/**
 * What a whole lab run costs the machine: available memory sampled every 2 s from start to end; the
 * peak the run used is the drop from the start. Sampled by a shell loop of its own (bounded: 2 h) into
 * a file, since the checks block this process's event loop for minutes at a time.
 */
function memoryWatch(): { stop: () => { startAvailableMiB: number; minAvailableMiB: number; peakUsedMiB: number } } {
  const start = availableMiB();
  const samples = join(PROJECT_DIR, '..', `k8s-ha-edge-lab-memory.${process.pid}`);
  const sampler = spawn('bash', ['-c', `for _ in $(seq 1 3600); do awk '/^MemAvailable:/{print $2}' /proc/meminfo >> "$1"; sleep 2; done`, '_', samples], { stdio: 'ignore' });
  // Ctrl-C exits through process.exit: the sampler goes with it.
  process.on('exit', () => { sampler.kill(); rmSync(samples, { force: true }); });
  return {
    stop: () => {
      sampler.kill();
      const kib = existsSync(samples) ? readFileSync(samples, 'utf8').split('\n').filter((l) => /^\d+$/.test(l)).map(Number) : [];
      rmSync(samples, { force: true });
      const min = Math.min(start, availableMiB(), ...kib.map((k) => Math.round(k / 1024)));
      return { startAvailableMiB: start, minAvailableMiB: min, peakUsedMiB: start - min };
    },
  };
}

/** The checks of a gateway pair: its failovers with transfers running, its drain, the negative control, verify's sync check under load. */
function gatewayPairSteps(project: LabProject, checks: LabChecks, runs: number): Array<[string, string, () => Promise<CheckResult>]> {
  const pair = new GatewayPairChecks(project, () => checks.startProbe(), log);
  return [
    ['GS', 'gateway pair: verify sees the connections on the BACKUP', () => pair.syncedUnderLoad('GS')],
    ['Ga', 'gateway pair: power loss', () => pair.check('Ga', 'power-loss', runs)],
    ['Gb', 'gateway pair: power off', () => pair.check('Gb', 'power-off', runs)],
    ['Gc', 'gateway pair: outside link lost', () => pair.check('Gc', 'outside-link', runs)],
    ['Gd', 'gateway pair: drain', () => pair.check('Gd', 'drain', runs)],
    ['GN', 'gateway pair: negative control without conntrackd', () => pair.negativeControl('GN')],
  ];
}

async function test(configFile: string | undefined, firewalld: boolean, runs: number): Promise<number> {
  const started = Date.now();
  const memory = memoryWatch();
  const results: CheckResult[] = [];
  let project: LabProject | undefined;
  let containersPeak: number | undefined;
  const existing = leftovers();
  if (existing.length > 0) {
    // Someone's lab (an `up`, or a run that was killed hard) is there: never tear down what this run did not build.
    console.error(`a lab already exists (${existing.join('; ')}); remove it with 'npm run lab -- down'`);
    return 1;
  }
  try {
    const upStart = Date.now();
    project = up(configFile, firewalld);
    const upMs = Date.now() - upStart;
    const checks = new LabChecks(project, log);
    const applied = await checks.applyAndReapply(upMs);
    results.push(applied);
    const steps: Array<[string, string, () => Promise<CheckResult>]> = [
      ['V1', 'npm run verify after the first apply', () => checks.verify('V1', 'after the first apply')],
      ['2', 'client requests through the gateway', () => checks.trafficThroughGateway()],
      ['3', 'SNAT and filtering', () => checks.natAndFiltering()],
      ['3b', 'gateway hardening: INVALID first, IPv6 SSH from the inside only', () => checks.gatewayHardening()],
      ...(firewalld ? [['9', 'firewalld on the load balancers', () => checks.firewalldOnLoadBalancers()] as [string, string, () => Promise<CheckResult>]] : []),
      ...(project.topology.loadBalancer.inFlight ? [
        ['10a', 'in-flight: no loop with DSCP rewritten', () => checks.inFlightLoopGuard()],
        ['10b', 'in-flight: no storm in split brain', () => checks.inFlightSplitBrain()],
        ['10c', 'in-flight: a reset for what nobody owns', () => checks.inFlightReset()],
      ] as Array<[string, string, () => Promise<CheckResult>]> : []),
      ['4a', 'failover: nginx dies', () => checks.failoverCheck('4a', 'nginx-dies', runs)],
      ['4s', 'failover: nginx stopped', () => checks.failoverCheck('4s', 'nginx-stop', runs)],
      ['4b', 'failover: power off', () => checks.failoverCheck('4b', 'power-off', runs)],
      ['4c', 'failover: power loss', () => checks.failoverCheck('4c', 'power-loss', runs)],
      ['4d', 'planned maintenance: drain', () => checks.drainCheck('4d', runs)],
      ...(project.topology.gateway.pair ? gatewayPairSteps(project, checks, runs) : []),
      ['5', 'backend loss', () => checks.backendLoss()],
      ['6', 'page change through npm run apply', () => checks.pageChange()],
      ['V2', 'npm run verify after the page change', () => checks.verify('V2', 'after the page change')],
      ['K', 'hostKey added to every host of the running site', () => checks.hostKeysAdded('K')],
      ['VK', 'npm run verify after adding the host keys', () => checks.verify('VK', 'after adding the host keys')],
      ['T', 'verify on provoked failures', () => checks.troubleshooting('T')],
      ['7', 'firewall script idempotence', () => checks.firewallIdempotence()],
      ['7b', 'load balancer script idempotence', () => checks.loadBalancerIdempotence()],
      ['7c', 'root-owned staging directory', () => checks.stagingDirectory()],
      ['D', 'npm run destroy leaves nothing', () => checks.destroyLeavesNothing('D')],
      ['R', 'npm run apply again after destroy', () => checks.applyAndReapply(0, 'R')],
      ['V3', 'npm run verify after the second apply', () => checks.verify('V3', 'after applying again')],
    ];
    for (const [id, name, step] of steps) {
      // Nothing can be checked on hosts that apply did not set up: the rest is "not run", not failed.
      if (!applied.ok) {
        results.push({ id, name, ok: true, notRun: true, measured: {}, detail: 'not run: npm run apply failed' });
        continue;
      }
      const result = await step();
      results.push(result);
      if (!result.ok && (id === 'D' || id === 'R')) break;
    }
  } catch (error) {
    results.push({ id: '!', name: 'lab run', ok: false, measured: {}, detail: (error as Error).message });
  } finally {
    // Read before the teardown removes the cgroup: the containers' own high-water mark, which other work on the machine does not add to.
    try {
      containersPeak = containersPeakMiB();
    } catch {
      containersPeak = undefined;
    }
    log('tearing the lab down');
    const downStart = Date.now();
    const downResult = down();
    const left = leftovers();
    results.push({
      id: '8',
      name: 'teardown leaves nothing behind',
      ok: downResult.code === 0 && left.length === 0,
      measured: { downMs: Date.now() - downStart },
      detail: left.length > 0 ? `left behind: ${left.join('; ')}` : downResult.stderr.slice(-1000),
    });
  }
  printTable(results, project);
  const summary = {
    when: new Date().toISOString(), totalMs: Date.now() - started, memory: { ...memory.stop(), containersPeakMiB: containersPeak }, topology: configFile ?? 'default',
    workers: project?.topology.workers.length,
    // The containers booted (the management host is a namespace only): what the run's cost grows with.
    containers: project ? labHostsFile(project.topology).hosts.filter((h) => h.kind !== 'netns-only').length : undefined,
    suite: process.env.LAB_SUITE, firewalld, results,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(summary, null, 2)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  const notRun = results.filter((r) => r.notRun).length;
  console.log(`\ntotal ${(summary.totalMs / 1000).toFixed(1)} s, ${summary.memory.peakUsedMiB} MiB of memory at the peak, machine-wide (the containers' own: ${containersPeak ?? '?'} MiB; ${summary.workers ?? '?'} workers, ${summary.containers ?? '?'} containers); results in ${RESULTS_FILE}`);
  console.log(`lab: ${results.length - failed - notRun} passed, ${failed} failed, ${notRun} not run`);
  return failed === 0 && notRun === 0 ? 0 : 1;
}

/**
 * `failover --runs N`: up, apply, the data plane and the cost of the VRRP adverts, N failovers of every
 * kind and N drains, down. Writes every run to `jsonFile` (what `npm run bench` reads); exits 1 when
 * the goal (FAILOVER_GOAL) is missed. Bounded: each run ends within about a minute.
 */
async function failover(configFile: string | undefined, runs: number, jsonFile: string): Promise<number> {
  const started = Date.now();
  const existing = leftovers();
  if (existing.length > 0) {
    console.error(`a lab already exists (${existing.join('; ')}); remove it with 'npm run lab -- down'`);
    return 1;
  }
  const report: Record<string, unknown> = { when: new Date().toISOString(), topology: configFile ?? 'default', suite: process.env.LAB_SUITE, runs };
  const results: CheckResult[] = [];
  try {
    const project = up(configFile, false);
    const checks = new LabChecks(project, log);
    const applied = await checks.applyAndReapply(0);
    results.push(applied);
    if (!applied.ok) throw new Error(`npm run apply failed: ${applied.detail}`);
    report.settings = project.topology.loadBalancer;
    report.dataPlane = checks.dataPlane();
    report.vrrpCost = checks.vrrpCost();
    log(`data plane ${JSON.stringify(report.dataPlane)}; VRRP cost ${JSON.stringify(report.vrrpCost)}`);
    // LAB_FAILOVER_KINDS=power-off,power-loss (and LAB_FAILOVER_DRAIN=0): a subset, for experiments; the benchmark runs all.
    const all: FaultKind[] = ['nginx-dies', 'nginx-stop', 'power-off', 'power-loss'];
    const kinds = process.env.LAB_FAILOVER_KINDS ? all.filter((k) => process.env.LAB_FAILOVER_KINDS!.split(',').includes(k)) : all;
    const failovers: FailoverRun[] = [];
    const drains: DrainRun[] = [];
    report.failovers = failovers;
    report.drains = drains;
    for (const kind of kinds) results.push(await checks.failoverCheck(`4${'asbc'[all.indexOf(kind)]}`, kind, runs, (r) => failovers.push(r), 'goal'));
    if (process.env.LAB_FAILOVER_DRAIN !== '0') results.push(await checks.drainCheck('4d', runs, (r) => drains.push(r), true, 'goal'));
    // Judged by the site's own knobs (for the default knobs, the goal itself).
    const bound = siteGapBound(checks.vrrpKnobs);
    report.gapBound = bound;
    report.summaries = kinds.map((k) => summarize(k, failovers.filter((r) => r.kind === k), 'goal', bound));
    // A gateway pair: each of its faults the same number of times, with its transfers (see lab/gateway-pair.ts).
    if (project.topology.gateway.pair) {
      const pair = new GatewayPairChecks(project, () => checks.startProbe(), log);
      const gatewayRuns: GatewayRun[] = [];
      report.gatewayFailovers = gatewayRuns;
      for (const [id, kind] of [['Ga', 'power-loss'], ['Gb', 'power-off'], ['Gc', 'outside-link'], ['Gd', 'drain']] as const) {
        results.push(await pair.check(id, kind, runs, (r) => gatewayRuns.push(r)));
      }
    }
  } catch (error) {
    results.push({ id: '!', name: 'lab failover run', ok: false, measured: {}, detail: (error as Error).message });
  } finally {
    log('tearing the lab down');
    const downResult = down();
    const left = leftovers();
    results.push({ id: '8', name: 'teardown leaves nothing behind', ok: downResult.code === 0 && left.length === 0, measured: {}, detail: left.join('; ') });
  }
  printTable(results);
  report.results = results;
  report.totalMs = Date.now() - started;
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s; every run in ${jsonFile} — lab failover: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** The Debian releases the lab can boot its hosts as (lab/hosts.sh builds one root file system per release). */
export const LAB_SUITES = ['bookworm', 'trixie'] as const;
const COMMANDS = ['test', 'failover', 'up', 'down'] as const;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        firewalld: { type: 'boolean' },
        runs: { type: 'string' },
        json: { type: 'string' },
        suite: { type: 'string' },
      },
    });
  } catch (error) {
    // parseArgs names the flag ("Unknown option '--x'", "Option '--config <value>' argument missing").
    console.error(`${(error as Error).message}; usage: npm run lab -- [test|failover|up|down] [--config FILE] [--firewalld] [--runs N] [--json FILE] [--suite ${LAB_SUITES.join('|')}]`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'test';
  if (positionals.length > 1 || !(COMMANDS as readonly string[]).includes(command)) {
    console.error(`command: got ${JSON.stringify(positionals.join(' '))}, expected one of ${COMMANDS.join(', ')}`);
    return 2;
  }
  const configFile = values.config === undefined ? undefined : resolve(values.config);
  // --firewalld: the load balancers run firewalld (as stock RHEL does) before anything is applied.
  const firewalld = values.firewalld === true;
  // --runs N: failovers of each kind (and drains); 3 in `test` (CI), 10 in `failover` (the benchmark).
  const runs = values.runs !== undefined ? Number(values.runs) : command === 'failover' ? 10 : 3;
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    console.error(`--runs: got ${JSON.stringify(values.runs)}, expected an integer in 1-100`);
    return 2;
  }
  const jsonFile = values.json !== undefined ? resolve(values.json) : join(resolve(__dirname, '..'), 'lab', 'failover.json');
  // --suite: the Debian release every host boots as; hosts.sh reads it as LAB_SUITE (which also works alone).
  const suite = values.suite ?? process.env.LAB_SUITE ?? 'bookworm';
  if (!(LAB_SUITES as readonly string[]).includes(suite)) {
    console.error(`--suite: got ${JSON.stringify(suite)}, expected one of ${LAB_SUITES.join(', ')}`);
    return 2;
  }
  process.env.LAB_SUITE = suite;
  if (process.getuid?.() !== 0) {
    console.error('the lab needs root (network namespaces, systemd-nspawn)');
    return 2;
  }
  // Ctrl-C or a kill tears the lab down before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: tearing the lab down`);
      if (command !== 'up') {
        down();
        const left = leftovers();
        log(left.length === 0 ? 'nothing left behind' : `left behind: ${left.join('; ')}`);
      }
      process.exit(130);
    });
  }
  switch (command) {
    case 'test': return test(configFile, firewalld, runs);
    case 'failover': return failover(configFile, runs, jsonFile);
    case 'up': {
      try {
        const project = up(configFile, firewalld);
        const checks = new LabChecks(project, log);
        const applied = await checks.applyAndReapply(0);
        printTable([applied], project);
        console.log(`lab is up; ssh key ${project.sshKey}; 'npm run lab -- down' removes it`);
        return applied.ok ? 0 : 1;
      } catch (error) {
        console.error((error as Error).message);
        down();
        return 1;
      }
    }
    case 'down': {
      const result = down();
      const left = leftovers();
      if (left.length > 0) console.error(`left behind: ${left.join('; ')}`);
      return result.code === 0 && left.length === 0 ? 0 : 1;
    }
    default:
      console.error(`unknown command: got ${JSON.stringify(command)}, expected test, failover, up or down`);
      return 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
