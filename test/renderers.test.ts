import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { BUNDLED_FLANNEL_MANIFEST } from '../lib/kubernetes/flannel';
import { argsOf, block, ConfFile, directive, directiveAt, directivesNamed, printKeepalivedConf, printNginxConf, quoted } from '../lib/formats/directive-tree';
import { gatewayRuleset, gatewayRuleset6 } from '../lib/gateway/firewall';
import { emptiedRuleset } from '../lib/gateway/teardown-gateway';
import { DRAIN_FILE, DRAINED_VALUE, keepalivedConf, NGINX_STATE_FILE, NGINX_STOPPING_SCRIPT, renderNginxStateUnit, renderNginxStopping } from '../lib/load-balancer/keepalived';
import { API_UPSTREAM, nginxConf, upstreamName } from '../lib/load-balancer/nginx';
import { DEBIAN_PROFILE, NginxProfile, osProfile, RHEL_PROFILE } from '../lib/os-profiles';
import { chainOf, printIptablesRestore } from '../lib/formats/ruleset';
import { LoadBalancerHost, OsFamily, topologyWarnings } from '../lib/topology';
import { CUSTOM_CONFIG, fileOf, paramsOf, renderFixture } from './render-fixture';

type Fixture = ReturnType<typeof renderFixture>;

// The default topology on rhel hosts (the default family is debian, the one the lab proves).
const seed = renderFixture({ overrides: { hostDefaults: { osFamily: 'rhel' } } });
const seedDebian = renderFixture({ overrides: { hostDefaults: { osFamily: 'debian' } } });
const custom = renderFixture({ configPath: CUSTOM_CONFIG });

describe('gateway firewall', () => {
  const ruleset = gatewayRuleset(seed.topology);
  const rulesOf = (table: 'nat' | 'filter', chain: string) => chainOf(ruleset, table, chain)!.rules;

  test('the model is what firewall.rules holds', () => {
    expect(printIptablesRestore(ruleset)).toBe(fileOf(seed.bundles, 'gateway', 'firewall.rules'));
  });

  test('only nat and filter are replaced, each with every built-in chain declared', () => {
    expect(ruleset.tables.map((t) => [t.name, t.chains.map((c) => `${c.name} ${c.policy}`)])).toEqual([
      ['nat', ['PREROUTING ACCEPT', 'INPUT ACCEPT', 'OUTPUT ACCEPT', 'POSTROUTING ACCEPT']],
      ['filter', ['INPUT DROP', 'FORWARD DROP', 'OUTPUT ACCEPT']],
    ]);
  });

  test('SNAT takes the internal subnet (not a host with /24) out the outside NIC to its address', () => {
    expect(rulesOf('nat', 'POSTROUTING')).toEqual([expect.objectContaining({
      source: '192.168.10.0/24', outInterface: 'ens36', target: { jump: 'SNAT', toSource: '12.0.0.1' },
    })]);
  });

  test('DNAT sends outside-address:LB-port to VIP:LB-port', () => {
    expect(rulesOf('nat', 'PREROUTING')).toEqual([expect.objectContaining({
      destination: '12.0.0.1', inInterface: 'ens36', tcpDestinationPort: 3344, target: { jump: 'DNAT', toDestination: '192.168.10.100:3344' },
    })]);
  });

  test('FORWARD drops INVALID first, before any ACCEPT', () => {
    const forward = rulesOf('filter', 'FORWARD');
    expect(forward[0]).toEqual(expect.objectContaining({ ctstate: ['INVALID'], target: { jump: 'DROP' } }));
    expect(forward.findIndex((r) => r.target.jump === 'ACCEPT')).toBeGreaterThan(0);
  });

  test('FORWARD drops a TCP segment that conntrack calls NEW but is not a SYN before any ACCEPT: a bare mid-stream ACK never reaches the DNAT accept', () => {
    const forward = rulesOf('filter', 'FORWARD');
    const notSyn = forward.findIndex((r) => r.tcpNotSyn === true && r.ctstate?.join() === 'NEW' && r.target.jump === 'DROP' && r.tcpDestinationPort === undefined);
    expect(notSyn).toBeGreaterThanOrEqual(0);
    expect(notSyn).toBeLessThan(forward.findIndex((r) => r.target.jump === 'ACCEPT'));
    // Printed as iptables-save prints it, so verify's comparison with the host's ruleset holds.
    expect(fileOf(seed.bundles, 'gateway', 'firewall.rules')).toContain('\n-A FORWARD -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP\n');
  });

  test('FORWARD drops by default and accepts only replies, the DNAT flow and inside-to-outside, in that order', () => {
    expect(chainOf(ruleset, 'filter', 'FORWARD')!.policy).toBe('DROP');
    expect(rulesOf('filter', 'FORWARD').map(({ comment, ...rule }) => rule)).toEqual([
      { ctstate: ['INVALID'], target: { jump: 'DROP' } },
      { tcpNotSyn: true, ctstate: ['NEW'], target: { jump: 'DROP' } },
      { ctstate: ['RELATED', 'ESTABLISHED'], target: { jump: 'ACCEPT' } },
      { destination: '192.168.10.100', inInterface: 'ens36', outInterface: 'ens33', tcpDestinationPort: 3344, ctstate: ['DNAT'], target: { jump: 'ACCEPT' } },
      { source: '192.168.10.0/24', inInterface: 'ens33', outInterface: 'ens36', target: { jump: 'ACCEPT' } },
    ]);
  });

  test('INPUT keeps SSH from the inside working, and accepts nothing else from outside but replies and ping', () => {
    expect(rulesOf('filter', 'INPUT').map(({ comment, ...rule }) => rule)).toEqual([
      { inInterface: 'lo', target: { jump: 'ACCEPT' } },
      { ctstate: ['RELATED', 'ESTABLISHED'], target: { jump: 'ACCEPT' } },
      { source: '192.168.10.0/24', inInterface: 'ens33', tcpDestinationPort: 22, target: { jump: 'ACCEPT' } },
      { icmpType: 8, target: { jump: 'ACCEPT' } },
    ]);
  });

  test('the printer writes rules as iptables-save does, hosts with /32, comments above their rule', () => {
    const printed = printIptablesRestore({
      tables: [{ name: 'filter', chains: [{ name: 'FORWARD', policy: 'DROP', rules: [
        { comment: 'why', source: '10.0.0.0/8', destination: '10.1.2.3', inInterface: 'a', outInterface: 'b', tcpDestinationPort: 80, ctstate: ['NEW'], target: { jump: 'ACCEPT' } },
      ] }] }],
    });
    expect(printed).toBe('*filter\n:FORWARD DROP [0:0]\n# why\n-A FORWARD -s 10.0.0.0/8 -d 10.1.2.3/32 -i a -o b -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n');
  });

  test('the printer writes TTL matches and TTL targets as iptables-save does (mac, then ttl, then hashlimit)', () => {
    const rules = [
      { macSource: '02:00:00:00:00:40', ttl: { op: 'eq', value: 198 }, target: { jump: 'ACCEPT' } },
      { ttl: { op: 'lt', value: 198 }, target: { jump: 'DROP' } },
      { ttl: { op: 'gt', value: 199 }, hashlimitAbove: { perSecond: 10, burst: 5, mode: ['srcip'], name: 'x' }, target: { jump: 'DROP' } },
      { target: { jump: 'TTL', ttlSet: 200 } },
      { target: { jump: 'TTL', ttlIncrement: 1 } },
    ] as const;
    const printed = printIptablesRestore({ tables: [{ name: 'mangle', chains: [{ name: 'T', rules }] }] });
    const expected = [
      '-A T -m mac --mac-source 02:00:00:00:00:40 -m ttl --ttl-eq 198 -j ACCEPT',
      '-A T -m ttl --ttl-lt 198 -j DROP',
      '-A T -m ttl --ttl-gt 199 -m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name x -j DROP',
      '-A T -j TTL --ttl-set 200',
      '-A T -j TTL --ttl-inc 1',
    ];
    expect(printed).toBe(`*mangle\n:T - [0:0]\n${expected.join('\n')}\nCOMMIT\n`);
    // Loaded in a network namespace of its own, iptables-save gives the same rules back (root only).
    if (process.getuid?.() === 0) {
      const run = spawnSync('unshare', ['-n', 'sh', '-c', 'iptables-restore --noflush && iptables-save -t mangle'], { input: printed, encoding: 'utf8', timeout: 20_000 });
      expect(run.stderr).toBe('');
      expect(run.stdout.split('\n').filter((l) => l.startsWith('-A T '))).toEqual(expected);
    }
  });

  test('the setup script applies it atomically after a test, and persists it per family', () => {
    const rhel = fileOf(seed.bundles, 'gateway', 'setup-gateway.sh');
    const debian = fileOf(seedDebian.bundles, 'gateway', 'setup-gateway.sh');
    for (const script of [rhel, debian]) {
      expect(script.indexOf('iptables-restore --test < firewall.rules')).toBeLessThan(script.indexOf('iptables-restore < firewall.rules'));
      expect(script).not.toMatch(/iptables -[AIF] /); // no incremental rules that would pile up on a re-run
    }
    expect(paramsOf(rhel).RULES_V4_FILE).toBe('/etc/sysconfig/iptables');
    expect(paramsOf(debian).RULES_V4_FILE).toBe('/etc/iptables/rules.v4');
    expect(debian).toContain('install_if_changed firewall.rules "$RULES_V4_FILE" 0600');
    expect(paramsOf(debian).FIREWALL_SERVICES).toEqual(['netfilter-persistent']);
    expect(debian).toContain('systemctl enable --quiet "${FIREWALL_SERVICES[@]}"');
  });
});

describe('gateway IPv6 firewall', () => {
  const ruleset = gatewayRuleset6(seed.topology);
  const rules = (chain: string) => chainOf(ruleset, 'filter', chain)!.rules.map(({ comment, ...rule }) => rule);

  test('the model is what firewall6.rules holds, and the bundle carries it', () => {
    expect(printIptablesRestore(ruleset)).toBe(fileOf(seed.bundles, 'gateway', 'firewall6.rules'));
    expect(ruleset.tables.map((t) => [t.name, t.chains.map((c) => `${c.name} ${c.policy}`)])).toEqual([
      ['filter', ['INPUT DROP', 'FORWARD DROP', 'OUTPUT ACCEPT']],
    ]);
  });

  test('INPUT: loopback, replies, neighbour discovery and ping; SSH only in on the inside interface', () => {
    expect(rules('INPUT')).toEqual([
      { inInterface: 'lo', target: { jump: 'ACCEPT' } },
      { ctstate: ['RELATED', 'ESTABLISHED'], target: { jump: 'ACCEPT' } },
      ...[133, 134, 135, 136, 128].map((icmpv6Type) => ({ icmpv6Type, target: { jump: 'ACCEPT' } })),
      { inInterface: 'ens33', tcpDestinationPort: 22, target: { jump: 'ACCEPT' } },
    ]);
    expect(rules('FORWARD')).toEqual([]);
    const custom6 = gatewayRuleset6(custom.topology);
    expect(chainOf(custom6, 'filter', 'INPUT')!.rules.filter((r) => r.tcpDestinationPort === 22).map((r) => r.inInterface)).toEqual([custom.topology.gateway.inside.interface]);
  });

  test('the printer writes ICMPv6 and IPv6 hosts as ip6tables-save does', () => {
    const printed = printIptablesRestore({ tables: [{ name: 'filter', chains: [{ name: 'INPUT', policy: 'DROP', rules: [
      { source: 'fe80::1', icmpv6Type: 135, target: { jump: 'ACCEPT' } },
    ] }] }] });
    expect(printed).toBe('*filter\n:INPUT DROP [0:0]\n-A INPUT -s fe80::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\nCOMMIT\n');
  });

  test('setup tests both rulesets before applying either, and persists IPv6 per family', () => {
    const rhel = fileOf(seed.bundles, 'gateway', 'setup-gateway.sh');
    const debian = fileOf(seedDebian.bundles, 'gateway', 'setup-gateway.sh');
    for (const script of [rhel, debian]) {
      const firstApply = Math.min(script.indexOf('iptables-restore < firewall.rules'), script.indexOf('ip6tables-restore < firewall6.rules'));
      expect(script.indexOf('ip6tables-restore --test < firewall6.rules')).toBeGreaterThan(0);
      expect(script.indexOf('ip6tables-restore --test < firewall6.rules')).toBeLessThan(firstApply);
      expect(script.indexOf('iptables-restore --test < firewall.rules')).toBeLessThan(firstApply);
    }
    for (const script of [rhel, debian]) expect(script).toContain('install_if_changed firewall6.rules "$RULES_V6_FILE" 0600');
    expect(paramsOf(rhel)).toMatchObject({ RULES_V6_FILE: '/etc/sysconfig/ip6tables', FIREWALL_SERVICES: ['iptables', 'ip6tables'] });
    expect(paramsOf(debian)).toMatchObject({ RULES_V6_FILE: '/etc/iptables/rules.v6', FIREWALL_SERVICES: ['netfilter-persistent'] });
  });
});

describe('gateway teardown', () => {
  test.each([['IPv4', gatewayRuleset], ['IPv6', gatewayRuleset6]] as const)('the %s ruleset it restores has every table and built-in chain the ruleset set, accepting, with no rule', (_family, of) => {
    const { topology } = renderFixture();
    const set = of(topology);
    const emptied = emptiedRuleset(set);
    expect(emptied.tables.map((t) => [t.name, t.chains.map((c) => c.name)])).toEqual(set.tables.map((t) => [t.name, t.chains.map((c) => c.name)]));
    expect(emptied.tables.flatMap((t) => t.chains).every((c) => c.policy === 'ACCEPT' && c.rules.length === 0)).toBe(true);
  });
});

describe('load balancers', () => {
  const keepalived = (f: Fixture, host: LoadBalancerHost) => keepalivedConf(f.topology, host);
  const valueOf = (conf: ConfFile, ...path: string[]) => argsOf(directiveAt(conf, ...path)).join(' ');

  test('the models are what the bundles hold', () => {
    for (const f of [seed, seedDebian, custom]) {
      for (const lb of f.topology.loadBalancer.hosts) {
        expect(printKeepalivedConf(keepalived(f, lb))).toBe(fileOf(f.bundles, lb.name, 'keepalived.conf'));
        expect(printNginxConf(nginxConf(f.topology, osProfile(lb).nginx))).toBe(fileOf(f.bundles, lb.name, 'nginx.conf'));
      }
    }
  });

  test('preempt_delay: every instance starts BACKUP (keepalived ignores the delay otherwise), the preferred one keeps the highest priority; only the preferred one waits (so a drain moves at once)', () => {
    for (const f of [seed, custom]) {
      const lb = f.topology.loadBalancer;
      const confs = lb.hosts.map((h) => ({ host: h, conf: keepalived(f, h) }));
      expect(confs.map(({ conf }) => valueOf(conf, 'vrrp_instance', 'state'))).toEqual(lb.hosts.map(() => 'BACKUP'));
      expect(confs.map(({ conf }) => valueOf(conf, 'vrrp_instance', 'preempt_delay'))).toEqual(lb.hosts.map((h) => (h.name === lb.master.name ? String(lb.vrrp.preemptDelaySeconds) : '')));
      expect(lb.vrrp.preemptDelaySeconds).toBeGreaterThan(0);
      const priorities = confs.map(({ host, conf }) => [host.name, Number(valueOf(conf, 'vrrp_instance', 'priority'))] as const);
      expect([...priorities].sort((a, b) => b[1] - a[1])[0][0]).toBe(lb.master.name);
      expect(directivesNamed(directiveAt(confs[0].conf, 'vrrp_instance')!.children!, 'nopreempt')).toEqual([]);
    }
  });

  test('preemptDelaySeconds 0: no preempt_delay, and the preferred load balancer starts as MASTER', () => {
    const f = renderFixture({ overrides: { loadBalancer: { vrrp: { preemptDelaySeconds: 0 } } } });
    const [master, backup] = f.topology.loadBalancer.hosts;
    expect(valueOf(keepalived(f, master), 'vrrp_instance', 'state')).toBe('MASTER');
    expect(valueOf(keepalived(f, backup), 'vrrp_instance', 'state')).toBe('BACKUP');
    expect(directiveAt(keepalived(f, master), 'vrrp_instance', 'preempt_delay')).toBeUndefined();
  });

  test('the preferred load balancer has the highest priority, and the others are BACKUP', () => {
    const noDelay = { loadBalancer: { vrrp: { preemptDelaySeconds: 0 } } };
    for (const f of [renderFixture({ overrides: noDelay }), renderFixture({ configPath: CUSTOM_CONFIG, overrides: noDelay })]) {
      const states = f.topology.loadBalancer.hosts.map((h) => {
        const conf = keepalived(f, h);
        return { name: h.name, state: valueOf(conf, 'vrrp_instance', 'state'), priority: Number(valueOf(conf, 'vrrp_instance', 'priority')) };
      });
      const masters = states.filter((s) => s.state === 'MASTER');
      expect(masters.map((m) => m.name)).toEqual([f.topology.loadBalancer.master.name]);
      for (const other of states.filter((s) => s !== masters[0])) {
        expect(other.state).toBe('BACKUP');
        expect(other.priority).toBeLessThan(masters[0].priority);
      }
    }
  });

  test('keepalived: router id, VIP with prefix on the internal NIC, script security, tracked check, no auth_pass', () => {
    const conf = keepalived(seed, seed.topology.loadBalancer.hosts[1]);
    const instance = directiveAt(conf, 'vrrp_instance')!;
    expect(valueOf(conf, 'vrrp_instance', 'virtual_router_id')).toBe('51');
    expect(valueOf(conf, 'vrrp_instance', 'advert_int')).toBe('0.1');
    expect(valueOf(conf, 'global_defs', 'vrrp_version')).toBe('3');
    expect(directiveAt(conf, 'vrrp_instance', 'virtual_ipaddress')!.children).toEqual([directive('192.168.10.100/24', ['dev', 'ens33'])]);
    expect(directiveAt(conf, 'global_defs', 'enable_script_security')).toBeDefined();
    expect(valueOf(conf, 'global_defs', 'script_user')).toBe('keepalived_script');
    const script = directiveAt(conf, 'vrrp_script')!;
    expect(argsOf(script)).toEqual(['check_nginx']);
    expect(['script', 'interval', 'fall', 'rise'].map((name) => valueOf(conf, 'vrrp_script', name))).toEqual(['/etc/keepalived/check_nginx.sh', '1', '1', '2']);
    expect(directiveAt(conf, 'vrrp_instance', 'track_script')!.children).toEqual([directive('check_nginx')]);
    expect(directivesNamed(instance.children!, 'authentication')).toEqual([]);
    expect(directiveAt(conf, 'vrrp_instance', 'unicast_peer')).toBeUndefined();
    expect(printKeepalivedConf(conf)).not.toMatch(/auth_pass|authentication/);
  });

  test('the advert interval is written in seconds from milliseconds, for either VRRP version', () => {
    const v2 = renderFixture({ overrides: { loadBalancer: { vrrp: { version: 2, advertIntervalMs: 3000 } } } });
    const conf2 = keepalived(v2, v2.topology.loadBalancer.hosts[0]);
    expect([valueOf(conf2, 'global_defs', 'vrrp_version'), valueOf(conf2, 'vrrp_instance', 'advert_int')]).toEqual(['2', '3']);
    const v3 = renderFixture({ overrides: { loadBalancer: { vrrp: { advertIntervalMs: 250 } } } });
    expect(valueOf(keepalived(v3, v3.topology.loadBalancer.hosts[0]), 'vrrp_instance', 'advert_int')).toBe('0.25');
  });

  test('nginx state and the drain are track_files (inotify, no polling) that drop the priority to 1; nginx is down until it started', () => {
    const conf = keepalived(seed, seed.topology.loadBalancer.master);
    const files = directivesNamed(conf.nodes, 'track_file');
    const byName = Object.fromEntries(files.map((d) => [argsOf(d)[0], Object.fromEntries(d.children!.flatMap((c) => (c.kind === 'directive' ? [[c.name, argsOf(c).join(' ')]] : [])))]));
    expect(byName).toEqual({
      nginx_state: { file: NGINX_STATE_FILE, weight: '1', init_file: String(DRAINED_VALUE) },
      drain: { file: DRAIN_FILE, weight: '1', init_file: '0' },
    });
    // Any priority plus the drained value is at most 1: below every other load balancer.
    for (const h of seed.topology.loadBalancer.hosts) expect(h.priority + DRAINED_VALUE).toBeLessThanOrEqual(1);
    expect(directiveAt(conf, 'vrrp_instance', 'track_file')!.children).toEqual([directive('nginx_state'), directive('drain')]);
  });

  test('the nginx-state unit is bound to nginx, stops before it, and its stop waits (bounded) for the VIP to leave', () => {
    const unit = renderNginxStateUnit(seed.topology);
    expect(unit).toMatch(/^BindsTo=nginx\.service$/m);
    expect(unit).toMatch(/^PartOf=nginx\.service$/m);
    expect(unit).toMatch(/^After=nginx\.service$/m);
    // With in-flight forwarding (the default) the VIP stays on lo; without, nginx's start takes it off (test/in-flight.test.ts).
    expect(unit).toContain(`ExecStart=/bin/sh -c 'echo 0 > ${NGINX_STATE_FILE}'`);
    expect(unit).toContain(`ExecStop=${NGINX_STOPPING_SCRIPT}`);
    const master = seed.topology.loadBalancer.master;
    const stopping = renderNginxStopping(seed.topology, master);
    const params = paramsOf(stopping);
    expect(params).toMatchObject({ NGINX_DOWN_VALUE: String(DRAINED_VALUE), NGINX_STATE_FILE, VIP: '192.168.10.100', LB_INTERFACE: master.interface });
    // Bounded: at most 3 s of polling for the VIP to leave.
    expect(Number(params.HANDOVER_STEPS) * Number(params.HANDOVER_STEP_SECONDS)).toBeLessThanOrEqual(3);
    expect(stopping.indexOf('echo "$NGINX_DOWN_VALUE" > "$NGINX_STATE_FILE"')).toBeLessThan(stopping.indexOf('for _ in $(seq 1 "$HANDOVER_STEPS")'));
    expect(stopping).toContain('ip -o -4 addr show dev "$LB_INTERFACE"');
    expect(stopping).toContain('*" $VIP/"*) ;; *) exit 0 ;;');
    // Only when nginx died (no process left) is the VIP put on lo, so late SYNs are refused, not dropped.
    expect(stopping).toMatch(/if ! pgrep -x nginx >\/dev\/null; then\n {2}ip -4 addr replace "\$VIP\/32" dev lo\nfi/);
  });

  test('unicast VRRP names every other load balancer as a peer', () => {
    const [a, ...others] = custom.topology.loadBalancer.hosts;
    const conf = keepalived(custom, a);
    expect(valueOf(conf, 'vrrp_instance', 'unicast_src_ip')).toBe('10.20.0.41');
    expect(directiveAt(conf, 'vrrp_instance', 'unicast_peer')!.children!.map((d) => d.kind === 'directive' && d.name)).toEqual(others.map((o) => o.address));
  });

  test('the keepalived printer quotes the script, indents blocks by four and ends no directive with ;', () => {
    const text = printKeepalivedConf({ nodes: [block('vrrp_script', ['x'], [directive('script', [quoted('/a b')]), directive('weight', [-2], { comment: 'why' })])] });
    expect(text).toBe('vrrp_script x {\n    script "/a b"\n    # why\n    weight -2\n}\n');
  });

  test('the check tests the LB port locally and never stops keepalived', () => {
    const check = fileOf(seed.bundles, 'lb01', 'check_nginx.sh');
    expect(paramsOf(check)).toMatchObject({ LB_PORT: '3344', CHECK_TIMEOUT_SECONDS: String(seed.topology.loadBalancer.healthCheck.timeoutSeconds) });
    expect(check).toContain('exec timeout "$CHECK_TIMEOUT_SECONDS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$LB_PORT"');
    const commands = check.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(commands).not.toMatch(/systemctl|keepalived|ps -ef|grep/);
  });

  test('nginx: every worker on the NodePort in the upstream, passive health, short connect timeout, LB port on every address', () => {
    for (const { topology } of [seed, custom]) {
      const lb = topology.loadBalancer;
      const conf = nginxConf(topology, osProfile(lb.hosts[0]).nginx);
      const upstream = directiveAt(conf, 'stream', 'upstream')!;
      expect(argsOf(upstream)).toEqual([upstreamName(topology)]);
      expect(directivesNamed(upstream.children!, 'server').map(argsOf)).toEqual(topology.workers.map((w) => [
        `${w.address}:${topology.workload.nodePort}`, `max_fails=${lb.upstream.maxFails}`, `fail_timeout=${lb.upstream.failTimeoutSeconds}s`,
      ]));
      expect(argsOf(directiveAt(conf, 'stream', 'server', 'listen'))).toEqual([String(lb.listenPort)]);
      expect(argsOf(directiveAt(conf, 'stream', 'server', 'proxy_pass'))).toEqual([upstreamName(topology)]);
      expect(argsOf(directiveAt(conf, 'stream', 'server', 'proxy_connect_timeout'))).toEqual([`${lb.upstream.connectTimeoutMs}ms`]);
      expect(argsOf(directiveAt(conf, 'stream', 'server', 'proxy_next_upstream_tries'))).toEqual([String(topology.workers.length)]);
      expect(directiveAt(conf, 'http')).toBeUndefined();
    }
  });

  test('nginx: the API port proxied to the control plane\'s API servers, with the data path\'s passive health and connect timeout', () => {
    for (const { topology } of [seed, custom]) {
      const lb = topology.loadBalancer;
      const conf = nginxConf(topology, osProfile(lb.hosts[0]).nginx);
      const stream = directiveAt(conf, 'stream')!.children!;
      const apiUpstream = directivesNamed(stream, 'upstream').find((u) => argsOf(u)[0] === API_UPSTREAM)!;
      expect(directivesNamed(apiUpstream.children!, 'server').map(argsOf)).toEqual([[
        `${topology.controlPlane.address}:${topology.kubernetes.apiServerPort}`, `max_fails=${lb.upstream.maxFails}`, `fail_timeout=${lb.upstream.failTimeoutSeconds}s`,
      ]]);
      // GIVEN the server that listens on the API port THEN it passes TLS through to that upstream, trying the next API server after the same timeout
      const api = directivesNamed(stream, 'server').find((b) => argsOf(directivesNamed(b.children!, 'listen')[0])[0] === String(topology.kubernetes.apiServerPort))!;
      const arg = (name: string) => argsOf(directivesNamed(api.children!, name)[0]);
      expect(arg('proxy_pass')).toEqual([API_UPSTREAM]);
      expect(arg('proxy_connect_timeout')).toEqual([`${lb.upstream.connectTimeoutMs}ms`]);
      expect(arg('proxy_next_upstream')).toEqual(['on']);
      expect(arg('proxy_next_upstream_tries')).toEqual(['1']);
      expect(directivesNamed(api.children!, 'ssl_certificate')).toEqual([]);
    }
  });

  test('nginx loads the stream module the way each family builds it', () => {
    const include = (f: Fixture) => argsOf(directiveAt(nginxConf(f.topology, osProfile(f.topology.loadBalancer.hosts[0]).nginx), 'include'));
    expect(include(seed)).toEqual(['/usr/share/nginx/modules/*.conf']);
    expect(include(seedDebian)).toEqual(['/etc/nginx/modules-enabled/*.conf']);
  });

  test('the rhel and debian nginx.conf differ only in the profile\'s user and module include', () => {
    const top = (nginx: NginxProfile) => nginxConf(seed.topology, nginx).nodes;
    const [rhel, debian] = [top(RHEL_PROFILE.nginx), top(DEBIAN_PROFILE.nginx)];
    const differing = rhel.flatMap((node, i) => (JSON.stringify(node) === JSON.stringify(debian[i]) ? [] : [[node, debian[i]]]));
    expect(rhel).toHaveLength(debian.length);
    expect(differing).toEqual([
      [directive('user', ['nginx']), directive('user', ['www-data'])],
      [expect.objectContaining({ name: 'include', args: ['/usr/share/nginx/modules/*.conf'] }), expect.objectContaining({ name: 'include', args: ['/etc/nginx/modules-enabled/*.conf'] })],
    ]);
  });

  test('the nginx printer quotes what needs quotes, continues several strings aligned, and ends directives with ;', () => {
    const text = printNginxConf({ nodes: [block('stream', [], [
      directive('log_format', ['p', 'a b', '"c"']),
      directive('server', ['1.2.3.4:80'], { trailingComment: 'n1' }),
    ])] });
    expect(text).toBe("stream {\n    log_format p 'a b'\n                 '\"c\"';\n    server 1.2.3.4:80;  # n1\n}\n");
  });

  test('setup tests the files with nginx -t and keepalived --config-test before installing them', () => {
    const setup = fileOf(seed.bundles, 'lb01', 'setup-lb.sh');
    expect(setup.indexOf('nginx -t')).toBeLessThan(setup.indexOf('install_if_changed nginx.conf'));
    expect(setup.indexOf('keepalived --config-test')).toBeLessThan(setup.indexOf('install_if_changed keepalived.conf'));
    expect(setup).toContain('systemctl reload nginx');
  });
});

describe('Kubernetes hosts', () => {
  const config = parseAllDocuments(fileOf(seed.bundles, 'master', 'kubeadm-config.yaml')).map((d) => d.toJS());
  const byKind = Object.fromEntries(config.map((d) => [d.kind, d]));

  test('kubeadm config: v1beta4, advertise address, pod and service CIDR, systemd cgroups, nftables by default', () => {
    expect(Object.keys(byKind).sort()).toEqual(['ClusterConfiguration', 'InitConfiguration', 'KubeProxyConfiguration', 'KubeletConfiguration']);
    expect(byKind.InitConfiguration.apiVersion).toBe('kubeadm.k8s.io/v1beta4');
    expect(byKind.InitConfiguration.localAPIEndpoint).toEqual({ advertiseAddress: '192.168.10.10', bindPort: 6443 });
    expect(byKind.ClusterConfiguration.networking).toMatchObject({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' });
    // Not stable-1.36 (resolved online at init, whatever kubeadm is installed): init-master.sh fills in the installed kubeadm's version.
    expect(byKind.ClusterConfiguration.kubernetesVersion).toBe('@KUBEADM_VERSION@');
    expect(byKind.ClusterConfiguration.controlPlaneEndpoint).toBe(`${seed.topology.loadBalancer.vip}:6443`);
    expect(byKind.KubeletConfiguration.cgroupDriver).toBe('systemd');
    expect(byKind.KubeProxyConfiguration.mode).toBe('nftables');
  });

  test('kubeadm config carries no token value, only a TTL', () => {
    expect(byKind.InitConfiguration.bootstrapTokens).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
    expect(byKind.InitConfiguration.bootstrapTokens[0].ttl).toBe('15m');
  });

  test('a patch version pins kubeadm and the packages to it', () => {
    const pinned = renderFixture({ overrides: { kubernetes: { version: '1.35.3' }, hostDefaults: { osFamily: 'debian' } } });
    // Both scripts match the installed (running) version against the regex: the patch, and nothing else.
    expect(fileOf(pinned.bundles, 'master', 'prepare-node.sh')).toContain('if ! [[ $kubeadm_version =~ $KUBEADM_VERSION_REGEX ]]; then');
    expect(fileOf(pinned.bundles, 'master', 'check-cluster.sh')).toContain('if ! [[ $running =~ $KUBEADM_VERSION_REGEX ]]; then');
    for (const script of ['prepare-node.sh', 'check-cluster.sh']) {
      const regex = new RegExp(paramsOf(fileOf(pinned.bundles, 'master', script)).KUBEADM_VERSION_REGEX as string);
      expect(['v1.35.3', 'v1.35.30', 'v1.35.4', 'v1.36.3'].filter((v) => regex.test(v))).toEqual(['v1.35.3']);
    }
    const minor = new RegExp(paramsOf(fileOf(seed.bundles, 'master', 'prepare-node.sh')).KUBEADM_VERSION_REGEX as string);
    expect(['v1.36.0', 'v1.36.12', 'v1.35.3', 'v1.360.1', 'v1.36.x'].filter((v) => minor.test(v))).toEqual(['v1.36.0', 'v1.36.12']);
    expect(fileOf(pinned.bundles, 'master', 'prepare-node.sh')).toContain("'kubelet=1.35.3-*'");
    expect(fileOf(pinned.bundles, 'master', 'prepare-node.sh')).toContain('https://pkgs.k8s.io/core:/stable:/v1.35/deb/');
  });

  test('node preparation per family: swap, modules, sysctl, SELinux on rhel, containerd with systemd cgroups, held packages', () => {
    const rhel = fileOf(seed.bundles, 'node01', 'prepare-node.sh');
    const debian = fileOf(seedDebian.bundles, 'node01', 'prepare-node.sh');
    for (const script of [rhel, debian]) {
      expect(script).toContain('swapoff -a');
      expect(script).toMatch(/sed .*swap.*\/etc\/fstab/);
      expect(script).toContain('/etc/containerd/conf.d/k8s-ha-edge.toml');
      expect(script).not.toContain('containerd config default');
      expect(script).toContain('pkgs.k8s.io/core:/stable:/v1.36/');
      expect(paramsOf(script).KERNEL_MODULES).toEqual(['overlay', 'br_netfilter']);
      expect(script).toContain('for module in "${KERNEL_MODULES[@]}"; do');
      expect(script).not.toMatch(/docker-ce |dockerd|apt\.kubernetes\.io|packages\.cloud\.google\.com/);
    }
    expect(rhel).toContain('setenforce 0');
    expect(rhel).toContain('exclude=${KUBE_PACKAGES[*]} cri-tools kubernetes-cni');
    expect(paramsOf(rhel).KUBE_PACKAGES).toEqual(['kubelet', 'kubeadm', 'kubectl']);
    expect(debian).not.toContain('setenforce');
    expect(debian).toContain('apt-mark hold kubelet kubeadm kubectl');
    // containerd.io held too, right after it is installed: an ordinary upgrade must not move the runtime under a held kubelet.
    const installed = (script: string) => script.indexOf('packages=(containerd.io)');
    expect(debian.indexOf('apt-mark hold containerd.io >/dev/null')).toBeGreaterThan(installed(debian));
    expect(rhel.indexOf('dnf -q versionlock add containerd.io')).toBeGreaterThan(installed(rhel));
    expect(installed(rhel)).toBeGreaterThan(rhel.indexOf('python3-dnf-plugin-versionlock'));
    expect(installed(debian)).toBeGreaterThan(0);
    // Docker's repository of the host's distribution (linux/debian or linux/ubuntu), not always Debian's.
    expect(debian).toContain('$DOCKER_REPO_BASE/$ID $VERSION_CODENAME stable');
    expect(paramsOf(debian).DOCKER_REPO_BASE).toBe('https://download.docker.com/linux');
    expect(debian).not.toContain('download.docker.com/linux/debian');
    expect(fileOf(seed.bundles, 'node01', 'sysctl.conf')).toMatch(/net\.bridge\.bridge-nf-call-iptables = 1\n[\s\S]*net\.ipv4\.ip_forward = 1/);
  });

  test('containerd: a config-version-3 drop-in with systemd cgroups and the pause image of kubeadm; the main config is only written where absent or stock', () => {
    const dropIn = fileOf(seed.bundles, 'node01', 'containerd-k8s.toml');
    expect(dropIn).toMatch(/^version = 3$/m);
    expect(dropIn).toContain("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true");
    expect(dropIn).toContain("[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = '@SANDBOX_IMAGE@'");
    expect(fileOf(seed.bundles, 'master', 'containerd-config.toml')).toContain("imports = ['/etc/containerd/conf.d/*.toml']");
    const prepare = fileOf(seed.bundles, 'master', 'prepare-node.sh');
    expect(prepare).toContain('kubeadm config images list --kubernetes-version "$kubeadm_version"');
    expect(paramsOf(prepare).CONTAINERD_MINIMUM).toBe('2.2.0');
    expect(prepare.indexOf('containerd_version=$(containerd --version')).toBeGreaterThan(prepare.indexOf('packages=(containerd.io)'));
    expect(paramsOf(fileOf(custom.bundles, 'w1', 'prepare-node.sh')).CONTAINERD_MINIMUM).toBe('2.1.5');
  });

  test('ip_vs modules and tools only in ipvs mode', () => {
    const script = fileOf(custom.bundles, 'w1', 'prepare-node.sh');
    expect(paramsOf(script).KERNEL_MODULES).toEqual(['overlay', 'br_netfilter']);
    expect(script).not.toContain('ipvsadm');
    expect(fileOf(custom.bundles, 'cp1', 'kubeadm-config.yaml')).toContain('mode: nftables');
    const ipvs = renderFixture({ overrides: { kubernetes: { kubeProxyMode: 'ipvs' } } });
    expect(paramsOf(fileOf(ipvs.bundles, 'node01', 'prepare-node.sh')).KERNEL_MODULES).toEqual(['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']);
    expect(fileOf(ipvs.bundles, 'node01', 'prepare-node.sh')).toMatch(/packages=\(.*ipvsadm/);
  });

  test('ipvs (deprecated since 1.35, KEP-5495) is still possible, with a warning; the default earns none', () => {
    expect(topologyWarnings(seed.topology).map((w) => w.path)).not.toContain('kubernetes.kubeProxyMode');
    const ipvs = renderFixture({ overrides: { kubernetes: { kubeProxyMode: 'ipvs' } } }).topology;
    const [warning] = topologyWarnings(ipvs).filter((w) => w.path === 'kubernetes.kubeProxyMode');
    expect(warning.message).toMatch(/deprecated since Kubernetes 1\.35 \(KEP-5495\)[\s\S]*nftables/);
  });

  test('workers join with a fresh token and the CA hash, never the unsafe skip, and only once', () => {
    const local = fileOf(seed.bundles, 'node02', 'join-from-master.sh');
    const remote = fileOf(seed.bundles, 'node02', 'join-worker.sh');
    expect(paramsOf(local).MASTER_COMMAND).toBe('kubeadm token create --ttl 15m --print-join-command');
    expect(local).toContain('to_master "$MASTER_COMMAND"');
    // The worker itself says whether it has joined (its behaviour: scripts.test.ts, "a failed kubeadm step can be retried").
    expect(local).toContain('if to_worker "$WORKER_COMMAND" --joined; then');
    expect(remote).toContain('--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}');
    expect(paramsOf(remote)).toMatchObject({ KUBELET_KUBECONFIG: '/etc/kubernetes/kubelet.conf', JOIN_CA_FILE: '/etc/kubernetes/pki/ca.crt', KUBELET_CONFIG: '/var/lib/kubelet/config.yaml' });
    expect(`${local}\n${remote}`).not.toContain('unsafe-skip');
  });

  test('init is skipped when the cluster exists; the admin kubeconfig goes to the SSH user too', () => {
    const init = fileOf(custom.bundles, 'cp1', 'init-master.sh');
    // Whether the cluster exists is decided by its health (scripts.test.ts runs every case with stand-ins).
    const params = paramsOf(init);
    expect(params).toMatchObject({
      ADMIN_KUBECONFIG: '/etc/kubernetes/admin.conf', APPLIED_KUBEADM_CONFIG: 'kubeadm-config.applied.yaml', SSH_USER: 'ops',
      API_SERVER_PORT: String(custom.topology.kubernetes.apiServerPort), MANIFESTS_DIR: '/etc/kubernetes/manifests', INIT_MARKER: '/etc/kubernetes/k8s-ha-edge-initialized',
      INIT_STARTED_MARKER: '/etc/kubernetes/k8s-ha-edge-init-started',
    });
    expect(init).toContain('install -m 0600 -o "$SSH_USER" "$ADMIN_KUBECONFIG" "/home/$SSH_USER/.kube/config"');
    expect(init).not.toContain('kube-flannel');
    expect(fileOf(custom.bundles, 'cp1', 'setup.sh')).toMatch(/bash \.\/init-master\.sh\nbash \.\/apply-flannel\.sh\nbash \.\/setup-etcd-backup\.sh\n$/);
  });

  test('controlPlaneEndpoint: the load balancers\' VIP by default, also for one control-plane node, and in the API server\'s certificate', () => {
    // GIVEN the default topology (one control-plane node) WHEN its kubeadm config is rendered
    const t = seed.topology;
    // THEN nodes and kubeconfigs reach the API through the VIP, and the certificate names it (kubeadm adds the master's own address itself)
    expect(t.kubernetes.controlPlaneEndpoint).toBe(t.loadBalancer.vip);
    expect(byKind.ClusterConfiguration.controlPlaneEndpoint).toBe(`${t.loadBalancer.vip}:${t.kubernetes.apiServerPort}`);
    expect(byKind.ClusterConfiguration.apiServer).toEqual({ certSANs: [t.loadBalancer.vip] });
    expect(paramsOf(fileOf(seed.bundles, 'master', 'check-cluster.sh')).CONTROL_PLANE_ENDPOINT).toBe(`${t.loadBalancer.vip}:6443`);
    expect(custom.topology.kubernetes.controlPlaneEndpoint).toBe(custom.topology.loadBalancer.vip);
  });

  test('controlPlaneEndpoint: a DNS name the operator gives is the endpoint, and both it and the VIP are in the certificate', () => {
    const named = renderFixture({ overrides: { kubernetes: { controlPlaneEndpoint: 'k8s-api.example.internal' } } });
    const cluster = parseAllDocuments(fileOf(named.bundles, 'master', 'kubeadm-config.yaml')).map((d) => d.toJS()).find((d) => d.kind === 'ClusterConfiguration');
    expect(cluster.controlPlaneEndpoint).toBe('k8s-api.example.internal:6443');
    expect(cluster.apiServer.certSANs).toEqual([named.topology.loadBalancer.vip, 'k8s-api.example.internal']);
    const check = fileOf(named.bundles, 'master', 'check-cluster.sh');
    expect(paramsOf(check).CONTROL_PLANE_ENDPOINT).toBe('k8s-api.example.internal:6443');
    expect(check).toContain('expect_value kubernetes.controlPlaneEndpoint "$CONTROL_PLANE_ENDPOINT" ');
  });

  test('flannel (bundled, the default): the vendored v0.28.9 manifest is shipped with the pod CIDR, checked by its digest, nothing downloaded', () => {
    const site = renderFixture({ overrides: { kubernetes: { podCidr: '10.32.0.0/16' } } });
    const shipped = fileOf(site.bundles, 'master', 'kube-flannel.yml');
    const netConf = parseAllDocuments(shipped).map((d) => d.toJS()).find((d) => d.kind === 'ConfigMap').data['net-conf.json'];
    expect(JSON.parse(netConf).Network).toBe('10.32.0.0/16');
    // Only the network differs from the vendored release.
    expect(shipped.replace('10.32.0.0/16', '10.244.0.0/16')).toBe(BUNDLED_FLANNEL_MANIFEST.text);
    const images = parseAllDocuments(shipped).map((d) => d.toJS()).find((d) => d.kind === 'DaemonSet').spec.template.spec.containers.map((c: { image: string }) => c.image);
    expect(images).toEqual(['ghcr.io/flannel-io/flannel:v0.28.9']);
    expect(fileOf(site.bundles, 'master', 'kube-flannel.sha256')).toBe(`${createHash('sha256').update(shipped).digest('hex')}  kube-flannel.yml\n`);
    const apply = fileOf(site.bundles, 'master', 'apply-flannel.sh');
    expect(paramsOf(apply)).toMatchObject({ FLANNEL_MANIFEST_URL: '', POD_CIDR: '10.32.0.0/16' });
    expect(apply.indexOf('sha256sum -c --quiet kube-flannel.sha256')).toBeLessThan(apply.indexOf('kubectl apply -f kube-flannel.yml'));
    expect(topologyWarnings(seed.topology)).toEqual([]);
  });

  test('the vendored flannel manifest is byte for byte the file flannel\'s repository holds at the tag (git blob id and sha256 as recorded)', () => {
    const text = Buffer.from(BUNDLED_FLANNEL_MANIFEST.text);
    const gitBlob = createHash('sha1').update(`blob ${text.length}\0`).update(text).digest('hex');
    expect(gitBlob).toBe(BUNDLED_FLANNEL_MANIFEST.gitBlob);
    expect(createHash('sha256').update(text).digest('hex')).toBe(BUNDLED_FLANNEL_MANIFEST.sha256);
  });

  test('flannel (download): the release asset is fetched, checked against the pinned digest, then given the pod CIDR', () => {
    const digest = 'e8'.repeat(32);
    const other = renderFixture({ overrides: { kubernetes: { flannelManifestSource: 'download', flannelVersion: 'v0.28.8', flannelManifestSha256: digest } } });
    expect(fileOf(other.bundles, 'master', 'kube-flannel.sha256')).toBe(`${digest}  kube-flannel.yml\n`);
    expect(other.bundles.find((b) => b.id === 'master')!.files.map((f) => f.name)).not.toContain('kube-flannel.yml');
    const apply = fileOf(other.bundles, 'master', 'apply-flannel.sh');
    expect(paramsOf(apply)).toMatchObject({ FLANNEL_MANIFEST_URL: 'https://github.com/flannel-io/flannel/releases/download/v0.28.8/kube-flannel.yml', FLANNEL_DEFAULT_NETWORK: '10.244.0.0/16' });
    const order = ['curl -fsSL', 'sha256sum -c --quiet kube-flannel.sha256', 'sed -i', 'kubectl apply -f kube-flannel.yml'].map((s) => apply.indexOf(s));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]))).toBe(true);
  });

  test('each worker gets its own page, pushed to the hostPath', () => {
    const pages = seed.topology.workers.map((w) => fileOf(seed.bundles, `${w.name}-page`, 'index.html'));
    expect(pages).toEqual(['this is node01\n', 'this is node02\n']);
    const push = fileOf(seed.bundles, 'node01-page', 'push-page.sh');
    expect(paramsOf(push).PAGE_DIR).toBe('/data');
    expect(push).toContain('install -m 0644 index.html "$PAGE_DIR/index.html"');
  });

  test('the workload bundle waits for every worker, then applies the synthesized manifest', () => {
    const apply = fileOf(custom.bundles, 'workload', 'apply-workload.sh');
    expect(paramsOf(apply).WORKER_NODES).toEqual(['w1', 'w2', 'w3']);
    expect(apply).toContain('for node in "${WORKER_NODES[@]}"; do');
    expect(apply).toContain('kubectl wait --for=condition=Ready "node/$node" --timeout=600s');
    expect(apply.indexOf('kubectl wait')).toBeLessThan(apply.indexOf('kubectl apply'));
    expect(fileOf(custom.bundles, 'workload', 'workload.k8s.yaml')).toContain('nodeName: w3');
  });
});

describe('client', () => {
  test('checks the service at the gateway\'s outside address and LB port, with bounded retries', () => {
    const check = fileOf(custom.bundles, 'laptop', 'check-service.sh');
    expect(paramsOf(check).SERVICE_URL).toBe('http://198.51.100.1:8080/');
    expect(check).toContain('curl -fsS --max-time 2 "$SERVICE_URL"');
    expect(check).toMatch(/for \(\(i = 1; i <= attempts; i\+\+\)\)/);
  });
});

describe('secrets', () => {
  test('no bundle holds a token, a well-known token or a private key', () => {
    for (const { bundles } of [seed, seedDebian, custom]) {
      for (const bundle of bundles) {
        for (const file of bundle.files) {
          expect(file.content).not.toMatch(/abcdef\.0123456789abcdef|PRIVATE KEY|--token [a-z0-9]{6}\.|token: /);
        }
      }
    }
  });
});

describe('snapshots of every rendered file, per host, for review', () => {
  const variants = { 'seed (rhel)': seed, 'seed (debian)': seedDebian, 'custom (debian, 3 workers)': custom };
  for (const [variant, { bundles }] of Object.entries(variants)) {
    test(variant, () => {
      for (const bundle of bundles) {
        for (const file of bundle.files) {
          expect(file.content).toMatchSnapshot(`${bundle.target.hostName}/${bundle.id}/${file.name}`);
        }
      }
    });
  }

  test('hosts of both families are covered', () => {
    expect(seed.topology.controlPlane.osFamily).toBe(OsFamily.RHEL);
    expect(seedDebian.topology.controlPlane.osFamily).toBe(OsFamily.DEBIAN);
  });
});
