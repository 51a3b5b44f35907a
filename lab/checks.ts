import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REMOTE_STAGING_DIR, StackName, UPLOAD_DIR } from '../lib/plan/bundle';
import { vrrpRichRules } from '../lib/load-balancer/host-policy';
import { DRAIN_FILE, LB_SYSCTL_FILE, NGINX_STATE_UNIT, NGINX_STOPPING_SCRIPT } from '../lib/load-balancer/keepalived';
import { copiedTo, copyOrigin, IN_FLIGHT_COPY_CHAIN, IN_FLIGHT_ENTRY_CHAIN, IN_FLIGHT_REARM_UNIT, IN_FLIGHT_RULES_FILE, IN_FLIGHT_SCRIPT, IN_FLIGHT_UNIT, inFlightCounters, InFlightCounters, successorOf } from '../lib/load-balancer/in-flight';
import { SSH_PORT, Topology } from '../lib/topology';
import { GATEWAY_DRAIN_FILE, TRANSITION_SCRIPT } from '../lib/gateway/pair';
import { HANDOFF_RULES_FILE, HANDOFF_SYSCTL_FILE } from '../lib/gateway/handoff';
import { hostsSh, must as mustLocal, mustOnHost, onHost, onHostAsync, sleep } from './exec';
import { applyTargets, LabProject, npmRun, NpmResult, synth, writeLabConfig } from './project';
import { MGMT_HOST } from './lab-hosts';
import { DrainRun, FailoverBar, FailoverRun, FAILOVER_GOAL, FAULT_LABELS, FaultKind, LAB_GATE, parseSamples, siteGapBound, slowRequests, summarize, VrrpKnobs, window } from './failover';

export interface CheckResult {
  readonly id: string;
  readonly name: string;
  readonly ok: boolean;
  /** Measured numbers, reported in the table and the JSON results. */
  readonly measured: Record<string, number | string>;
  readonly detail: string;
  /** Not run because something it needs failed first: reported "not run", neither passed nor failed. */
  readonly notRun?: boolean;
}

/** lab/stray-segments.py: run in the management namespace (this machine's python3), it sends the segments and times the resets. */
const STRAY_SEGMENTS = join(__dirname, 'stray-segments.py');
/** How many stray segments each in-flight check sends, and how long the copy counters must stay still after. */
const STRAYS = { count: 20, settleMs: 500, stillMs: 2000 };

/** Bounds of the failover probe: every 50 ms, at most 60 s and 1200 requests, 1 s per request. */
const PROBE = { intervalSeconds: 0.05, maxSeconds: 60, maxRequests: 1200, requestTimeoutSeconds: 1 };
const PROBE_STOP_FILE = '/run/k8s-ha-edge-lab-probe.stop';
/**
 * The long download: a 1 GiB sparse file on each stand-in, fetched at 1 MiB/s (never finishes within a
 * run). A transfer stalled for stallSeconds (under 1 KiB/s) counts as broken (curl exit 28): a
 * connection whose packets go nowhere must not pass for one that survived.
 */
const DOWNLOAD = { file: 'k8s-ha-edge-lab-long.bin', sizeMiB: 1024, nginxRate: '1m', stopFile: '/run/k8s-ha-edge-lab-download.stop', stallSeconds: 3 };

function fail(id: string, name: string, error: unknown, measured: Record<string, number | string> = {}): CheckResult {
  return { id, name, ok: false, measured, detail: (error as Error).message ?? String(error) };
}

/** Polls `predicate` every `everyMs` until it holds or `timeoutMs` passed; returns the ms it took, or undefined. */
async function waitFor(predicate: () => boolean, timeoutMs: number, everyMs = 100): Promise<number | undefined> {
  const start = Date.now();
  for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    if (predicate()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) break;
    await sleep(everyMs);
  }
  return undefined;
}

export class LabChecks {
  private t: Topology;

  constructor(private project: LabProject, private readonly log: (message: string) => void) {
    this.t = project.topology;
  }

  private get url(): string {
    return this.t.serviceUrl;
  }

  /** The VRRP knobs the failover gap depends on: the site's own, read from its topology. */
  get vrrpKnobs(): VrrpKnobs {
    const { version, advertIntervalMs } = this.t.loadBalancer.vrrp;
    return { version, advertIntervalMs, backupPriority: this.t.loadBalancer.backups[0].priority };
  }

  /** The MASTER by priority, and the BACKUP that takes over from it. */
  private get vrrpPair(): [string, string] {
    return [this.t.loadBalancer.master.name, this.t.loadBalancer.backups[0].name];
  }

  private get pages(): string[] {
    return this.t.workers.map((w) => w.page.trim());
  }

  /** Which load balancers hold the VIP now (a powered-off host holds nothing). */
  private vipHolders(): string[] {
    return this.t.loadBalancer.hosts
      .filter((h) => onHost(h.name, `ip -o -4 addr show dev ${h.interface}`, 10_000).stdout.includes(` ${this.t.loadBalancer.vip}/`))
      .map((h) => h.name);
  }

  /** `count` sequential requests from the client; returns the bodies of the successful ones and the failures. */
  private requests(count: number, timeoutSeconds = 2): { ok: string[]; failed: number; ms: number } {
    const script = [
      `for i in $(seq 1 ${count}); do`,
      `  if body=$(curl -fsS --max-time ${timeoutSeconds} ${this.url} 2>/dev/null); then echo "ok $body"; else echo fail; fi`,
      'done',
    ].join('\n');
    const result = onHost(this.t.client.name, script, (count * timeoutSeconds + 30) * 1000);
    const lines = result.stdout.split('\n').filter((l) => l === 'fail' || l.startsWith('ok '));
    if (lines.length !== count) throw new Error(`client ran ${lines.length} of ${count} requests: ${result.stderr.slice(-500)}`);
    return { ok: lines.filter((l) => l.startsWith('ok ')).map((l) => l.slice(3)), failed: lines.filter((l) => l === 'fail').length, ms: result.ms };
  }

  /** The client's request loop, in the background until `stop()` (bounded by PROBE in any case). */
  startProbe(): { stop: () => Promise<ReturnType<typeof parseSamples>> } {
    const client = this.t.client.name;
    mustOnHost(client, `rm -f ${PROBE_STOP_FILE}`);
    const script = [
      `end=$(( $(date +%s) + ${PROBE.maxSeconds} ))`,
      `for i in $(seq 1 ${PROBE.maxRequests}); do`,
      `  [ -e ${PROBE_STOP_FILE} ] && break`,
      '  [ "$(date +%s)" -ge "$end" ] && break',
      '  at=$(date +%s%3N)',
      `  if body=$(curl -fsS --max-time ${PROBE.requestTimeoutSeconds} ${this.url} 2>/dev/null); then echo "$at $(date +%s%3N) ok $body"; else code=$?; echo "$at $(date +%s%3N) fail $code"; fi`,
      `  sleep ${PROBE.intervalSeconds}`,
      'done',
    ].join('\n');
    const running = onHostAsync(client, script, (PROBE.maxSeconds + 15) * 1000);
    return {
      stop: async () => {
        onHost(client, `touch ${PROBE_STOP_FILE}`);
        const result = await running;
        onHost(client, `rm -f ${PROBE_STOP_FILE}`);
        return parseSamples(result.stdout);
      },
    };
  }

  /**
   * A long download through the VIP from the client, in the background until `stop()`: how it ended,
   * relative to the fault (`causedAt`) and the heal (`healedAt`): "survived" (still running at the end),
   * or "broken-before-heal"/"broken-after-heal" (when curl gave up, by the clock) with its exit code and the bytes it got.
   */
  private startDownload(): { stop: (causedAt: number, healedAt: number) => Promise<string> } {
    const client = this.t.client.name;
    mustOnHost(client, `rm -f ${DOWNLOAD.stopFile}`);
    const script = [
      `curl -sS -o /dev/null --speed-limit 1024 --speed-time ${DOWNLOAD.stallSeconds} --max-time ${PROBE.maxSeconds} -w '%{size_download}\\n' ${this.url}${DOWNLOAD.file} > /run/k8s-ha-edge-lab-download.out 2>&1 &`,
      'pid=$!',
      `for i in $(seq 1 ${PROBE.maxSeconds * 10}); do kill -0 $pid 2>/dev/null || break; [ -e ${DOWNLOAD.stopFile} ] && { kill $pid; echo stopped; break; }; sleep 0.1; done`,
      'wait $pid; rc=$?',
      'echo "exit=$rc end=$(date +%s%3N) $(tr "\\n" " " < /run/k8s-ha-edge-lab-download.out)"',
    ].join('\n');
    const running = onHostAsync(client, script, (PROBE.maxSeconds + 15) * 1000);
    return {
      stop: async (causedAt, healedAt) => {
        onHost(client, `touch ${DOWNLOAD.stopFile}`);
        const out = (await running).stdout;
        onHost(client, `rm -f ${DOWNLOAD.stopFile}`);
        if (/^stopped/m.test(out)) return 'survived';
        const m = /exit=(\d+) end=(\d+) (.*)/.exec(out);
        if (!m) return `unknown (${out.trim().slice(0, 80)})`;
        const end = Number(m[2]);
        const phase = end < causedAt ? 'broken-before-fault' : end < healedAt ? 'broken-before-heal' : 'broken-after-heal';
        const bytes = /(\d+)\s*$/.exec(m[3].trim())?.[1];
        return `${phase} (curl exit ${m[1]}, ${bytes ? `${(Number(bytes) / 2 ** 20).toFixed(1)} MiB` : m[3].trim().slice(0, 60)}, ${((end - causedAt) / 1000).toFixed(1)} s after the fault, heal at ${((healedAt - causedAt) / 1000).toFixed(1)} s)`;
      },
    };
  }

  /** The stand-in for kube-proxy and the Pod: nginx on each worker serving the hostPath on the NodePort. */
  private startStandIns(): void {
    for (const w of this.t.workers) {
      mustOnHost(w.name, [
        "cat > /etc/nginx/sites-enabled/default <<'EOF'",
        '# k8s-ha-edge lab stand-in for kube-proxy + the nginx Pod: serves the hostPath on the NodePort',
        // The lab's long downloads are sent at 1 MB/s by nginx itself (curl's own --limit-rate, with
        // --speed-limit, gave up after ~10 MB even on loopback: every download looked broken).
        `server { listen ${this.t.workload.nodePort}; root ${this.t.workload.hostPath}; index index.html; location ~ ^/k8s-ha-edge-lab-.*\\.bin$ { limit_rate ${DOWNLOAD.nginxRate}; } }`,
        'EOF',
        // The long download of the failover checks: sparse, so it takes no space.
        `mkdir -p ${this.t.workload.hostPath} && truncate -s ${DOWNLOAD.sizeMiB}M ${this.t.workload.hostPath}/${DOWNLOAD.file}`,
        'systemctl enable --quiet nginx',
        'systemctl restart nginx',
      ].join('\n'));
    }
  }

  /** The --firewalld variant: firewalld on every load balancer, running with its default zone, before anything is applied. */
  private startFirewalld(): number {
    const start = Date.now();
    for (const lb of this.t.loadBalancer.hosts) {
      mustOnHost(lb.name, [
        'systemctl enable --quiet --now firewalld',
        'for i in $(seq 1 100); do firewall-cmd --state >/dev/null 2>&1 && exit 0; sleep 0.2; done',
        'echo "firewalld did not start" >&2; exit 1',
      ].join('\n'), 60_000);
    }
    return Date.now() - start;
  }

  /** The shell that sets $zone to the firewalld zone of a load balancer's internal NIC, as setup-lb.sh finds it. */
  private static zoneOf(nic: string): string {
    return `zone=$(firewall-cmd --get-zone-of-interface=${nic} 2>/dev/null) || zone=$(firewall-cmd --get-default-zone)`;
  }

  /** Flags every npm run apply/verify/destroy of the lab takes: the config, the key, SSH known hosts. */
  private get keyArgs(): string[] {
    return ['--ssh-key', this.project.sshKey];
  }

  private applyArgs(...extra: string[]): string[] {
    return ['--config', this.project.configPath, ...this.keyArgs, ...applyTargets(this.t), ...extra];
  }

  /** `npm run apply -- --plan`: the changes per stack, as "stack address: actions". */
  private async planned(): Promise<{ changes: string[]; result: NpmResult }> {
    const result = await npmRun(this.project, 'apply', this.applyArgs('--plan'));
    if (result.code !== 0) throw new Error(`npm run apply -- --plan exited ${result.code}:\n${result.output.slice(-2500)}`);
    const changes: string[] = [];
    let stack = '';
    for (const line of result.stdout.split('\n')) {
      const head = /^(\S+): /.exec(line);
      if (head) stack = head[1];
      else if (line.startsWith('  ')) changes.push(`${stack} ${line.trim()}`);
    }
    return { changes, result };
  }

  /** 1. `npm run apply` of every stack (the k8s stack: the stand-ins' pages); a second plan shows no change. */
  async applyAndReapply(upMs: number, id = '1'): Promise<CheckResult> {
    const name = 'npm run apply (gateway, then lb, client, node pages); re-plan is empty';
    const measured: Record<string, number | string> = id === '1' ? { labUpMs: upMs } : {};
    try {
      if (id === '1') this.startStandIns();
      if (id === '1' && this.project.firewalld) measured.firewalldStartMs = this.startFirewalld();
      this.log('npm run apply: the gateway first (manifest.json), then lb and client side by side, the node pages after lb');
      const applied = await npmRun(this.project, 'apply', this.applyArgs('--auto-approve'));
      measured.applyMs = applied.ms;
      if (applied.code !== 0) throw new Error(`npm run apply exited ${applied.code}:\n${applied.output.slice(-3000)}`);
      // The summary table: "stack result changed time".
      const rows = applied.stdout.split('\n').filter((l) => /^\S+\s+(done|no changes|FAILED|not run)\s/.test(l));
      measured.stacks = rows.map((r) => r.split(/\s{2,}|\s(?=\d|-)/)[0]).join(',');
      measured.changed = rows.reduce((n, r) => n + (Number(/\s(\d+)\s+\d/.exec(r)?.[1]) || 0), 0);
      const order = [...applied.stderr.matchAll(/^\s+(\S+)\s+apply…/gm)].map((m) => m[1]);
      measured.firstApplied = order[0] ?? 'none';
      const { changes } = await this.planned();
      measured.changesOnReplan = changes.length;
      const settle = await waitFor(() => this.vipHolders().join() === this.vrrpPair[0], 15_000, 200);
      measured.vipSettledMs = settle ?? 'never';
      const ok = changes.length === 0 && order[0] === StackName.GATEWAY && !/FAILED|not run/.test(rows.join('\n'));
      return { id, name, measured, ok, detail: ok ? '' : `apply order ${order.join(' → ')}; changes on re-plan: ${changes.join(', ')}\n${applied.stdout.slice(-1500)}` };
    } catch (error) {
      return fail(id, name, error, measured);
    }
  }

  /** V. `npm run verify` against the lab's hosts: every check passes (the k8s ones are skipped on the stand-ins). */
  async verify(id: string, when: string): Promise<CheckResult> {
    const name = `npm run verify ${when}: every check passes`;
    try {
      // verify expects the preferred load balancer to hold the VIP; after a flap (a busy machine can
      // starve keepalived past its down interval) it takes it back once its preempt delay is over, so
      // the site is judged after its own recovery window, and the wait is reported.
      const recoveryMs = (this.t.loadBalancer.vrrp.preemptDelaySeconds + 10) * 1000;
      const vipWaitMs = await waitFor(() => this.vipHolders().join() === this.vrrpPair[0], recoveryMs, 200);
      // A gateway pair likewise: its preferred gateway holds both VIPs once its own preempt delay is over.
      const pair = this.t.gateway.pair;
      if (pair !== undefined) {
        const { inside, outside } = this.t.gateway;
        const holdsBoth = (g: string) => { const a = onHost(g, 'ip -o -4 addr show', 10_000).stdout; return a.includes(` ${inside.address}/`) && a.includes(` ${outside.address}/`); };
        await waitFor(() => holdsBoth(pair.master.name) && !holdsBoth(pair.backup.name), (pair.vrrp.preemptDelaySeconds + 10) * 1000, 200);
      }
      const result = await npmRun(this.project, 'verify', ['--config', this.project.configPath, ...this.keyArgs,
        '--known-hosts', this.project.knownHosts, '--connect-timeout', '3', '--json'], 300_000);
      const parsed = JSON.parse(result.stdout) as { summary: { passed: number; failed: number; skipped: number; notRun: number; ms: number }; checks: Array<{ host: string; check: string; result: string; detail: string }> };
      const bad = parsed.checks.filter((c) => c.result === 'FAIL' || c.result === 'not run');
      const { passed, failed, skipped, notRun, ms } = parsed.summary;
      return {
        id, name, ok: result.code === 0 && bad.length === 0,
        measured: { passed, failed, skipped, notRun, ms, vipWaitMs: vipWaitMs ?? 'never' },
        detail: bad.map((c) => `${c.host}: ${c.check}: ${c.result} ${c.detail}`).join('\n') || (result.code === 0 ? '' : result.stderr.slice(-1000)),
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /** verify's JSON report with another key or on hosts in another state. */
  private async verifyReport(key = this.project.sshKey): Promise<{ code: number | null; checks: Array<{ host: string; check: string; result: string; detail: string }> }> {
    const result = await npmRun(this.project, 'verify', ['--config', this.project.configPath, '--ssh-key', key,
      '--known-hosts', this.project.knownHosts, '--connect-timeout', '3', '--json'], 300_000);
    return { code: result.code, checks: JSON.parse(result.stdout).checks };
  }

  /**
   * T. The troubleshooting table of docs/operating.md, provoked: a wrong key, the VIP on both load balancers
   * (VRRP adverts dropped on the BACKUP), the LB port blocked on the BACKUP. Each time verify must fail,
   * and say why; afterwards everything is put back and the VIP is on the MASTER again.
   */
  async troubleshooting(id: string): Promise<CheckResult> {
    const name = 'verify names provoked failures: wrong key, VIP on both, port blocked, host down';
    const [master, backup] = this.vrrpPair;
    const port = this.t.loadBalancer.listenPort;
    const measured: Record<string, number | string> = {};
    const vrrpDrop = 'INPUT -p 112 -j DROP';
    const portBlock = `INPUT -p tcp --dport ${port} -j REJECT`;
    const said = (report: { checks: Array<{ host: string; check: string; result: string; detail: string }> }, pattern: RegExp) =>
      report.checks.find((c) => c.result === 'FAIL' && pattern.test(`${c.host}: ${c.check}: ${c.detail}`));
    try {
      const wrongKey = join(this.project.dir, 'wrong-key');
      mustLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
      const wrong = await this.verifyReport(wrongKey);
      const denied = said(wrong, /reachable.*Permission denied/);
      measured.wrongKey = denied ? `exit ${wrong.code}: ${denied.host}: ${denied.detail}` : `exit ${wrong.code}, no "Permission denied"`;

      mustOnHost(backup, `iptables -I ${vrrpDrop}`);
      const splitBrain = await waitFor(() => this.vipHolders().length === 2, 15_000, 200);
      const holdersBefore = this.vipHolders();
      const both = await this.verifyReport();
      const holdersAfter = this.vipHolders();
      mustOnHost(backup, `iptables -D ${vrrpDrop}`);
      const twoHolders = said(both, /holds the VIP.*held by .*,/);
      // When the lab failed to provoke the split brain (or it ended while verify ran), say so: verify is not at fault then.
      const provoked = splitBrain === undefined
        ? `; not provoked: the VIP on ${holdersBefore.join(', ') || 'no load balancer'} 15 s after ${backup} stopped taking VRRP`
        : holdersAfter.length < 2 ? `; the split brain ended while verify ran (VIP on ${holdersAfter.join(', ') || 'none'} after)` : '';
      measured.vipOnBoth = (twoHolders ? `exit ${both.code}: ${twoHolders.detail}` : `exit ${both.code}, no two holders named`) + (twoHolders ? '' : provoked);
      await waitFor(() => this.vipHolders().join() === master, 15_000, 200);

      mustOnHost(backup, `iptables -I ${portBlock}`);
      const blocked = await this.verifyReport();
      mustOnHost(backup, `iptables -D ${portBlock}`);
      const closed = said(blocked, new RegExp(`^${backup}: nginx answers on port ${port}`));
      measured.portBlocked = closed ? `exit ${blocked.code}: ${closed.host}: ${closed.check}: FAIL` : `exit ${blocked.code}, port not reported`;
      const back = await waitFor(() => this.vipHolders().join() === master, 15_000, 200);
      measured.vipBackOnMaster = back === undefined ? 'no' : 'yes';

      // A host down: the BACKUP shut down cleanly (the MASTER keeps serving); verify names it, then it boots again.
      const power = (args: string[], timeoutMs: number) => {
        const result = hostsSh(args, timeoutMs);
        if (result.code !== 0) throw new Error(`hosts.sh ${args.join(' ')}: ${result.stderr.slice(-500)}`);
      };
      power(['stop-host', backup], 60_000);
      const down = await this.verifyReport();
      power(['start-host', backup], 120_000);
      const unreachable = said(down, new RegExp(`^${backup}: reachable`));
      measured.hostDown = unreachable ? `exit ${down.code}: ${unreachable.host}: ${unreachable.detail}` : `exit ${down.code}, ${backup} not reported unreachable`;
      const backUp = await waitFor(() => onHost(backup, 'systemctl is-active --quiet keepalived nginx', 5_000).code === 0, 90_000, 500);
      measured.hostBackUp = backUp === undefined ? 'no' : 'yes';
      const ok = Boolean(denied && twoHolders && closed && unreachable) && wrong.code === 1 && both.code === 1 && blocked.code === 1
        && down.code === 1 && back !== undefined && backUp !== undefined;
      return { id, name, ok, measured, detail: ok ? '' : JSON.stringify(measured) };
    } catch (error) {
      onHost(backup, `iptables -D ${vrrpDrop}; iptables -D ${portBlock}`);
      measured.restored = this.restoreLoadBalancer(backup);
      return fail(id, name, error, measured);
    }
  }

  /** D. `npm run destroy`: afterwards no host serves, holds the VIP, or has a rule, a page or a file of ours. */
  async destroyLeavesNothing(id: string): Promise<CheckResult> {
    const name = 'npm run destroy: nothing of ours remains on any host';
    const measured: Record<string, number | string> = {};
    try {
      const destroyed = await npmRun(this.project, 'destroy', ['--config', this.project.configPath, ...this.keyArgs, '--auto-approve']);
      measured.destroyMs = destroyed.ms;
      if (destroyed.code !== 0) throw new Error(`npm run destroy exited ${destroyed.code}:\n${destroyed.output.slice(-3000)}`);
      const order = [...destroyed.stderr.matchAll(/^\s+(\S+)\s+destroy…/gm)].map((m) => m[1]);
      measured.lastDestroyed = order[order.length - 1] ?? 'none';
      const found: string[] = [];
      const lb = this.t.loadBalancer;
      for (const h of lb.hosts) {
        if (onHost(h.name, `timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${lb.listenPort}'`, 10_000).code === 0) found.push(`${h.name} still serves on ${lb.listenPort}`);
        const ours = [`/etc/systemd/system/${NGINX_STATE_UNIT}`, NGINX_STOPPING_SCRIPT, DRAIN_FILE, LB_SYSCTL_FILE, `/etc/systemd/system/${IN_FLIGHT_UNIT}`, `/etc/systemd/system/${IN_FLIGHT_REARM_UNIT}`, IN_FLIGHT_SCRIPT, IN_FLIGHT_RULES_FILE];
        const files = onHost(h.name, `ls /etc/keepalived/keepalived.conf /etc/nginx/nginx.conf ${ours.join(' ')} 2>/dev/null; systemctl is-active keepalived nginx`, 10_000).stdout.trim();
        if (/\/etc\/keepalived\/keepalived.conf|(^|\n)active/.test(files) || ours.some((f) => files.includes(f))) found.push(`${h.name}: ${files.replace(/\n/g, ' ')}`);
        const mangle = onHost(h.name, 'iptables-save -t mangle 2>/dev/null | grep -E "K8S_HA_EDGE" || true', 10_000).stdout.trim();
        if (mangle !== '') found.push(`${h.name} mangle rules: ${mangle.split('\n').slice(0, 2).join('; ')}`);
        if (onHost(h.name, 'ip -o -4 addr show dev lo', 10_000).stdout.includes(` ${lb.vip}/`)) found.push(`${h.name}: the VIP still on lo`);
      }
      const holders = this.vipHolders();
      if (holders.length > 0) found.push(`VIP on ${holders.join(', ')}`);
      for (const { name: gw } of this.t.gateway.hosts) {
        const rules = mustOnHost(gw, "iptables-save | grep -E '^(-A|:[A-Z]+ (DROP|REJECT))' || true").trim();
        if (rules !== '') found.push(`${gw} ruleset: ${rules.split('\n').slice(0, 3).join('; ')}`);
        if (mustOnHost(gw, 'cat /proc/sys/net/ipv4/ip_forward').trim() !== '0') found.push(`${gw} still forwards`);
        if (onHost(gw, 'systemctl is-active --quiet keepalived || systemctl is-active --quiet conntrackd', 10_000).code === 0) found.push(`${gw} still runs keepalived or conntrackd`);
        const pairFiles = onHost(gw, `ls ${[TRANSITION_SCRIPT, HANDOFF_RULES_FILE, HANDOFF_SYSCTL_FILE, GATEWAY_DRAIN_FILE].join(' ')} 2>/dev/null`, 10_000).stdout.trim();
        if (pairFiles !== '') found.push(`${gw} still has ${pairFiles.replace(/\n/g, ' ')}`);
      }
      for (const w of this.t.workers) {
        if (onHost(w.name, `test -e ${this.t.workload.hostPath}/index.html`, 10_000).code === 0) found.push(`${w.name} still has its page`);
      }
      for (const host of [...this.t.gateway.hosts.map((g) => g.name), this.t.client.name, ...lb.hosts.map((h) => h.name), ...this.t.workers.map((w) => w.name)]) {
        const left = onHost(host, `ls -A ${REMOTE_STAGING_DIR} 2>/dev/null`, 10_000).stdout.trim();
        if (left !== '') found.push(`${host}:${REMOTE_STAGING_DIR} holds ${left.replace(/\n/g, ' ')}`);
      }
      const { changes } = await this.planned();
      measured.toCreateOnPlan = changes.filter((c) => c.endsWith(': create')).length;
      measured.leftBehind = found.length;
      return {
        id, name, measured, ok: found.length === 0 && order[order.length - 1] === StackName.GATEWAY,
        detail: found.length ? found.join('\n') : `destroy order ${order.join(' → ')}`,
      };
    } catch (error) {
      return fail(id, name, error, measured);
    }
  }

  /** 2. 50 requests from the client through the gateway: all succeed, every worker's page is seen, the VIP is on the MASTER. */
  async trafficThroughGateway(): Promise<CheckResult> {
    const id = '2';
    const name = `client: 50 requests to ${this.url}`;
    try {
      const holders = this.vipHolders();
      const { ok, failed, ms } = this.requests(50);
      const seen = this.pages.filter((page) => ok.includes(page));
      const check = onHost(this.t.client.name, `bash ${REMOTE_STAGING_DIR}/${this.t.client.name}/check-service.sh 5`);
      const measured = { failed, pagesSeen: `${seen.length}/${this.pages.length}`, vipOn: holders.join(',') || 'none', ms, checkScript: check.code === 0 ? 'ok' : 'failed' };
      const [master] = this.vrrpPair;
      return {
        id, name, measured,
        ok: failed === 0 && seen.length === this.pages.length && holders.join() === master && check.code === 0,
        detail: `pages seen: ${JSON.stringify([...new Set(ok)])}; VIP on ${holders.join(',') || 'none'} (expected ${master}); check-service.sh: ${check.stdout.trim()} ${check.stderr.trim()}`,
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /** 3. SNAT is seen from outside as the gateway's address; the gateway blocks direct and other-port access. */
  async natAndFiltering(): Promise<CheckResult> {
    const id = '3';
    const name = 'SNAT seen from outside; direct and other-port access blocked';
    try {
      const client = this.t.client;
      const echoPort = 18080;
      // A responder on the client that answers with the source address it sees.
      mustOnHost(client.name, [
        "cat > /etc/nginx/sites-enabled/default <<'EOF'",
        `server { listen ${echoPort}; location / { return 200 "$remote_addr\\n"; } }`,
        'EOF',
        'systemctl restart nginx',
      ].join('\n'));
      const inside = this.t.workers[0];
      const seenAs = onHost(inside.name, `curl -fsS --max-time 3 http://${client.address}:${echoPort}/`).stdout.trim();
      const lb = this.t.loadBalancer.hosts[0];
      const direct = onHost(client.name, `curl -fsS --max-time 2 http://${lb.address}:${this.t.loadBalancer.listenPort}/`);
      const directVip = onHost(client.name, `curl -fsS --max-time 2 http://${this.t.loadBalancer.vip}:${this.t.loadBalancer.listenPort}/`);
      // sshd listens on every address of the gateway: only the filter keeps the outside away from it.
      const otherPort = onHost(client.name, `timeout 3 bash -c 'exec 3<>/dev/tcp/${this.t.gateway.outside.address}/${SSH_PORT}'`);
      mustOnHost(client.name, 'systemctl stop nginx');
      const measured = {
        insideSeenAs: seenAs || 'nothing',
        directToLb: direct.code === 0 ? 'reached' : 'blocked',
        directToVip: directVip.code === 0 ? 'reached' : 'blocked',
        outsideSsh: otherPort.code === 0 ? 'reached' : 'blocked',
      };
      return {
        id, name, measured,
        ok: seenAs === this.t.gateway.outside.address && direct.code !== 0 && directVip.code !== 0 && otherPort.code !== 0,
        detail: `expected ${inside.name} → ${client.name} to arrive from ${this.t.gateway.outside.address}, got ${JSON.stringify(seenAs)}`,
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /**
   * 3b. The gateway as the kernel has it: FORWARD drops INVALID before any ACCEPT (iptables-save), and
   * over IPv6 (link-local addresses; sshd listens on ::) the outside cannot reach SSH while the inside can.
   */
  async gatewayHardening(): Promise<CheckResult> {
    const id = '3b';
    const name = 'gateway: INVALID dropped first in FORWARD; IPv6 SSH inside only';
    try {
      // The first gateway (a pair's gateways have the same rules but for their own addresses).
      const g = this.t.gateway.hosts[0];
      const firstForward = mustOnHost(g.name, 'iptables-save -t filter').split('\n').find((l) => l.startsWith('-A FORWARD')) ?? 'none';
      const policies6 = mustOnHost(g.name, 'ip6tables-save -t filter').split('\n').filter((l) => /^:(INPUT|FORWARD) /.test(l)).map((l) => l.split(' ').slice(0, 2).join(' ')).join(',');
      const linkLocal = (host: string, nic: string) => /inet6 (fe80::[0-9a-f:]+)\//.exec(mustOnHost(host, `ip -6 -o addr show dev ${nic} scope link`))?.[1];
      const outside = linkLocal(g.name, g.outside.interface);
      const inside = linkLocal(g.name, g.inside.interface);
      if (!outside || !inside) throw new Error(`the gateway has no IPv6 link-local address (outside ${outside}, inside ${inside}): IPv6 is off in the lab's namespaces`);
      const client = this.t.client;
      const lb = this.t.loadBalancer.hosts[0];
      const tcp = (host: string, address: string, nic: string) => onHost(host, `timeout 3 bash -c 'exec 3<>/dev/tcp/${address}%${nic}/${SSH_PORT}'`).code === 0;
      // Neighbour discovery and ping pass, so a blocked SSH is the filter, not a dead IPv6.
      const clientPing6 = onHost(client.name, `ping -6 -c 1 -W 2 ${outside}%${client.interface}`).code === 0;
      const outsideSsh6 = tcp(client.name, outside, client.interface);
      const insideSsh6 = tcp(lb.name, inside, lb.interface);
      const measured = {
        firstForwardRule: firstForward,
        ip6Policies: policies6,
        clientPing6Gateway: clientPing6 ? 'answered' : 'no answer',
        outsideSsh6: outsideSsh6 ? 'reached' : 'blocked',
        insideSsh6: insideSsh6 ? 'reached' : 'blocked',
      };
      return {
        id, name, measured,
        ok: firstForward === '-A FORWARD -m conntrack --ctstate INVALID -j DROP' && policies6 === ':INPUT DROP,:FORWARD DROP' && clientPing6 && !outsideSsh6 && insideSsh6,
        detail: JSON.stringify(measured),
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /**
   * 9. The --firewalld variant. firewalld runs on the load balancers (started before the apply, so
   * the checks before this one ran through it). Then, without setup-lb.sh's openings: without the
   * LB port on the MASTER the client fails while the MASTER's check passes (no failover); without
   * VRRP on the BACKUP both hold the VIP (split brain). A re-run of setup-lb.sh heals both.
   */
  async firewalldOnLoadBalancers(): Promise<CheckResult> {
    const id = '9';
    const name = 'firewalld on the LBs: openings present; without them, refused port and split brain; in-flight rules back after its reload and a boot';
    const [masterName, backupName] = this.vrrpPair;
    const lbs = this.t.loadBalancer;
    const master = lbs.hosts.find((h) => h.name === masterName)!;
    const backup = lbs.hosts.find((h) => h.name === backupName)!;
    const port = `${lbs.listenPort}/tcp`;
    const measured: Record<string, number | string> = {};
    const rerun = (host: string) => mustOnHost(host, `bash ${REMOTE_STAGING_DIR}/${host}/setup-lb.sh`, 120_000);
    try {
      const openings = lbs.hosts.map((h) => {
        const listed = mustOnHost(h.name, `${LabChecks.zoneOf(h.interface)}; firewall-cmd --state; firewall-cmd --zone="$zone" --list-ports; firewall-cmd --zone="$zone" --list-rich-rules; firewall-cmd --permanent --zone="$zone" --list-ports; firewall-cmd --permanent --zone="$zone" --list-rich-rules`);
        const rules = vrrpRichRules(this.t, h);
        return listed.startsWith('running') && listed.split(port).length - 1 === 2 && rules.every((r) => listed.split(r).length - 1 === 2);
      });
      measured.openingsPresent = `${openings.filter(Boolean).length}/${lbs.hosts.length}`;
      measured.vipBefore = this.vipHolders().join(',');

      // Without the LB port on the MASTER: its check (loopback) still passes, so the VIP stays and clients are refused.
      mustOnHost(master.name, `${LabChecks.zoneOf(master.interface)}; firewall-cmd --zone="$zone" --remove-port=${port}`);
      const refused = this.requests(10, 1);
      measured.withoutPortFailed = `${refused.failed}/10`;
      measured.vipWithoutPort = this.vipHolders().join(',');
      rerun(master.name);
      measured.afterRerunFailed = `${this.requests(10, 1).failed}/10`;

      // Without VRRP on the BACKUP: it hears no adverts and takes the VIP too.
      const [rule] = vrrpRichRules(this.t, backup).filter((r) => r.includes(`"${master.address}"`));
      const removedAt = Date.now();
      mustOnHost(backup.name, `${LabChecks.zoneOf(backup.interface)}; firewall-cmd --zone="$zone" --remove-rich-rule='${rule}'`);
      const split = await waitFor(() => this.vipHolders().length === 2, 15_000, 200);
      measured.splitBrainMs = split === undefined ? 'never' : Date.now() - removedAt;
      const healedAt = Date.now();
      rerun(backup.name);
      const healed = await waitFor(() => this.vipHolders().join() === master.name, 15_000, 200);
      measured.healedMs = healed === undefined ? 'never' : Date.now() - healedAt;
      const after = this.requests(10, 2);
      measured.finalFailed = `${after.failed}/10`;

      // firewalld (1.3) empties every iptables table when it reloads and when it starts: in-flight
      // forwarding is armed again after a reload (its follower of firewalld) and after a boot (armed after firewalld).
      let inFlightKept = true;
      if (lbs.inFlight) {
        const hooked = (host: string) => onHost(host, `iptables -w 5 -t mangle -C PREROUTING -j ${IN_FLIGHT_ENTRY_CHAIN}`, 10_000).code === 0;
        const reloadedAt = Date.now();
        for (const h of lbs.hosts) mustOnHost(h.name, 'firewall-cmd --reload');
        measured.hookedRightAfterReload = lbs.hosts.filter((h) => hooked(h.name)).length;
        const rearmed = await waitFor(() => lbs.hosts.every((h) => hooked(h.name)), 20_000, 250);
        measured.rearmedAfterReloadMs = rearmed === undefined ? 'never' : Date.now() - reloadedAt;
        measured.holderCopiesTo = this.inFlightPeers(master.name);
        this.power(['stop-host', backup.name], 60_000);
        this.power(['start-host', backup.name], 120_000);
        const booted = await waitFor(() => onHost(backup.name, `systemctl is-active --quiet ${IN_FLIGHT_UNIT} firewalld`, 5_000).code === 0, 60_000, 500);
        measured.hookedAfterBoot = booted !== undefined && hooked(backup.name) ? 'yes' : 'no';
        inFlightKept = rearmed !== undefined && copiedTo(onHost(master.name, `iptables -w 5 -t mangle -S ${IN_FLIGHT_COPY_CHAIN}`, 10_000).stdout).includes(backup.address)
          && measured.hookedAfterBoot === 'yes';
        // The backup back in the pair before the next check.
        await waitFor(() => this.vipHolders().join() === master.name, 30_000, 500);
      }
      return {
        id, name, measured,
        ok: openings.every(Boolean) && measured.vipBefore === master.name && refused.failed === 10 && measured.vipWithoutPort === master.name
          && measured.afterRerunFailed === '0/10' && split !== undefined && healed !== undefined && after.failed === 0 && inFlightKept,
        detail: JSON.stringify(measured),
      };
    } catch (error) {
      return fail(id, name, error, measured);
    }
  }

  /** The peers a load balancer's in-flight forwarding copies segments to now (its TEE rules), or 'unarmed'. */
  private inFlightPeers(host: string): string {
    const rules = onHost(host, `iptables -w 5 -t mangle -S ${IN_FLIGHT_COPY_CHAIN}`, 10_000);
    if (rules.code !== 0) return 'unarmed';
    const peers = copiedTo(rules.stdout);
    return peers.length > 0 ? peers.join(',') : 'none';
  }

  /**
   * After a check failed half-way: a load balancer it left powered off, without nginx or keepalived is
   * brought back (bounded), so the checks after it — destroy and teardown above all — are judged on
   * their own. Says what it found and did, for the failed check's report.
   */
  private restoreLoadBalancer(host: string): string {
    if (onHost(host, 'systemctl is-active --quiet keepalived nginx', 5_000).code === 0) return `${host} up`;
    if (onHost(host, 'true', 5_000).code !== 0) {
      const started = hostsSh(['start-host', host], 120_000);
      if (started.code !== 0) return `${host} down, could not be started: ${started.stderr.slice(-300)}`;
    }
    onHost(host, 'systemctl reset-failed nginx keepalived; systemctl start nginx keepalived', 60_000);
    return onHost(host, 'systemctl is-active --quiet keepalived nginx', 5_000).code === 0 ? `${host} restored` : `${host} NOT restored`;
  }

  /** Every load balancer's in-flight counters now (iptables-save -c), by host name. */
  private inFlightCountersNow(): Map<string, InFlightCounters> {
    return new Map(this.t.loadBalancer.hosts.map((h) => [h.name, inFlightCounters(mustOnHost(h.name, 'iptables-save -c -t mangle', 10_000))]));
  }

  /**
   * The copies each load balancer sent to each peer between two readings, as "lb01→192.168.10.50": n;
   * a chain reloaded in between (a transition) restarts its counters, so a negative difference counts
   * the later reading whole.
   */
  private static copiesBetween(before: Map<string, InFlightCounters>, after: Map<string, InFlightCounters>): Record<string, number> {
    const copies: Record<string, number> = {};
    for (const [host, counters] of after) {
      for (const [peer, n] of Object.entries(counters.copiesTo)) {
        const was = before.get(host)?.copiesTo[peer] ?? 0;
        copies[`${host}→${peer}`] = n >= was ? n - was : n;
      }
    }
    return copies;
  }

  /** lab/stray-segments.py from the management namespace to VIP:port: `count` segments nobody owns, the resets timed. */
  private strays(count: number, waitSeconds: number): { sent: number; resets: number; maxResetMs: number | null; rsts: number } {
    const out = mustOnHost(MGMT_HOST, `python3 ${STRAY_SEGMENTS} ${this.t.loadBalancer.vip} ${this.t.loadBalancer.listenPort} ${count} ${waitSeconds}`, 60_000);
    return JSON.parse(out.trim().split('\n').pop()!);
  }

  /**
   * The lab's switch rewrites DSCP to 0 on every segment to the LB port that crosses it (as an
   * untrusted switch port or a cloud QoS policy does): bridged IPv4 goes through iptables in the switch
   * namespace (br_netfilter), where a mangle rule clears the DSCP. Returns the packets it rewrote so far.
   */
  private switchRewritesDscp(on: boolean): number {
    const rule = `FORWARD -p tcp --dport ${this.t.loadBalancer.listenPort} -j DSCP --set-dscp 0`;
    const result = hostsSh(['switch', on
      ? `sysctl -qw net.bridge.bridge-nf-call-iptables=1 && { iptables -w 5 -t mangle -C ${rule} 2>/dev/null || iptables -w 5 -t mangle -A ${rule}; } && iptables -w 5 -t mangle -L FORWARD -v -x -n`
      : `iptables -w 5 -t mangle -L FORWARD -v -x -n; while iptables -w 5 -t mangle -D ${rule} 2>/dev/null; do :; done; sysctl -qw net.bridge.bridge-nf-call-iptables=0`], 30_000);
    if (result.code !== 0) throw new Error(`the switch's DSCP rewrite (${on ? 'on' : 'off'}): ${result.stderr.slice(-500)}`);
    const row = result.stdout.split('\n').find((l) => / DSCP /.test(l) && l.includes('DSCP set 0x00'));
    return row ? Number(row.trim().split(/\s+/)[0]) : 0;
  }

  /**
   * Stray segments (connections nobody owns) with the switch rewriting DSCP to 0: the copies each load
   * balancer sent to each peer, and whether the counts still grew `stillMs` after (a loop would).
   */
  private async strayCopies(): Promise<{ copies: Record<string, number>; growth: Record<string, number>; resets: number; maxResetMs: number | null }> {
    const before = this.inFlightCountersNow();
    const stray = this.strays(STRAYS.count, 2);
    await sleep(STRAYS.settleMs);
    const mid = this.inFlightCountersNow();
    await sleep(STRAYS.stillMs);
    const after = this.inFlightCountersNow();
    const grew = Object.entries(LabChecks.copiesBetween(mid, after)).filter(([, n]) => n > 0);
    return { copies: LabChecks.copiesBetween(before, mid), growth: Object.fromEntries(grew), resets: stray.resets, maxResetMs: stray.maxResetMs };
  }

  /**
   * 10a. In-flight forwarding on a path that rewrites DSCP to 0: the VIP holder copies each stray
   * segment once, to the first peer of the line; every other copy goes from a load balancer to the next
   * of the line, each at most once per segment; the counts stop growing (before the MAC guard, a copy
   * whose DSCP mark was cleared was copied back and forth without end); every segment is reset.
   */
  async inFlightLoopGuard(): Promise<CheckResult> {
    const id = '10a';
    const name = 'in-flight: switch rewrites DSCP to 0; stray segments copied along the line at most once per peer, counts stop growing, each reset';
    const measured: Record<string, number | string> = {};
    try {
      const [master] = this.vrrpPair;
      this.switchRewritesDscp(true);
      const holders = this.vipHolders();
      measured.vipOn = holders.join(',') || 'none';
      const { copies, growth, resets } = await this.strayCopies();
      measured.sent = STRAYS.count;
      measured.copies = JSON.stringify(copies);
      measured.growthAfter2s = JSON.stringify(growth);
      measured.resets = resets;
      measured.dscpRewritten = this.switchRewritesDscp(true);
      const holder = this.t.loadBalancer.hosts.find((h) => h.name === master)!;
      // The edges a copy may take: the holder's to the first peer, and each load balancer's to the next of the line.
      const allowed = new Set([`${master}→${copyOrigin(this.t, holder)?.gateway}`,
        ...this.t.loadBalancer.hosts.map((h) => `${h.name}→${successorOf(this.t, h)?.address}`)]);
      const used = Object.entries(copies).filter(([, n]) => n > 0);
      return {
        id, name, measured,
        ok: holders.join() === master && (copies[`${master}→${copyOrigin(this.t, holder)?.gateway}`] ?? 0) >= 1
          && used.every(([edge, n]) => allowed.has(edge) && n <= STRAYS.count)
          && Object.keys(growth).length === 0 && measured.dscpRewritten > 0 && resets === STRAYS.count,
        detail: JSON.stringify(measured),
      };
    } catch (error) {
      return fail(id, name, error, measured);
    } finally {
      this.safely(() => this.switchRewritesDscp(false));
    }
  }

  /**
   * 10b. Split brain (VRRP from the MASTER dropped on the BACKUP: both hold the VIP and both copy), with
   * the switch rewriting DSCP to 0: a copy is recognised by the sender's MAC and only moves forward along
   * the line, never copied afresh, so each stray segment is still copied at most once along each edge
   * and the counts stop growing. Then VRRP
   * comes back and the BACKUP stops copying.
   */
  async inFlightSplitBrain(): Promise<CheckResult> {
    const id = '10b';
    const name = 'in-flight: split brain (VRRP blocked, both MASTER, DSCP rewritten): no storm; healed, only the holder copies';
    const measured: Record<string, number | string> = {};
    const [master, backup] = this.vrrpPair;
    const block = 'INPUT -p 112 -j DROP';
    let blocked = false;
    try {
      this.switchRewritesDscp(true);
      mustOnHost(backup, `iptables -w 5 -I ${block}`);
      blocked = true;
      const blockedAt = Date.now();
      const split = await waitFor(() => this.vipHolders().length === 2, 15_000, 200);
      measured.splitBrainMs = split === undefined ? 'never' : Date.now() - blockedAt;
      const copying = await waitFor(() => this.inFlightPeers(backup) !== 'none', 5_000, 100);
      measured.backupCopiesTo = this.inFlightPeers(backup);
      const { copies, growth, resets } = await this.strayCopies();
      measured.sent = STRAYS.count;
      measured.copies = JSON.stringify(copies);
      measured.growthAfter2s = JSON.stringify(growth);
      measured.resets = resets;
      mustOnHost(backup, `iptables -w 5 -D ${block}`);
      blocked = false;
      const healedAt = Date.now();
      const healed = await waitFor(() => this.vipHolders().join() === master, 20_000, 200);
      measured.healedMs = healed === undefined ? 'never' : Date.now() - healedAt;
      // The BACKUP's gratuitous ARPs of the split brain may still steer the gateway (and the management
      // namespace) to it: forget the VIP's entry there, so the next checks reach the MASTER as before.
      for (const host of [...this.t.gateway.hosts.map((g) => g.name), MGMT_HOST]) mustOnHost(host, `ip -4 neigh flush to ${this.t.loadBalancer.vip}`);
      const stopped = await waitFor(() => this.inFlightPeers(backup) === 'none', 5_000, 100);
      measured.backupCopiesAfter = this.inFlightPeers(backup);
      const perPeer = Object.values(copies);
      return {
        id, name, measured,
        ok: split !== undefined && copying !== undefined && perPeer.some((n) => n > 0) && perPeer.every((n) => n <= STRAYS.count)
          && Object.keys(growth).length === 0 && healed !== undefined && stopped !== undefined,
        detail: JSON.stringify(measured),
      };
    } catch (error) {
      return fail(id, name, error, measured);
    } finally {
      if (blocked) this.safely(() => mustOnHost(backup, `iptables -w 5 -D ${block}`));
      this.safely(() => this.switchRewritesDscp(false));
    }
  }

  /**
   * 10c. A segment of a connection nobody owns: the holder's copy travels the line of load balancers,
   * none has a socket for it, and the last one's TCP stack resets it: the client learns within 1 s
   * instead of retransmitting until its timeout, however many load balancers there are; only the last
   * resets (exactly one reset per segment: a second would come from a load balancer that might have
   * reset another's connection).
   */
  async inFlightReset(): Promise<CheckResult> {
    const id = '10c';
    const name = 'in-flight: a segment of a connection nobody owns gets a reset within 1 s';
    try {
      const count = 10;
      const stray = this.strays(count, 3);
      const measured = { sent: count, resets: stray.resets, rstsInAll: stray.rsts, maxResetMs: stray.maxResetMs ?? 'none', loadBalancers: this.t.loadBalancer.hosts.length, expected: 'exactly one reset each, within 1000 ms' };
      return {
        id, name, measured,
        ok: stray.resets === count && stray.rsts === count && stray.maxResetMs !== null && stray.maxResetMs <= 1000,
        detail: JSON.stringify(measured),
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /** Clean-up after a check: a failure is logged, not thrown (the check's own result says what went wrong). */
  private safely(action: () => unknown): void {
    try {
      action();
    } catch (error) {
      this.log(`clean-up: ${(error as Error).message.slice(0, 500)}`);
    }
  }

  /** hosts.sh power commands on a host; throws on failure. */
  private power(args: string[], timeoutMs: number): void {
    const result = hostsSh(args, timeoutMs);
    if (result.code !== 0) throw new Error(`hosts.sh ${args.join(' ')}: ${result.stderr.slice(-500)}`);
  }

  /** What takes the MASTER out for each fault kind, and what brings it back. */
  private fault(kind: FaultKind): { cause: () => void; heal: () => void } {
    const [master] = this.vrrpPair;
    switch (kind) {
      case 'nginx-dies': return {
        cause: () => { mustOnHost(master, 'systemctl kill --signal=SIGKILL nginx'); },
        heal: () => { mustOnHost(master, 'systemctl reset-failed nginx; systemctl start nginx'); },
      };
      case 'nginx-stop': return {
        cause: () => { mustOnHost(master, 'systemctl stop nginx'); },
        heal: () => { mustOnHost(master, 'systemctl start nginx'); },
      };
      case 'power-off': return { cause: () => this.power(['stop-host', master], 60_000), heal: () => this.power(['start-host', master], 120_000) };
      case 'power-loss': return { cause: () => this.power(['kill-host', master], 60_000), heal: () => this.power(['start-host', master], 120_000) };
    }
  }

  /**
   * One failover and failback of `kind`, with the client's probe and a long download through the VIP
   * running: the fault, the VIP on the BACKUP, 2 s, the MASTER healed, the VIP back, 1.5 s.
   */
  async failoverRun(kind: FaultKind): Promise<FailoverRun> {
    const [master, backup] = this.vrrpPair;
    const { cause, heal } = this.fault(kind);
    const probe = this.startProbe();
    const download = this.startDownload();
    await sleep(1000);
    const causedAt = Date.now();
    cause();
    const moved = await waitFor(() => this.vipHolders().join() === backup, 20_000);
    const vipMoveMs = moved === undefined ? 'never' as const : Date.now() - causedAt;
    await sleep(2000);
    // In-flight forwarding on the new holder: copying to the old one only while its LB port answers.
    const passesTo = this.t.loadBalancer.inFlight ? this.inFlightPeers(backup) : undefined;
    const healedAt = Date.now();
    heal();
    // The preferred load balancer takes the VIP back once its preempt delay is over (35 s is what the default 5 s delay was given).
    const returned = await waitFor(() => this.vipHolders().join() === master, 35_000 + this.t.loadBalancer.vrrp.preemptDelaySeconds * 1000, 200);
    const vipReturnMs = returned === undefined ? 'never' as const : Date.now() - healedAt;
    await sleep(1500);
    // And on the MASTER once it took the VIP back (after a reboot, say): copying to the BACKUP again.
    const passesBackTo = this.t.loadBalancer.inFlight ? this.inFlightPeers(master) : undefined;
    const samples = await probe.stop();
    const downloaded = await download.stop(causedAt, healedAt);
    const failover = window(samples, causedAt, healedAt);
    const failback = window(samples, healedAt, Infinity);
    return {
      kind, vipMoveMs, vipReturnMs, gapMs: failover.gapMs, failed: failover.failed,
      failbackGapMs: failback.gapMs, failbackFailed: failback.failed, requests: samples.length, download: downloaded,
      slow: slowRequests(samples, causedAt), healAtMs: healedAt - causedAt, inFlightPassesTo: passesTo,
      inFlightPassesBackTo: passesBackTo,
    };
  }

  /** 4x. `runs` failovers of `kind`; passes when `bar` (the goal, or the lab's gate) is met over them. */
  async failoverCheck(id: string, kind: FaultKind, runs: number, record?: (run: FailoverRun) => void, bar: FailoverBar = 'lab'): Promise<CheckResult> {
    const [master] = this.vrrpPair;
    const name = `failover x${runs}: ${master} ${FAULT_LABELS[kind].replace(/ \(.*/, '')}, then back`;
    const done: FailoverRun[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const run = await this.failoverRun(kind);
        done.push(run);
        record?.(run);
        this.log(`${kind} ${i + 1}/${runs}: gap ${run.gapMs} ms, in-flight copies to ${run.inFlightPassesTo ?? 'off'}, failed ${run.failed}, failback failed ${run.failbackFailed}, VIP moved ${run.vipMoveMs} ms, back ${run.vipReturnMs} ms (then copies to ${run.inFlightPassesBackTo ?? 'off'}), download ${run.download}; slow/failed requests ${run.slow || 'none'} (heal +${run.healAtMs})`);
        if (run.vipMoveMs === 'never' || run.vipReturnMs === 'never') break;
      }
      const bound = siteGapBound(this.vrrpKnobs);
      const s = summarize(kind, done, bar, bound);
      const measured = {
        runs: s.runs, gapMs: `${s.gap.min}/${s.gap.median}/${s.gap.p95}/${s.gap.max}`,
        // The site's own bound (median/worst), and the default knobs' goal beside it when they differ.
        gapBoundMs: `${bound.medianGapMs}/${bound.maxGapMs}${bound.extraMs > 0 ? ` (default knobs: ${FAILOVER_GOAL.medianGapMs}/${FAILOVER_GOAL.maxGapMs})` : ''}`, failed: done.map((r) => r.failed).join(','),
        failbackFailed: s.failbackFailed, vipMoveMs: done.map((r) => r.vipMoveMs).join(','), download: Object.entries(s.downloads).map(([k, v]) => `${k}:${v}`).join(','),
      };
      return { id, name, measured, ok: s.missed.length === 0 && done.length === runs, detail: s.missed.join('; ') || (done.length < runs ? 'stopped early' : '') };
    } catch (error) {
      return fail(id, name, error, { runsDone: done.length, restored: this.restoreLoadBalancer(master) });
    }
  }

  /**
   * Planned maintenance: `npm run drain -- <MASTER>` (returns once the BACKUP holds the VIP), nginx
   * stopped and started on the drained MASTER, `npm run drain -- <MASTER> --undo` (returns once it
   * holds the VIP again), with the client's probe and a long download running. No request may fail.
   */
  async drainRun(bar: FailoverBar): Promise<DrainRun> {
    const [master, backup] = this.vrrpPair;
    const args = (...extra: string[]) => [master, '--config', this.project.configPath, ...this.keyArgs, '--known-hosts', this.project.knownHosts, ...extra];
    const probe = this.startProbe();
    const download = this.startDownload();
    await sleep(1000);
    const drainedAt = Date.now();
    const drained = await npmRun(this.project, 'drain', args());
    const drainMs = Date.now() - drainedAt;
    const movedAway = this.vipHolders().join() === backup;
    const stoppedAt = Date.now();
    mustOnHost(master, 'systemctl stop nginx');
    await sleep(2000);
    const startedAt = Date.now();
    mustOnHost(master, 'systemctl start nginx');
    await sleep(500);
    const undrainedAt = Date.now();
    const undrained = await npmRun(this.project, 'drain', args('--undo'));
    const undrainMs = Date.now() - undrainedAt;
    const back = this.vipHolders().join() === master;
    await sleep(1500);
    const samples = await probe.stop();
    const downloaded = await download.stop(drainedAt, undrainedAt);
    const all = window(samples, drainedAt, Infinity);
    const ok = drained.code === 0 && undrained.code === 0 && movedAway && back && all.failed <= (bar === 'goal' ? FAILOVER_GOAL.drainFailed : LAB_GATE.drainFailedPerRun);
    if (!ok) this.log(`drain: ${drained.output.slice(-500)}\nundo: ${undrained.output.slice(-500)}`);
    const steps = `drain+0 returned+${drainMs} nginx-stop+${stoppedAt - drainedAt} nginx-start+${startedAt - drainedAt} undo+${undrainedAt - drainedAt} returned+${undrainedAt + undrainMs - drainedAt}`;
    return { drainMs, undrainMs, failed: all.failed, gapMs: all.gapMs, requests: all.requests, download: downloaded, ok, slow: slowRequests(samples, drainedAt), steps };
  }

  /** 4d. `runs` drains, each with maintenance and return: 0 failed requests. */
  async drainCheck(id: string, runs: number, record?: (run: DrainRun) => void, allRuns = false, bar: FailoverBar = 'lab'): Promise<CheckResult> {
    const [master] = this.vrrpPair;
    const name = `drain x${runs}: npm run drain -- ${master}, nginx stop/start, --undo`;
    const done: DrainRun[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const run = await this.drainRun(bar);
        done.push(run);
        record?.(run);
        this.log(`drain ${i + 1}/${runs}: failed ${run.failed}, gap ${run.gapMs} ms, drain ${run.drainMs} ms, undo ${run.undrainMs} ms, download ${run.download}; slow/failed requests ${run.slow || 'none'} (${run.steps})`);
        // In `npm run lab` the first failed drain ends the check; the benchmark (allRuns) wants every run.
        if (!run.ok && !allRuns) break;
      }
      const measured = {
        runs: done.length, failed: done.map((r) => r.failed).join(','), gapMsMax: Math.max(...done.map((r) => r.gapMs)),
        drainMs: done.map((r) => r.drainMs).join(','), undrainMs: done.map((r) => r.undrainMs).join(','), download: done.map((r) => r.download.replace(/ .*/, '')).join(','),
      };
      return { id, name, measured, ok: done.length === runs && done.every((r) => r.ok), detail: done.every((r) => r.ok) ? '' : JSON.stringify(done[done.length - 1]) };
    } catch (error) {
      return fail(id, name, error, { runsDone: done.length, restored: this.restoreLoadBalancer(master) });
    }
  }

  /**
   * Requests per second through the whole chain (client → gateway DNAT → VIP → nginx → NodePort)
   * and directly to a node's NodePort from the gateway, in the same run: `count` requests each, one
   * curl process, a new connection per request (Connection: close).
   */
  dataPlane(count = 500): { chainRps: number; directRps: number; ratio: number } {
    const node = this.t.workers[0];
    const rate = (host: string, url: string) => {
      const out = mustOnHost(host, [
        `f=$(mktemp); for i in $(seq 1 ${count}); do echo 'url = "${url}"'; done > "$f"`,
        `s=$(date +%s%N); curl -sS -f -H 'Connection: close' -K "$f" > /dev/null; rc=$?; e=$(date +%s%N); rm -f "$f"`,
        'echo "$rc $(( (e - s) / 1000000 ))"',
      ].join('\n'), 120_000).trim().split(' ');
      if (out[0] !== '0') throw new Error(`curl on ${host} exited ${out[0]}`);
      return Math.round((count / Number(out[1])) * 1000);
    };
    const chainRps = rate(this.t.client.name, this.url);
    const directRps = rate(this.t.gateway.hosts[0].name, `http://${node.address}:${this.t.workload.nodePort}/`);
    return { chainRps, directRps, ratio: Math.round((chainRps / directRps) * 100) / 100 };
  }

  /**
   * The cost of the VRRP adverts over `seconds`: CPU of keepalived's VRRP process on each load
   * balancer (utime+stime, % of one core) and the adverts received by the BACKUP (a counting
   * iptables rule in its own namespace, removed afterwards).
   */
  vrrpCost(seconds = 10): { masterCpuPct: number; backupCpuPct: number; advertsPerSecond: number } {
    const [master, backup] = this.vrrpPair;
    const ticks = (host: string) => Number(mustOnHost(host, 'p=$(pgrep -n -x keepalived); awk \'{print $14 + $15}\' /proc/$p/stat').trim());
    const rule = 'INPUT -p vrrp';
    mustOnHost(backup, `iptables -I ${rule}`);
    try {
      const packets = () => Number(mustOnHost(backup, `iptables -L INPUT -v -x -n | awk '$3 == "112" || $3 == "vrrp" {print $1; exit}'`).trim());
      const before = [ticks(master), ticks(backup), packets()];
      const start = Date.now();
      mustOnHost(backup, `sleep ${seconds}`, (seconds + 30) * 1000);
      const after = [ticks(master), ticks(backup), packets()];
      const elapsed = (Date.now() - start) / 1000;
      const hz = Number(mustOnHost(master, 'getconf CLK_TCK').trim());
      const pct = (i: number) => Math.round(((after[i] - before[i]) / hz / elapsed) * 1000) / 10;
      return { masterCpuPct: pct(0), backupCpuPct: pct(1), advertsPerSecond: Math.round(((after[2] - before[2]) / elapsed) * 10) / 10 };
    } finally {
      onHost(backup, `iptables -D ${rule}`);
    }
  }

  /** 5. A worker's server stops, then the worker silently drops packets: 100 requests each, none fails. */
  async backendLoss(): Promise<CheckResult> {
    const id = '5';
    const worker = this.t.workers[0];
    const name = `backend loss: ${worker.name} stopped, then dropping packets`;
    const nodePort = this.t.workload.nodePort;
    const dropRule = `INPUT -p tcp --dport ${nodePort} -j DROP`;
    try {
      mustOnHost(worker.name, 'systemctl stop nginx');
      const stopped = this.requests(100);
      mustOnHost(worker.name, 'systemctl start nginx');
      mustOnHost(worker.name, `iptables -I ${dropRule}`);
      const dropping = this.requests(100);
      mustOnHost(worker.name, `iptables -D ${dropRule}`);
      // nginx leaves a failed node out for the site's fail_timeout: what follows (verify asks for every
      // worker's page) is judged once that window is over.
      const recoveryWaitMs = await this.waitOutFailTimeout();
      const measured = {
        stoppedFailed: stopped.failed, stoppedMs: stopped.ms,
        droppingFailed: dropping.failed, droppingMs: dropping.ms, recoveryWaitMs,
      };
      return { id, name, measured, ok: stopped.failed === 0 && dropping.failed === 0, detail: '' };
    } catch (error) {
      onHost(worker.name, `iptables -D ${dropRule}; systemctl start nginx`);
      await this.waitOutFailTimeout();
      return fail(id, name, error);
    }
  }

  /** Sleeps through the upstream's fail_timeout (plus a second): a node nginx marked failed is tried again after it. */
  private async waitOutFailTimeout(): Promise<number> {
    const ms = (this.t.loadBalancer.upstream.failTimeoutSeconds + 1) * 1000;
    await sleep(ms);
    return ms;
  }

  /** 6. One worker's page changes in the topology: synth, npm run apply; only that host's page resource is replaced. */
  async pageChange(): Promise<CheckResult> {
    const id = '6';
    const worker = this.t.workers[this.t.workers.length - 1];
    const name = `page of ${worker.name} changed: only its resource replaced`;
    try {
      const newPage = `${worker.page} (changed by the lab)`;
      const user = JSON.parse(readFileSync(join(this.project.dir, 'user-config.json'), 'utf8'));
      const workers = this.t.workers.map((w) => ({ name: w.name, address: w.address, interface: w.interface, sshUser: w.sshUser, page: w.name === worker.name ? newPage : w.page }));
      const changed = writeLabConfig(this.project.dir, 'lab-topology-changed.yaml', { ...user, workers });
      synth({ dir: this.project.dir, configPath: changed.path });
      this.project = { ...this.project, topology: changed.topology, configPath: changed.path };
      this.t = changed.topology;

      const { changes } = await this.planned();
      const apply = await npmRun(this.project, 'apply', this.applyArgs('--auto-approve'));
      if (apply.code !== 0) throw new Error(`npm run apply exited ${apply.code}:\n${apply.output.slice(-2500)}`);
      // Round robin over every worker: ask (in tens, bounded by 5 rounds per worker) until the new page shows.
      const seenAfter: string[] = [];
      for (let i = 0; i < 5 * this.t.workers.length && !seenAfter.includes(newPage); i++) seenAfter.push(...this.requests(10).ok);
      const expected = [`k8s terraform_data.${worker.name}-page: delete+create`];
      const measured = { replaced: changes.join(',') || 'nothing', newPageSeen: seenAfter.includes(newPage) ? `after ${seenAfter.indexOf(newPage) + 1} requests` : 'no', applyMs: apply.ms };
      return {
        id, name, measured,
        ok: JSON.stringify(changes) === JSON.stringify(expected) && seenAfter.includes(newPage),
        detail: `changes: ${JSON.stringify(changes)} (expected ${JSON.stringify(expected)}); pages seen: ${JSON.stringify([...new Set(seenAfter)])}`,
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /**
   * K. The runbook's procedure on a running site: every host's `hostKey` (as the lab's known_hosts
   * holds it) added to the config, synthesized and applied. Nothing is torn down: the plan destroys
   * no `*-teardown` resource (they are updated in place), apply succeeds, and a re-plan is empty.
   */
  async hostKeysAdded(id: string): Promise<CheckResult> {
    const name = 'hostKey added to every host of the running site: nothing torn down';
    try {
      // known_hosts lines: "<name>,<address>… <type> <base64>", one per key type of each host. The
      // key terraform can check: its SSH client (Go's golang.org/x/crypto/ssh) asks for the host key
      // types in its own order, ECDSA before Ed25519, and compares what the host presents with
      // host_key alone, so a host with both keys must be given its ECDSA key.
      const preference = ['ecdsa-sha2-nistp256', 'ssh-ed25519'];
      const keys = new Map<string, string>();
      for (const line of readFileSync(this.project.knownHosts, 'utf8').split('\n')) {
        const [names, type, blob] = line.split(' ');
        const host = names?.split(',')[0];
        if (!blob || !preference.includes(type)) continue;
        const known = keys.get(host)?.split(' ')[0];
        if (known === undefined || preference.indexOf(type) < preference.indexOf(known)) keys.set(host, `${type} ${blob}`);
      }
      const keyOf = (host: string) => {
        const key = keys.get(host);
        if (!key) throw new Error(`no ${preference.join(' or ')} key of ${host} in ${this.project.knownHosts}`);
        return key;
      };
      const config = parse(readFileSync(this.project.configPath, 'utf8'));
      const t = this.t;
      config.controlPlane = { ...config.controlPlane, hostKey: keyOf(t.controlPlane.name) };
      // The lists from the topology: the file may leave them (or their section) to the defaults.
      config.workers = t.workers.map((w) => ({ name: w.name, address: w.address, interface: w.interface, sshUser: w.sshUser, page: w.page, hostKey: keyOf(w.name) }));
      config.loadBalancer = {
        ...config.loadBalancer,
        hosts: t.loadBalancer.hosts.map((h) => ({ name: h.name, address: h.address, interface: h.interface, sshUser: h.sshUser, priority: h.priority, hostKey: keyOf(h.name) })),
      };
      config.gateway = t.gateway.pair === undefined
        ? { ...config.gateway, hostKey: keyOf(t.gateway.hosts[0].name) }
        : {
          ...config.gateway,
          hosts: (config.gateway?.hosts ?? []).map((h: { name: string }) => ({ ...h, hostKey: keyOf(h.name) })),
        };
      config.client = { ...config.client, hostKey: keyOf(t.client.name) };
      const changed = writeLabConfig(this.project.dir, 'lab-topology-host-keys.yaml', config);
      synth({ dir: this.project.dir, configPath: changed.path });
      this.project = { ...this.project, topology: changed.topology, configPath: changed.path };
      this.t = changed.topology;

      const { changes } = await this.planned();
      const tornDown = changes.filter((c) => /-teardown: .*delete/.test(c));
      const apply = await npmRun(this.project, 'apply', this.applyArgs('--auto-approve'));
      if (apply.code !== 0) throw new Error(`npm run apply exited ${apply.code}:\n${apply.output.slice(-2500)}`);
      const replan = (await this.planned()).changes;
      // A bundle whose files carry the key (a worker's known_hosts) is set up again: allowed, it tears nothing down.
      const replaced = changes.filter((c) => /delete/.test(c));
      const measured = { hostKeys: keys.size, planned: changes.length, replaced: replaced.join(',') || 'nothing', teardownsDestroyed: tornDown.length, changesOnReplan: replan.length, applyMs: apply.ms };
      return {
        id, name, measured,
        ok: keys.size > 0 && tornDown.length === 0 && replan.length === 0,
        detail: `planned: ${JSON.stringify(changes)}; re-plan: ${JSON.stringify(replan)}`,
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /** 7b. The load balancer's setup script, run again, changes nothing: same files, same processes, same VIP. */
  async loadBalancerIdempotence(): Promise<CheckResult> {
    const id = '7b';
    const [master] = this.vrrpPair;
    const name = `${master} setup script re-run 2 times: nothing changes`;
    const state = () => mustOnHost(master, [
      'sha256sum /etc/nginx/nginx.conf /etc/keepalived/keepalived.conf /etc/keepalived/check_nginx.sh',
      'echo "nginx $(cat /run/nginx.pid) keepalived $(pgrep -o -x keepalived)"',
      'systemctl is-enabled nginx keepalived',
    ].join('; '));
    try {
      const before = state();
      const runs: string[] = [];
      for (let i = 0; i < 2; i++) {
        mustOnHost(master, `bash ${REMOTE_STAGING_DIR}/${master}/setup-lb.sh`, 120_000);
        runs.push(state());
      }
      const holders = this.vipHolders();
      const differing = runs.filter((r) => r !== before).length;
      return {
        id, name, measured: { runsDiffering: differing, vipOn: holders.join(',') || 'none' },
        ok: differing === 0 && holders.join() === master,
        detail: differing ? `before:\n${before}\nafter:\n${runs.find((r) => r !== before)}` : '',
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }

  /**
   * 7c. Where the bundles were staged: root-owned 0700 directories, no upload left in the SSH
   * user's home, and a staged script refuses to run once its directory is opened to others.
   */
  async stagingDirectory(): Promise<CheckResult> {
    const id = '7c';
    const [master] = this.vrrpPair;
    const name = `staging: root-owned 0700 on ${master}; the script refuses otherwise`;
    const dir = `${REMOTE_STAGING_DIR}/${master}`;
    try {
      const owners = mustOnHost(master, `stat -c '%U %a' ${REMOTE_STAGING_DIR} ${dir}`).trim().split('\n').join(',');
      const uploadLeft = onHost(master, `test -e "$HOME"/${UPLOAD_DIR}/${master}`).code === 0;
      mustOnHost(master, `chmod 0755 ${dir}`);
      const opened = onHost(master, `bash ${dir}/setup-lb.sh`, 120_000);
      mustOnHost(master, `chmod 0700 ${dir}`);
      const refused = opened.code !== 0 && opened.stderr.includes('refusing to run');
      const measured = { owners, uploadLeft: uploadLeft ? 'yes' : 'no', openedDirRun: refused ? 'refused' : `ran (exit ${opened.code})` };
      return {
        id, name, measured,
        ok: owners === 'root 700,root 700' && !uploadLeft && refused,
        detail: `${JSON.stringify(measured)} ${opened.stderr.slice(-300)}`,
      };
    } catch (error) {
      onHost(master, `chmod 0700 ${dir}`);
      return fail(id, name, error);
    }
  }

  /** 7. The gateway's firewall script, run three more times, leaves the same ruleset. */
  async firewallIdempotence(): Promise<CheckResult> {
    const id = '7';
    const gateways = this.t.gateway.hosts.map((g) => g.name);
    const name = `gateway setup script re-run 3 times on ${gateways.join(' and ')}: same IPv4 and IPv6 rulesets${this.t.gateway.pair ? ', the VIPs stay' : ''}`;
    const save = (gateway: string) => mustOnHost(gateway, "{ iptables-save; ip6tables-save; } | grep -v '^#' | sed -E 's/\\[[0-9]+:[0-9]+\\]/[0:0]/'");
    const vips = () => gateways.map((g) => `${g}:${mustOnHost(g, 'ip -o -4 addr show').split('\n').filter((l) => / (inet) /.test(l)).map((l) => l.split(/\s+/)[3]).sort().join(',')}`).join(' ');
    try {
      let differing = 0;
      let rules = 0;
      let detail = '';
      const addressesBefore = vips();
      for (const gateway of gateways) {
        const before = save(gateway);
        rules += before.split('\n').filter((l) => l.startsWith('-A')).length;
        for (let i = 0; i < 3; i++) {
          mustOnHost(gateway, `bash ${REMOTE_STAGING_DIR}/${gateway}/setup-gateway.sh`);
          const after = save(gateway);
          if (after !== before) {
            differing++;
            detail ||= `${gateway} ruleset changed:\n${after}`;
          }
        }
      }
      const addressesAfter = vips();
      const moved = addressesAfter !== addressesBefore;
      return {
        id, name, measured: { rules, runsDiffering: differing, addressesMoved: moved ? 'yes' : 'no' },
        ok: differing === 0 && rules > 0 && !moved, detail: detail || (moved ? `addresses before: ${addressesBefore}; after: ${addressesAfter}` : ''),
      };
    } catch (error) {
      return fail(id, name, error);
    }
  }
}
