/**
 * npm run lab -- [test|up|down] [--config FILE] [--firewalld]
 *
 * Builds the topology's machines on this one machine (Debian containers booted with
 * systemd, each in its own network namespace, wired through bridges in a switch
 * namespace: see lab/hosts.sh), applies the synthesized Terraform stacks to them with
 * the real terraform from a management namespace, and drives traffic through them.
 * `test` = up, every check, down (also on failure and Ctrl-C).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readConfigFile } from '../lib/topology';
import { CheckResult, LabChecks } from './checks';
import { hostsSh, labNetns, run, RunResult } from './exec';
import { labHostsFile } from './lab-hosts';
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

  log('synthesizing the stacks (terraform_data, Debian hosts)');
  synth({ dir: PROJECT_DIR, configPath });

  const hostsFile = join(PROJECT_DIR, 'hosts.json');
  writeFileSync(hostsFile, JSON.stringify(labHostsFile(topology), null, 2));
  log('booting the hosts');
  const upResult = hostsSh(['up', hostsFile], 900_000);
  process.stderr.write(upResult.stderr.split('\n').filter((l) => /lab up:|ERROR/.test(l)).join('\n') + '\n');
  if (upResult.code !== 0) throw new Error(`hosts.sh up failed:\n${upResult.stderr.slice(-3000)}`);
  const sshKey = /LAB_KEY=(\S+)/.exec(upResult.stdout)?.[1];
  if (!sshKey) throw new Error('hosts.sh up did not print LAB_KEY');
  return { topology, dir: PROJECT_DIR, configPath, cdktfDir: join(PROJECT_DIR, 'cdktf.out'), sshKey, firewalld };
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
    console.log(`${r.id.padEnd(3)} ${r.name.padEnd(58)} ${(r.ok ? 'pass' : 'FAIL').padEnd(6)} ${numbers}`);
    if (!r.ok) console.log(`      ${r.detail.split('\n').join('\n      ')}`);
  }
}

async function test(configFile: string | undefined, firewalld: boolean): Promise<number> {
  const started = Date.now();
  const results: CheckResult[] = [];
  let project: LabProject | undefined;
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
    results.push(await checks.applyAndReapply(upMs));
    results.push(await checks.trafficThroughGateway());
    results.push(await checks.natAndFiltering());
    results.push(await checks.gatewayHardening());
    if (firewalld) results.push(await checks.firewalldOnLoadBalancers());
    results.push(await checks.failoverNginxStop());
    results.push(await checks.failoverPowerOff());
    results.push(await checks.failoverPowerLoss());
    results.push(await checks.backendLoss());
    results.push(await checks.pageChange());
    results.push(await checks.firewallIdempotence());
    results.push(await checks.loadBalancerIdempotence());
    results.push(await checks.stagingDirectory());
  } catch (error) {
    results.push({ id: '!', name: 'lab run', ok: false, measured: {}, detail: (error as Error).message });
  } finally {
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
  const summary = { when: new Date().toISOString(), totalMs: Date.now() - started, topology: configFile ?? 'default (seed)', firewalld, results };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(summary, null, 2)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\ntotal ${(summary.totalMs / 1000).toFixed(1)} s; results in ${RESULTS_FILE}`);
  console.log(`lab: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'test';
  const configIndex = argv.indexOf('--config');
  const configFile = configIndex >= 0 ? resolve(argv[configIndex + 1]) : undefined;
  // --firewalld: the load balancers run firewalld (as stock RHEL does) before anything is applied.
  const firewalld = argv.includes('--firewalld');
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
    case 'test': return test(configFile, firewalld);
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
      console.error(`unknown command: got ${JSON.stringify(command)}, expected test, up or down`);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
