/**
 * npm run verify: read-only checks over SSH that the deployed site works as the topology says.
 * Prints a table (host, check, result, detail), or JSON with --json; exits 1 when any check failed,
 * 2 on bad flags. A warning (a clock not synchronised, a certificate with less than 30 days left) is
 * reported and counted, and does not fail. A check that cannot be made where it is asked (no kubectl on the master) is
 * "skipped: not checked", never a pass; checks on a host that cannot be reached are "not run".
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles } from '../lib/kernel/files';
import { Topology } from '../lib/topology';
import { copiedTo, IN_FLIGHT_CHAIN, IN_FLIGHT_COPY_CHAIN, IN_FLIGHT_ENTRY_CHAIN, IN_FLIGHT_REARM_UNIT } from '../lib/load-balancer/in-flight';
import { parseFlags, usageExit } from './args';
import { describeDifference, rulesetDifferences } from './ruleset';
import { parseIptablesSave } from '../lib/formats/iptables-save';
import { Ruleset } from '../lib/formats/ruleset';
import { siteOfFlags } from './site';
import { closeShared, ssh, SshOptions, sshOptionsOf } from './ssh';
import { eachAtMost } from './each-at-most';
import { CONNTRACKD_CONFIG, GATEWAY_STATE_FILE } from '../lib/gateway/pair';
import { HANDOFF_ENTRY_CHAIN, HANDOFF_FROM_PEER_CHAIN } from '../lib/gateway/handoff';
import { unsyncedFlows } from '../lib/gateway/conntrack-flows';
import { nodesOf } from '../lib/kubernetes/node-list';
import { CERTIFICATES_COMMAND, certificatesVerdict, CLOCK_COMMAND, clockVerdict, FAIL_DAYS, readyNodes, unknownNodesVerdict, WARN_DAYS } from './health';

/**
 * How many hosts verify opens SSH sessions to at once. Opening them all at once (25 handshakes in the
 * lab's 20-worker site) starved the load balancers' keepalived on a 2-core machine long enough for a
 * VRRP flap at 100 ms adverts: verify must not disturb the site it reads.
 */
const SSH_SESSIONS_AT_ONCE = 6;

const USAGE = `usage: npm run verify -- [--config FILE] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout SECONDS]
                          [--cdktf-out DIR] [--json]

  --config FILE          the topology that was applied (default: the one recorded in --cdktf-out by its synth;
                         given, it must be that one)
  --ssh-key PATH         the SSH private key (default: $TF_VAR_ssh_private_key_path)
  --known-hosts FILE     known_hosts to use (default ~/.ssh/known_hosts; new hosts are added, changed keys refused)
  --connect-timeout N    seconds to wait for each SSH connection (default 10)
  --cdktf-out DIR        the stacks that were applied: their topology and the gateway's ruleset (default cdktf.out)
  --json                 print the results as JSON`;

/** `warn`: reported, and counted, but verify still exits 0 (a clock still synchronising, a certificate with weeks left). */
export type Result = 'pass' | 'warn' | 'FAIL' | 'skipped' | 'not run';

export interface CheckRow {
  readonly host: string;
  readonly check: string;
  readonly result: Result;
  readonly detail: string;
}

interface Host {
  readonly name: string;
  readonly address: string;
  readonly user: string;
  readonly sudo: string;
}

class Verifier {
  readonly rows: CheckRow[] = [];
  private readonly unreachable = new Set<string>();

  constructor(private readonly t: Topology, private readonly sshOptions: SshOptions, private readonly cdktfOut: string) {}

  private add(host: string, check: string, result: Result, detail = ''): void {
    this.rows.push({ host, check, result, detail });
  }

  private on(host: Host, command: string, timeoutMs = 30_000) {
    return ssh(this.sshOptions, host.user, host.address, command, timeoutMs);
  }

  private hosts(): { gateways: Host[]; lbs: Host[]; master: Host; workers: Host[]; client: Host } {
    const h = (x: { name: string; sshUser: string; sudoPrefix: string }, address: string): Host => ({ name: x.name, address, user: x.sshUser, sudo: x.sudoPrefix });
    return {
      // Each gateway on its own inside address: the VIP of a pair would reach whichever holds it.
      gateways: this.t.gateway.hosts.map((g) => h(g, g.inside.address)),
      lbs: this.t.loadBalancer.hosts.map((lb) => h(lb, lb.address)),
      master: h(this.t.controlPlane, this.t.controlPlane.address),
      workers: this.t.workers.map((w) => h(w, w.address)),
      client: h(this.t.client, this.t.client.address),
    };
  }

  async run(): Promise<void> {
    const hosts = this.hosts();
    const all = [...hosts.gateways, ...hosts.lbs, hosts.master, ...hosts.workers, hosts.client];
    // 1. Every host answers over SSH, and root commands work (sudo -n for a non-root user).
    await eachAtMost(SSH_SESSIONS_AT_ONCE, all, async (host) => {
      const r = await this.on(host, `${host.sudo}true`, (this.sshOptions.connectTimeoutSeconds + 20) * 1000);
      if (r.code === 0) this.add(host.name, 'reachable over SSH (root commands work)', 'pass', `${host.user}@${host.address}`);
      else {
        this.unreachable.add(host.name);
        this.add(host.name, 'reachable over SSH (root commands work)', 'FAIL', `${host.user}@${host.address}: ${(r.stderr.trim() || `exit ${r.code}`).split('\n').pop()}`);
      }
    });
    await this.clocks(all);
    await Promise.all([
      ...hosts.gateways.map((gateway) => this.gateway(gateway)), this.gatewayPair(hosts.gateways),
      this.loadBalancers(hosts.lbs), this.kubernetes(hosts.master, hosts.workers), this.certificates(hosts.master),
    ]);
    await this.client(hosts.client);
    await Promise.all(all.map((host) => closeShared(this.sshOptions, host.user, host.address)));
  }

  /** Every host's clock synchronised: tokens, certificates and etcd depend on agreeing clocks. Not synchronised is a warning. */
  private async clocks(all: readonly Host[]): Promise<void> {
    const check = 'clock synchronised (NTP)';
    await eachAtMost(SSH_SESSIONS_AT_ONCE, all, (host) => this.reached(host, [check], async () => {
      const { result, detail } = clockVerdict((await this.on(host, CLOCK_COMMAND)).stdout);
      this.add(host.name, check, result, detail);
    }));
  }

  /** The control plane's certificates (kubeadm's own report): a warning within 30 days of expiry, a failure within 7. */
  private async certificates(master: Host): Promise<void> {
    const check = `certificates: none expires within ${WARN_DAYS} days (fails within ${FAIL_DAYS})`;
    await this.reached(master, [check], async () => {
      if ((await this.on(master, 'command -v kubeadm')).code !== 0) return this.add(master.name, check, 'skipped', 'not checked: no kubeadm on this host');
      const report = await this.on(master, `${master.sudo}${CERTIFICATES_COMMAND}`, 60_000);
      if (report.code !== 0) return this.add(master.name, check, 'FAIL', `kubeadm certs check-expiration: ${report.stderr.trim().split('\n').pop() || `exit ${report.code}`}`);
      const { result, detail } = certificatesVerdict(report.stdout);
      this.add(master.name, check, result, detail);
    });
  }

  /** Runs `body` when the host was reached; otherwise records the checks as not run. */
  private async reached(host: Host, checks: readonly string[], body: () => Promise<void>): Promise<void> {
    if (this.unreachable.has(host.name)) {
      for (const check of checks) this.add(host.name, check, 'not run', 'host not reachable');
      return;
    }
    await body();
  }

  /** The ruleset synthesized for a gateway: firewall.rules in its bundle's assets (assets/<name>/). */
  private generatedRuleset(gateway: string): string | undefined {
    const stackDir = join(this.cdktfOut, 'stacks', 'gateway');
    if (!existsSync(stackDir)) return undefined;
    const file = listFiles(stackDir).find((f) => f === `assets/${gateway}/firewall.rules`);
    return file && readFileSync(join(stackDir, file), 'utf8');
  }

  /**
   * The host's iptables-save and the generated file, both read into the Ruleset model and compared as
   * models in the tables the file names; a failure names each difference (a rule by its chain and place).
   */
  private compareRuleset(host: string, check: string, generated: string, saved: string): void {
    let want: Ruleset;
    let got: Ruleset;
    try {
      want = parseIptablesSave(generated);
    } catch (error) {
      return this.add(host, check, 'FAIL', `the generated ruleset cannot be read: ${(error as Error).message}`);
    }
    const tables = want.tables.map((t) => t.name);
    try {
      got = parseIptablesSave(saved, new Set(tables));
    } catch (error) {
      return this.add(host, check, 'FAIL', `iptables-save, a rule the generated ruleset could not have: ${(error as Error).message}`);
    }
    const differences = rulesetDifferences(want, got);
    const rules = want.tables.flatMap((t) => t.chains).reduce((n, c) => n + c.rules.length, 0);
    if (differences.length === 0) this.add(host, check, 'pass', `${rules} rules in ${tables.join(', ')}`);
    else this.add(host, check, 'FAIL', `${differences.slice(0, 5).map(describeDifference).join('; ')}${differences.length > 5 ? `; and ${differences.length - 5} more` : ''}`);
  }

  private async gateway(gw: Host): Promise<void> {
    const checks = ['ruleset equals the generated one (counters stripped)', 'IPv4 forwarding on'];
    await this.reached(gw, checks, async () => {
      const generated = this.generatedRuleset(gw.name);
      const saved = await this.on(gw, `${gw.sudo}iptables-save`);
      if (generated === undefined) this.add(gw.name, checks[0], 'FAIL', `no assets/${gw.name}/firewall.rules under ${this.cdktfOut}/stacks/gateway: synthesize first`);
      else if (saved.code !== 0) this.add(gw.name, checks[0], 'FAIL', `iptables-save: ${saved.stderr.trim()}`);
      else this.compareRuleset(gw.name, checks[0], generated, saved.stdout);
      const forward = await this.on(gw, 'cat /proc/sys/net/ipv4/ip_forward');
      this.add(gw.name, checks[1], forward.stdout.trim() === '1' ? 'pass' : 'FAIL', `net.ipv4.ip_forward = ${forward.stdout.trim() || '?'}`);
    });
  }

  /**
   * A gateway pair: both run keepalived and conntrackd, exactly one holds both VIPs (the preferred one),
   * each gateway's transition script reached the state its VIPs say, and the BACKUP's copy of the
   * connection table holds every lasting established connection the MASTER forwards.
   */
  private async gatewayPair(gateways: readonly Host[]): Promise<void> {
    const pair = this.t.gateway.pair;
    if (pair === undefined) return;
    const inside = this.t.gateway.inside.address;
    const outside = this.t.gateway.outside.address;
    const holders: string[] = [];
    const serviceCheck = 'keepalived and conntrackd active, transitions done';
    const handoffCheck = "handoff armed: what only the peer knows goes to it (the peer's MAC learned)";
    await Promise.all(gateways.map((host) => this.reached(host, [serviceCheck, handoffCheck], async () => {
      const spec = this.t.gateway.hosts.find((h) => h.name === host.name)!;
      const [active, insideAddrs, outsideAddrs, state, hooked, fromPeer] = await Promise.all([
        this.on(host, 'systemctl is-active keepalived conntrackd'),
        this.on(host, `ip -o -4 addr show dev ${spec.inside.interface}`),
        this.on(host, `ip -o -4 addr show dev ${spec.outside.interface}`),
        this.on(host, `cat ${GATEWAY_STATE_FILE} 2>/dev/null`),
        this.on(host, `${host.sudo}iptables -w 5 -t mangle -C PREROUTING -j ${HANDOFF_ENTRY_CHAIN}`),
        this.on(host, `${host.sudo}iptables -w 5 -t mangle -S ${HANDOFF_FROM_PEER_CHAIN}`),
      ]);
      const learned = /--mac-source (\S+)/.exec(fromPeer.stdout)?.[1];
      const armed = hooked.code === 0 && learned !== undefined;
      this.add(host.name, handoffCheck, armed ? 'pass' : 'FAIL', hooked.code !== 0
        ? `${HANDOFF_ENTRY_CHAIN} not hooked into the mangle table's PREROUTING`
        : learned === undefined ? "the peer's MAC address is not learned yet: nothing is handed off" : `to the peer, from ${learned} never handed back`);
      const holdsInside = insideAddrs.stdout.includes(` ${inside}/`);
      const holdsOutside = outsideAddrs.stdout.includes(` ${outside}/`);
      if (holdsInside && holdsOutside) holders.push(host.name);
      const services = active.stdout.trim().split('\n');
      const expected = holdsInside && holdsOutside ? 'MASTER' : 'BACKUP';
      const reached = state.stdout.trim() || 'none';
      const ok = services.every((x) => x === 'active') && services.length === 2 && holdsInside === holdsOutside && reached === expected;
      this.add(host.name, serviceCheck, ok ? 'pass' : 'FAIL',
        `keepalived ${services[0] ?? '?'}, conntrackd ${services[1] ?? '?'}; VIPs held: ${[holdsInside && 'inside', holdsOutside && 'outside'].filter(Boolean).join(', ') || 'none'}; `
        + `last transition ${reached}, expected ${expected}`);
    })));
    const reachable = gateways.filter((h) => !this.unreachable.has(h.name));
    const vipCheck = `exactly one holds both VIPs ${inside} and ${outside}`;
    const syncCheck = "conntrackd in sync: the BACKUP's copy holds the MASTER's established connections";
    if (reachable.length < gateways.length) {
      this.add('gateways', vipCheck, 'not run', 'a gateway is not reachable');
      this.add('gateways', syncCheck, 'not run', 'a gateway is not reachable');
      return;
    }
    this.add('gateways', vipCheck, holders.length === 1 && holders[0] === pair.master.name ? 'pass' : 'FAIL',
      `held by ${holders.sort().join(', ') || 'none'}; expected ${pair.master.name} (the higher priority)`);
    if (holders.length !== 1) return this.add('gateways', syncCheck, 'not run', 'no single MASTER to compare with');
    const master = gateways.find((h) => h.name === holders[0])!;
    const backup = gateways.find((h) => h.name !== holders[0])!;
    const before = await this.on(master, `${master.sudo}conntrackd -C ${CONNTRACKD_CONFIG} -i`);
    const copy = await this.on(backup, `${backup.sudo}conntrackd -C ${CONNTRACKD_CONFIG} -e`);
    const after = await this.on(master, `${master.sudo}conntrackd -C ${CONNTRACKD_CONFIG} -i`);
    if (before.code !== 0 || copy.code !== 0 || after.code !== 0) {
      return this.add('gateways', syncCheck, 'FAIL', `conntrackd did not answer: ${[before, copy, after].map((r) => r.stderr.trim()).filter(Boolean)[0] ?? 'exit status not 0'}`);
    }
    const { lasting, missing } = unsyncedFlows(before.stdout, copy.stdout, after.stdout);
    this.add('gateways', syncCheck, missing.length === 0 ? 'pass' : 'FAIL',
      `${lasting - missing.length}/${lasting} established connections of ${master.name} on ${backup.name}${missing.length ? `; missing ${missing.slice(0, 3).join(', ')}` : ''}`);
  }

  private async loadBalancers(lbs: readonly Host[]): Promise<void> {
    const lb = this.t.loadBalancer;
    const port = lb.listenPort;
    const holders: string[] = [];
    const states = new Map<string, string>();
    await Promise.all(lbs.map((host) => {
      const spec = lb.hosts.find((h) => h.name === host.name)!;
      const checks = ['nginx -t', `nginx answers on port ${port}`, 'keepalived active, in its expected state', 'in-flight forwarding armed (rules hooked, VIP on lo, armed again after firewalld reloads)'];
      return this.reached(host, checks, async () => {
        const test = await this.on(host, `${host.sudo}nginx -t`);
        const answers = await this.on(host, `timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}'`);
        const vip = await this.on(host, `ip -o -4 addr show dev ${spec.interface}`);
        const active = await this.on(host, 'systemctl is-active keepalived');
        const journal = await this.on(host, `${host.sudo}journalctl -u keepalived --no-pager -o cat -n 1000 2>/dev/null | grep -oE 'Entering (MASTER|BACKUP|FAULT) STATE' | tail -n 1`);
        this.add(host.name, checks[0], test.code === 0 ? 'pass' : 'FAIL', test.code === 0 ? '' : test.stderr.trim().split('\n').slice(-2).join(' '));
        this.add(host.name, checks[1], answers.code === 0 ? 'pass' : 'FAIL', answers.code === 0 ? '' : 'connection refused or timed out');
        if (vip.stdout.includes(` ${lb.vip}/`)) holders.push(host.name);
        const expected = host.name === lb.master.name ? 'MASTER' : 'BACKUP';
        const state = /(MASTER|BACKUP|FAULT)/.exec(journal.stdout)?.[1];
        states.set(host.name, state ?? 'unknown');
        const isActive = active.stdout.trim() === 'active';
        this.add(host.name, checks[2], isActive && (state === undefined || state === expected) ? 'pass' : 'FAIL',
          `${active.stdout.trim() || 'inactive'}, ${state ?? 'state not in the journal'}; expected active, ${expected}`);
        if (!this.t.loadBalancer.inFlight) return this.add(host.name, checks[3], 'skipped', 'loadBalancer.forwardInFlight is off (or there is no peer)');
        const hooked = await this.on(host, `${host.sudo}iptables -w 5 -t mangle -C PREROUTING -j ${IN_FLIGHT_ENTRY_CHAIN}`);
        const rules = await this.on(host, `${host.sudo}iptables -w 5 -t mangle -S ${IN_FLIGHT_CHAIN}`);
        const copy = await this.on(host, `${host.sudo}iptables -w 5 -t mangle -S ${IN_FLIGHT_COPY_CHAIN}`);
        const onLo = (await this.on(host, 'ip -o -4 addr show dev lo')).stdout.includes(` ${lb.vip}/32 `);
        // Its follower of firewalld: without it, a firewall-cmd --reload leaves the forwarding off until the next move.
        const follower = (await this.on(host, `systemctl is-active ${IN_FLIGHT_REARM_UNIT}`)).stdout.trim() || 'inactive';
        const copiesTo = copiedTo(copy.stdout);
        // Only the VIP holder copies: a load balancer on standby with copy rules is what let copies loop.
        const holds = vip.stdout.includes(` ${lb.vip}/`);
        const copying = holds ? `copies to ${copiesTo.join(', ') || 'no peer (none answered when it became MASTER)'}` : (copiesTo.length > 0 ? `copies to ${copiesTo.join(', ')} without holding the VIP` : 'copies nothing (not the holder)');
        this.add(host.name, checks[3], hooked.code === 0 && rules.code === 0 && copy.code === 0 && onLo && (holds || copiesTo.length === 0) && follower === 'active' ? 'pass' : 'FAIL',
          `${hooked.code === 0 ? 'hooked' : 'not hooked'}, ${onLo ? 'VIP on lo' : 'VIP not on lo'}, ${copying}, ${IN_FLIGHT_REARM_UNIT} ${follower}`);
      });
    }));
    const reached = lbs.filter((h) => !this.unreachable.has(h.name));
    if (reached.length === 0) return this.add('load balancers', `exactly one holds the VIP ${lb.vip}`, 'not run', 'no load balancer reachable');
    const ok = holders.length === 1 && holders[0] === lb.master.name;
    this.add('load balancers', `exactly one holds the VIP ${lb.vip}`, ok ? 'pass' : 'FAIL',
      `held by ${holders.sort().join(', ') || 'none'}; expected ${lb.master.name} (the highest priority)`);
  }

  private async kubernetes(master: Host, workers: readonly Host[]): Promise<void> {
    const nodes = [master.name, ...workers.map((w) => w.name)];
    const checks = [`nodes Ready (${nodes.join(', ')})`, 'no Nodes the topology does not have', 'Pods Running, one on each worker'];
    await this.reached(master, checks, async () => {
      const has = await this.on(master, 'command -v kubectl');
      if (has.code !== 0) {
        for (const check of checks) this.add(master.name, check, 'skipped', 'not checked: no kubectl on this host');
        return;
      }
      const kubectl = `${master.sudo}kubectl --kubeconfig /etc/kubernetes/admin.conf`;
      const got = await this.on(master, `${kubectl} get nodes -o json`);
      const nodeItems = got.code === 0 ? nodesOf(got.stdout) : undefined;
      if (nodeItems === undefined) {
        const why = got.code !== 0 ? got.stderr.trim().split('\n').pop() ?? '' : 'kubectl get nodes -o json printed no list of Nodes';
        for (const check of checks.slice(0, 2)) this.add(master.name, check, 'FAIL', why);
      } else {
        const ready = readyNodes(nodeItems);
        const notReady = nodes.filter((n) => !ready.has(n));
        this.add(master.name, checks[0], notReady.length === 0 ? 'pass' : 'FAIL', notReady.length === 0 ? `${nodes.length} Ready` : `not Ready: ${notReady.join(', ')}`);
        const { result, detail } = unknownNodesVerdict(nodeItems, nodes);
        this.add(master.name, checks[1], result, detail);
      }
      const w = this.t.workload;
      const pods = await this.on(master, `${kubectl} get pods -n ${w.namespace} -l app=${w.appLabel} -o json`);
      if (pods.code !== 0) return this.add(master.name, checks[2], 'FAIL', pods.stderr.trim().split('\n').pop() ?? '');
      const items = (JSON.parse(pods.stdout) as { items?: Array<{ metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string } }> }).items ?? [];
      const wrong = workers.map((wk) => ({ wk, pod: items.find((p) => p.metadata.name === `${w.name}-${wk.name}`) }))
        .filter(({ wk, pod }) => !pod || pod.status.phase !== 'Running' || pod.spec.nodeName !== wk.name)
        .map(({ wk, pod }) => `${w.name}-${wk.name}: ${pod ? `${pod.status.phase} on ${pod.spec.nodeName ?? 'no node'}` : 'missing'}`);
      this.add(master.name, checks[2], wrong.length === 0 ? 'pass' : 'FAIL', wrong.join('; '));
    });
    await eachAtMost(SSH_SESSIONS_AT_ONCE, workers, (host) => {
      const worker = this.t.workers.find((x) => x.name === host.name)!;
      const pageCheck = `page in ${this.t.workload.hostPath}/index.html`;
      return this.reached(host, [pageCheck, 'kubelet active'], async () => {
        const [page, kubelet] = await Promise.all([
          this.on(host, `cat ${this.t.workload.hostPath}/index.html`),
          this.on(host, 'command -v kubelet >/dev/null && systemctl is-active kubelet'),
        ]);
        const ok = page.code === 0 && page.stdout.trim() === worker.page.trim();
        this.add(host.name, pageCheck, ok ? 'pass' : 'FAIL', ok ? '' : `got ${JSON.stringify(page.stdout.trim().slice(0, 60))}, expected ${JSON.stringify(worker.page.trim())}`);
        if (kubelet.code === 0) this.add(host.name, 'kubelet active', 'pass');
        else {
          const installed = await this.on(host, 'command -v kubelet');
          this.add(host.name, 'kubelet active', installed.code === 0 ? 'FAIL' : 'skipped', installed.code === 0 ? kubelet.stdout.trim() : 'not checked: no kubelet on this host');
        }
      });
    });
  }

  private async client(client: Host): Promise<void> {
    const url = this.t.serviceUrl;
    const count = Math.max(20, this.t.workers.length * 10);
    const check = `${url} answers ${count} times, every worker's page seen`;
    await this.reached(client, [check], async () => {
      const script = `for i in $(seq 1 ${count}); do if body=$(curl -fsS --max-time 3 ${url} 2>/dev/null); then echo "ok $body"; else echo fail; fi; done`;
      const r = await this.on(client, script, (count * 3 + 30) * 1000);
      const lines = r.stdout.split('\n').filter((l) => l === 'fail' || l.startsWith('ok '));
      const bodies = lines.filter((l) => l.startsWith('ok ')).map((l) => l.slice(3).trim());
      const failed = count - bodies.length;
      const missing = this.t.workers.filter((w) => !bodies.includes(w.page.trim())).map((w) => w.name);
      this.add(client.name, check, failed === 0 && missing.length === 0 ? 'pass' : 'FAIL',
        `${bodies.length}/${count} answered; pages seen ${this.t.workers.length - missing.length}/${this.t.workers.length}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`);
    });
  }
}

function printTable(rows: readonly CheckRow[]): void {
  const hostWidth = Math.max(4, ...rows.map((r) => r.host.length));
  const checkWidth = Math.max(5, ...rows.map((r) => r.check.length));
  console.log(`${'host'.padEnd(hostWidth)}  ${'check'.padEnd(checkWidth)}  ${'result'.padEnd(7)}  detail`);
  for (const r of rows) console.log(`${r.host.padEnd(hostWidth)}  ${r.check.padEnd(checkWidth)}  ${r.result.padEnd(7)}  ${r.detail}`);
}

async function main(argv: readonly string[]): Promise<number> {
  let verifier: Verifier;
  let json: boolean;
  let controlDir: string | undefined;
  try {
    const flags = parseFlags(argv, { values: ['--config', '--ssh-key', '--known-hosts', '--connect-timeout', '--cdktf-out'], switches: ['--json'] });
    if (flags.switches.has('--help')) {
      console.log(USAGE);
      return 0;
    }
    json = flags.switches.has('--json');
    const { topology, cdktfOut } = siteOfFlags(flags);
    const options = sshOptionsOf(flags);
    controlDir = options.controlDir;
    verifier = new Verifier(topology, options, cdktfOut);
  } catch (error) {
    return usageExit(error);
  }
  const started = Date.now();
  try {
    await verifier.run();
  } finally {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  }
  const rows = verifier.rows;
  const count = (r: Result) => rows.filter((x) => x.result === r).length;
  const summary = { passed: count('pass'), warned: count('warn'), failed: count('FAIL'), skipped: count('skipped'), notRun: count('not run'), ms: Date.now() - started };
  if (json) console.log(JSON.stringify({ summary, checks: rows }, null, 2));
  else {
    printTable(rows);
    console.log(`\nverify: ${summary.passed} passed, ${summary.warned} warned, ${summary.failed} failed, ${summary.skipped} skipped (not checked), ${summary.notRun} not run, in ${(summary.ms / 1000).toFixed(1)} s`);
    const warned = rows.filter((r) => r.result === 'warn');
    if (warned.length > 0) console.log(`warnings (not failures): ${warned.map((r) => `${r.host}: ${r.check}`).join('; ')}`);
  }
  return summary.failed + summary.notRun === 0 ? 0 : 1;
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
