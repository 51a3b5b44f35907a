/**
 * npm run drain -- HOST [--undo] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout N] [--timeout N]
 *
 * Planned maintenance of a load balancer without losing a request: the VIP moves to a peer while
 * this load balancer's nginx still serves, and drain returns only once a peer holds the VIP, so
 * nginx (or the host) may then be stopped. It writes the drain value into keepalived's track_file
 * (keepalived reads it at once, by inotify): the priority drops to 1, and a peer, which never waits
 * for a preempt delay, takes the VIP. `--undo` writes 0: the load balancer gets its priority back and,
 * if it is the preferred one, takes the VIP back after the preempt delay; undo waits for that too.
 * A gateway of a pair drains the same way: its drain file puts its VRRP instances in FAULT, so the other
 * gateway takes both VIPs (conntrackd has its connections already), and drain returns once it holds them.
 * Exit codes: 0 done, 1 the VIP did not move in time (or a host could not be reached), 2 bad flags.
 */
import { rmSync } from 'node:fs';
import { DRAIN_FILE, DRAINED_VALUE } from '../lib/load-balancer/keepalived';
import { Topology } from '../lib/topology';
import { GATEWAY_DRAIN_FILE } from '../lib/gateway/pair';
import { integerOf, parseFlags, usageExit, UsageError } from './args';
import { SITE_FLAGS_USAGE, siteOfFlags } from './site';
import { closeShared, ssh, SshOptions, sshOptionsOf } from './ssh';

const USAGE = `usage: npm run drain -- HOST [--undo] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE]
                        [--connect-timeout SECONDS] [--timeout SECONDS]

  HOST                   the load balancer to drain (a name of loadBalancer.hosts), or a gateway of a pair
                         (a name of gateway.hosts: the other gateway takes both VIPs)
  --undo                 give it back its place (the preferred one takes the VIP(s) back after the preempt delay)
${SITE_FLAGS_USAGE}
  --connect-timeout N    seconds to wait for each SSH connection (default 10)
  --timeout N            seconds to wait for the VIP to move (default: the preempt delay + 30)`;

/**
 * What drain acts on: a load balancer (the VIP moves to a peer) or a gateway of a pair (both VIPs move to
 * the other gateway). The same steps, with each tier's hosts, VIPs, drain file and preferred host.
 */
interface Drainable {
  readonly name: string;
  readonly sshUser: string;
  readonly sudoPrefix: string;
  /** Where drain reaches it over SSH: its own address. */
  readonly address: string;
  /** What it writes when draining: a value keepalived reads from the drain file. */
  readonly drainedValue: number;
  readonly drainFile: string;
  /** The tier's hosts, and the command that lists one host's addresses of the tier's VIPs. */
  readonly tier: ReadonlyArray<{ readonly name: string; readonly sshUser: string; readonly address: string; readonly addressesCommand: string }>;
  /** The VIPs a holder holds (all of them). */
  readonly vips: readonly string[];
  readonly preferred: string;
  readonly what: string;
  readonly undoneNote: string;
}

function drainableOf(t: Topology, name: string | undefined): Drainable | undefined {
  const lb = t.loadBalancer.hosts.find((h) => h.name === name);
  if (lb) {
    return {
      name: lb.name, sshUser: lb.sshUser, sudoPrefix: lb.sudoPrefix, address: lb.address, drainedValue: DRAINED_VALUE, drainFile: DRAIN_FILE,
      tier: t.loadBalancer.hosts.map((h) => ({ name: h.name, sshUser: h.sshUser, address: h.address, addressesCommand: `ip -o -4 addr show dev ${h.interface}` })),
      vips: [t.loadBalancer.vip], preferred: t.loadBalancer.master.name, what: 'load balancer',
      undoneNote: `priority back to ${lb.priority}`,
    };
  }
  const gateway = t.gateway.pair === undefined ? undefined : t.gateway.hosts.find((h) => h.name === name);
  if (gateway && t.gateway.pair) {
    return {
      name: gateway.name, sshUser: gateway.sshUser, sudoPrefix: gateway.sudoPrefix, address: gateway.inside.address,
      // Any value but 0 puts the pair's instances in FAULT (tracked with weight 0 in a sync group).
      drainedValue: 1, drainFile: GATEWAY_DRAIN_FILE,
      tier: t.gateway.hosts.map((h) => ({ name: h.name, sshUser: h.sshUser, address: h.inside.address, addressesCommand: 'ip -o -4 addr show' })),
      vips: [t.gateway.inside.address, t.gateway.outside.address], preferred: t.gateway.pair.master.name, what: 'gateway',
      undoneNote: 'out of FAULT',
    };
  }
  return undefined;
}

/** Which hosts of the tier hold every VIP now, by asking each (an unreachable one holds nothing we can see). */
async function holders(d: Drainable, options: SshOptions): Promise<{ holding: string[]; unreachable: string[] }> {
  const answers = await Promise.all(d.tier.map(async (h) => ({ h, r: await ssh(options, h.sshUser, h.address, h.addressesCommand, 30_000) })));
  return {
    holding: answers.filter(({ r }) => r.code === 0 && d.vips.every((vip) => r.stdout.includes(` ${vip}/`))).map(({ h }) => h.name),
    unreachable: answers.filter(({ r }) => r.code !== 0).map(({ h }) => h.name),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function drain(d: Drainable, undo: boolean, options: SshOptions, timeoutSeconds: number, say: (line: string) => void): Promise<number> {
  const value = undo ? 0 : d.drainedValue;
  const write = await ssh(options, d.sshUser, d.address, `${d.sudoPrefix}sh -c 'echo ${value} > ${d.drainFile}'`, 30_000);
  if (write.code !== 0) {
    say(`${d.name}: could not write ${d.drainFile}: ${write.stderr.trim() || `exit ${write.code}`}`);
    return 1;
  }
  say(`${d.name}: ${d.drainFile} = ${value}${undo ? ` (${d.undoneNote})` : (d.what === 'gateway' ? ' (FAULT: the other gateway takes both VIPs)' : ' (priority 1)')}`);
  const preferred = d.preferred === d.name;
  const vips = d.vips.join(' and ');
  // Drained: done once another host, and only it, holds the VIPs. Undone: the preferred one holds them again; another one has nothing to wait for.
  const done = (holding: string[]) => (undo ? !preferred || holding.join() === d.name : holding.length === 1 && holding[0] !== d.name);
  const started = Date.now();
  for (let i = 0; i < timeoutSeconds * 4 + 1 && Date.now() - started <= timeoutSeconds * 1000; i++) {
    const { holding, unreachable } = await holders(d, options);
    if (done(holding)) {
      say(`${undo ? 'undrained' : 'drained'} ${d.name} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${vips} on ${holding.join(', ') || `no ${d.what}`}`
        + (undo ? '' : `; ${d.name} may now be stopped`));
      return 0;
    }
    if (i === 0 && unreachable.length > 0) say(`not reachable: ${unreachable.join(', ')}`);
    await sleep(250);
  }
  const { holding } = await holders(d, options);
  say(`${d.name}: ${vips} did not move within ${timeoutSeconds} s (held by ${holding.join(', ') || 'nobody'})`
    + (undo ? '' : `; is another ${d.what} healthy? Do not stop ${d.name} yet; \`--undo\` puts it back`));
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
    const t = siteOfFlags(flags).topology;
    const names = [...t.loadBalancer.hosts.map((h) => h.name), ...(t.gateway.pair ? t.gateway.hosts.map((h) => h.name) : [])];
    const target = drainableOf(t, positional);
    if (!target) throw new UsageError(`HOST: got ${positional === undefined ? 'nothing' : JSON.stringify(positional)}, expected one of ${names.join(', ')}`);
    const options = sshOptionsOf(flags);
    controlDir = options.controlDir;
    const preemptDelay = target.what === 'gateway' ? t.gateway.pair?.vrrp.preemptDelaySeconds ?? 0 : t.loadBalancer.vrrp.preemptDelaySeconds;
    const timeout = integerOf(flags, '--timeout', preemptDelay + 30, 1, 3600);
    run = async () => {
      const code = await drain(target, flags.switches.has('--undo'), options, timeout, (line) => console.log(line));
      await Promise.all(target.tier.map((h) => closeShared(options, h.sshUser, h.address)));
      return code;
    };
  } catch (error) {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
    return usageExit(error);
  }
  try {
    return await run();
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
