/**
 * npm run drain -- LB [--undo] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout N] [--timeout N]
 *
 * Planned maintenance of a load balancer without losing a request: the VIP moves to a peer while
 * this load balancer's nginx still serves, and drain returns only once a peer holds the VIP, so
 * nginx (or the host) may then be stopped. It writes the drain value into keepalived's track_file
 * (keepalived reads it at once, by inotify): the priority drops to 1, and a peer, which never waits
 * for a preempt delay, takes the VIP. `--undo` writes 0: the load balancer gets its priority back and,
 * if it is the preferred one, takes the VIP back after the preempt delay; undo waits for that too.
 * Exit codes: 0 done, 1 the VIP did not move in time (or a host could not be reached), 2 bad flags.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRAIN_FILE, DRAINED_VALUE } from '../lib/load-balancer/keepalived';
import { LoadBalancerHost, Topology } from '../lib/topology';
import { integerOf, parseFlags, UsageError, userPath, valueOf } from './args';
import { siteTopology } from './site';
import { closeShared, ssh, SshOptions } from './ssh';

const USAGE = `usage: npm run drain -- LB [--undo] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE]
                        [--connect-timeout SECONDS] [--timeout SECONDS]

  LB                     the load balancer to drain (a name of loadBalancer.hosts)
  --undo                 give it its priority back (the preferred one takes the VIP back after the preempt delay)
  --config FILE          the topology that was applied (default: the one recorded in --cdktf-out by its synth;
                         given, it must be that one)
  --cdktf-out DIR        the stacks that were applied, whose topology is recorded there (default cdktf.out)
  --ssh-key PATH         the SSH private key (default: $TF_VAR_ssh_private_key_path)
  --known-hosts FILE     known_hosts to use (default ~/.ssh/known_hosts)
  --connect-timeout N    seconds to wait for each SSH connection (default 10)
  --timeout N            seconds to wait for the VIP to move (default: the preempt delay + 30)`;

/** Which load balancers hold the VIP now, by asking each (an unreachable one holds nothing we can see). */
async function holders(t: Topology, options: SshOptions): Promise<{ holding: string[]; unreachable: string[] }> {
  const vip = t.loadBalancer.vip;
  const answers = await Promise.all(t.loadBalancer.hosts.map(async (h) => ({ h, r: await ssh(options, h.sshUser, h.address, `ip -o -4 addr show dev ${h.interface}`, 30_000) })));
  return {
    holding: answers.filter(({ r }) => r.code === 0 && r.stdout.includes(` ${vip}/`)).map(({ h }) => h.name),
    unreachable: answers.filter(({ r }) => r.code !== 0).map(({ h }) => h.name),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function drain(t: Topology, lb: LoadBalancerHost, undo: boolean, options: SshOptions, timeoutSeconds: number,
  say: (line: string) => void): Promise<number> {
  const value = undo ? 0 : DRAINED_VALUE;
  const write = await ssh(options, lb.sshUser, lb.address, `${lb.sudoPrefix}sh -c 'echo ${value} > ${DRAIN_FILE}'`, 30_000);
  if (write.code !== 0) {
    say(`${lb.name}: could not write ${DRAIN_FILE}: ${write.stderr.trim() || `exit ${write.code}`}`);
    return 1;
  }
  say(`${lb.name}: ${DRAIN_FILE} = ${value}${undo ? ' (priority back to ' + lb.priority + ')' : ' (priority 1)'}`);
  const preferred = t.loadBalancer.master.name === lb.name;
  // Drained: done once a peer, and only a peer, holds the VIP. Undone: the preferred one holds it again; another one has nothing to wait for.
  const done = (holding: string[]) => (undo ? !preferred || holding.join() === lb.name : holding.length === 1 && holding[0] !== lb.name);
  const started = Date.now();
  for (let i = 0; i < timeoutSeconds * 4 + 1 && Date.now() - started <= timeoutSeconds * 1000; i++) {
    const { holding, unreachable } = await holders(t, options);
    if (done(holding)) {
      say(`${undo ? 'undrained' : 'drained'} ${lb.name} in ${((Date.now() - started) / 1000).toFixed(1)} s: the VIP ${t.loadBalancer.vip} is on ${holding.join(', ') || 'no load balancer'}`
        + (undo ? '' : `; ${lb.name}'s nginx may now be stopped`));
      return 0;
    }
    if (i === 0 && unreachable.length > 0) say(`not reachable: ${unreachable.join(', ')}`);
    await sleep(250);
  }
  const { holding } = await holders(t, options);
  say(`${lb.name}: the VIP did not move within ${timeoutSeconds} s (held by ${holding.join(', ') || 'nobody'})`
    + (undo ? '' : '; is a peer healthy? Do not stop nginx on it yet; `--undo` puts it back'));
  return 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const positional = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  let run: () => Promise<number>;
  let controlDir: string | undefined;
  try {
    const flags = parseFlags(positional === undefined ? argv : argv.slice(1),
      { values: ['--config', '--cdktf-out', '--ssh-key', '--known-hosts', '--connect-timeout', '--timeout'], switches: ['--undo'] });
    if (flags.switches.has('--help')) {
      console.log(USAGE);
      return 0;
    }
    const config = valueOf(flags, '--config');
    if (config !== undefined && !existsSync(userPath(config))) throw new UsageError(`--config: got ${config}, expected an existing file`);
    const t = siteTopology({ cdktfOut: userPath(valueOf(flags, '--cdktf-out') ?? 'cdktf.out'), configPath: config === undefined ? undefined : userPath(config) });
    const names = t.loadBalancer.hosts.map((h) => h.name);
    const lb = t.loadBalancer.hosts.find((h) => h.name === positional);
    if (!lb) throw new UsageError(`LB: got ${positional === undefined ? 'nothing' : JSON.stringify(positional)}, expected one of ${names.join(', ')}`);
    const keyFlag = valueOf(flags, '--ssh-key');
    const key = keyFlag !== undefined ? userPath(keyFlag) : process.env.TF_VAR_ssh_private_key_path;
    if (key === undefined) throw new UsageError('--ssh-key: got nothing, expected the path of the SSH private key (or TF_VAR_ssh_private_key_path)');
    if (!existsSync(key)) throw new UsageError(`--ssh-key: got ${key}, expected an existing private key file`);
    const knownHosts = valueOf(flags, '--known-hosts');
    const timeout = integerOf(flags, '--timeout', t.loadBalancer.vrrp.preemptDelaySeconds + 30, 1, 3600);
    controlDir = mkdtempSync(join(tmpdir(), 'khe-'));
    const options: SshOptions = {
      key, knownHosts: knownHosts === undefined ? undefined : userPath(knownHosts), controlDir,
      connectTimeoutSeconds: integerOf(flags, '--connect-timeout', 10, 1, 300),
    };
    run = async () => {
      const code = await drain(t, lb, flags.switches.has('--undo'), options, timeout, (line) => console.log(line));
      await Promise.all(t.loadBalancer.hosts.map((h) => closeShared(options, h.sshUser, h.address)));
      return code;
    };
  } catch (error) {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
    if (!(error instanceof UsageError) && (error as Error).constructor.name !== 'TopologyError') throw error;
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  try {
    return await run();
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
