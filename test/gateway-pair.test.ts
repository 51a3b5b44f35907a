/**
 * A gateway pair (gateway.hosts): the topology's rules, each gateway's ruleset, keepalived and conntrackd
 * models, the transition script's order, the teardown's order and the picture. The single gateway's
 * output is held byte for byte by the snapshots.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { loadTopology } from '../lib/topology';
import { chainOf } from '../lib/formats/ruleset';
import { argsOf, directiveAt, directivesNamed } from '../lib/formats/directive-tree';
import { gatewayRuleset } from '../lib/gateway/firewall';
import { CONNTRACKD_SYNC_PORT, conntrackdConf, gatewayKeepalivedConf, GATEWAY_SYNC_GROUP, renderTransitionScript } from '../lib/gateway/pair';
import { HANDOFF_CHAIN, HANDOFF_ENTRY_CHAIN, HANDOFF_FROM_PEER_CHAIN, handoffRuleset, renderHandoffRules, renderHandoffSysctl } from '../lib/gateway/handoff';
import { shellBody, shellScript } from '../lib/formats/shell';
import { establishedKeys, unsyncedFlows } from '../lib/gateway/conntrack-flows';
import { topologyDot } from '../lib/diagram/topology-dot';
import { fileOf, GATEWAY_PAIR_CONFIG, renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';
import { errorFor } from './support/topology-errors';

const example = parseYaml(readFileSync(GATEWAY_PAIR_CONFIG, 'utf8')) as { gateway: Record<string, any> };
const pairOverrides = (gateway: Record<string, unknown> = {}) => ({ gateway: { ...example.gateway, ...gateway } });

describe('GIVEN the gateway-pair example', () => {
  const t = loadTopology({ configPath: GATEWAY_PAIR_CONFIG });
  const [gw01, gw02] = t.gateway.hosts;

  test('THEN the site keeps its addresses: the inside hosts route through the inside VIP, clients use the outside VIP', () => {
    expect(t.gateway.hosts.map((h) => [h.name, h.inside.address, h.outside.address])).toEqual([
      ['gw01', '192.168.10.2', '12.0.0.2'], ['gw02', '192.168.10.3', '12.0.0.3'],
    ]);
    expect([t.gateway.inside.address, t.gateway.outside.address]).toEqual(['192.168.10.1', '12.0.0.1']);
    expect(t.serviceUrl).toBe('http://12.0.0.1:3344/');
    expect([t.gateway.pair?.master.name, t.gateway.pair?.backup.name]).toEqual(['gw01', 'gw02']);
  });

  test('THEN each gateway of the pair takes hostDefaults for what it does not set', () => {
    const ops = loadTopology({ overrides: { hostDefaults: { sshUser: 'ops', osFamily: 'rhel' }, ...pairOverrides() } });
    expect(ops.gateway.hosts.map((h) => [h.sshUser, h.osFamily, h.sudoPrefix])).toEqual([['ops', 'rhel', 'sudo -n '], ['ops', 'rhel', 'sudo -n ']]);
  });

  test('THEN each gateway NATs to and from the VIPs, and takes from its peer only VRRP on both networks and conntrackd on the inside', () => {
    for (const [host, peer] of [[gw01, gw02], [gw02, gw01]]) {
      const r = gatewayRuleset(t, host);
      expect(chainOf(r, 'nat', 'PREROUTING')!.rules[0]).toMatchObject({ destination: '12.0.0.1', target: { jump: 'DNAT', toDestination: '192.168.10.100:3344' } });
      expect(chainOf(r, 'nat', 'POSTROUTING')!.rules[0].target).toEqual({ jump: 'SNAT', toSource: '12.0.0.1' });
      const input = chainOf(r, 'filter', 'INPUT')!.rules;
      expect(input.filter((x) => x.vrrp).map((x) => [x.source, x.inInterface])).toEqual([[peer.inside.address, 'ens33'], [peer.outside.address, 'ens36']]);
      expect(input.filter((x) => x.udpDestinationPort === CONNTRACKD_SYNC_PORT).map((x) => [x.source, x.destination])).toEqual([[peer.inside.address, host.inside.address]]);
      // SSH only to the gateway's own address: on the VIP it would reach whichever holds it.
      expect(input.filter((x) => x.tcpDestinationPort === 22).map((x) => x.destination)).toEqual([host.inside.address]);
    }
  });

  test('THEN both gateways get the same rules but for their own addresses', () => {
    // Addresses and names of the two gateways made alike, comments left out: what remains must be equal.
    const swap = (text: string) => text.split('\n').filter((l) => !l.startsWith('#')).join('\n')
      .replace(/192\.168\.10\.[23]\b/g, 'SELF-OR-PEER-IN').replace(/12\.0\.0\.[23]\b/g, 'SELF-OR-PEER-OUT');
    const rules = [gw01, gw02].map((h) => swap(fileOf(renderFixture({ configPath: GATEWAY_PAIR_CONFIG }).bundles, h.name, 'firewall.rules')));
    expect(rules[0]).toBe(rules[1]);
  });

  test('THEN keepalived moves both VIPs as one sync group, each instance tracking the other NIC, only the preferred gateway waiting to preempt', () => {
    for (const host of [gw01, gw02]) {
      const conf = gatewayKeepalivedConf(t, host);
      const group = directiveAt(conf, 'vrrp_sync_group');
      expect(argsOf(group)).toEqual([GATEWAY_SYNC_GROUP]);
      const members = directivesNamed(group!.children!, 'group')[0].children!.map((d) => (d.kind === 'directive' ? d.name : ''));
      const instances = directivesNamed(conf.nodes, 'vrrp_instance');
      expect(instances.map((i) => argsOf(i)[0])).toEqual(members);
      const vips = instances.map((i) => directivesNamed(i.children!, 'virtual_ipaddress')[0].children!.map((d) => (d.kind === 'directive' ? `${d.name} ${argsOf(d).join(' ')}` : '')));
      expect(vips).toEqual([['192.168.10.1/24 dev ens33'], ['12.0.0.1/24 dev ens36']]);
      // Each instance follows its own NIC and tracks the other: either link down puts the group in FAULT.
      expect(instances.map((i) => [argsOf(directivesNamed(i.children!, 'interface')[0])[0], ...directivesNamed(i.children!, 'track_interface')[0].children!.map((d) => (d.kind === 'directive' ? d.name : ''))]))
        .toEqual([['ens33', 'ens36'], ['ens36', 'ens33']]);
      for (const instance of instances) {
        expect(argsOf(directivesNamed(instance.children!, 'priority')[0])).toEqual([String(host.priority)]);
        expect(directivesNamed(instance.children!, 'preempt_delay').map(argsOf)).toEqual(host.name === 'gw01' ? [['5']] : []);
        expect(argsOf(directivesNamed(instance.children!, 'state')[0])).toEqual(['BACKUP']);
      }
      // Changes reach one reader, in order: no forked notify scripts.
      expect(directivesNamed(conf.nodes, 'notify_master')).toEqual([]);
      expect(argsOf(directiveAt(conf, 'global_defs', 'vrrp_notify_fifo_script'))).toEqual(['/etc/keepalived/k8s-ha-edge-gateway-transition.sh', 'root']);
    }
  });

  test('THEN with unicast each instance advertises from its own address to the peer\'s on the same network', () => {
    const u = loadTopology({ overrides: pairOverrides({ vrrp: { ...example.gateway.vrrp, unicast: true } }) });
    const instances = directivesNamed(gatewayKeepalivedConf(u, u.gateway.hosts[1]).nodes, 'vrrp_instance');
    expect(instances.map((i) => argsOf(directivesNamed(i.children!, 'unicast_src_ip')[0]))).toEqual([['192.168.10.3'], ['12.0.0.3']]);
    expect(instances.map((i) => directivesNamed(i.children!, 'unicast_peer')[0].children!.map((d) => (d.kind === 'directive' ? d.name : '')))).toEqual([['192.168.10.2'], ['12.0.0.2']]);
  });

  test('THEN conntrackd syncs over UDP from its own inside address to the peer\'s, and ignores the gateways\' own addresses but never a VIP', () => {
    const conf = conntrackdConf(t, gw02);
    const udp = directiveAt(conf, 'Sync', 'UDP')!;
    const value = (name: string) => argsOf(directivesNamed(udp.children!, name)[0]);
    expect([value('IPv4_address'), value('IPv4_Destination_Address'), value('Port'), value('Interface')])
      .toEqual([['192.168.10.3'], ['192.168.10.2'], [String(CONNTRACKD_SYNC_PORT)], ['ens33']]);
    expect(directiveAt(conf, 'Sync', 'Mode FTFW')).toBeDefined();
    const ignored = directiveAt(conf, 'General', 'Filter From Userspace', 'Address Ignore')!.children!.map((d) => (d.kind === 'directive' ? argsOf(d)[0] : ''));
    expect(ignored).toEqual(expect.arrayContaining(['192.168.10.2', '192.168.10.3', '12.0.0.2', '12.0.0.3']));
    expect(ignored).not.toContain('192.168.10.1');
    expect(ignored).not.toContain('12.0.0.1');
  });

  test('THEN each gateway is its own bundle, reached on its own inside address, and its teardown stops keepalived before it opens the ruleset', () => {
    const { bundles } = renderFixture({ configPath: GATEWAY_PAIR_CONFIG });
    const gateways = bundles.filter((b) => b.stack === 'gateway');
    expect(gateways.map((b) => [b.id, b.target.address])).toEqual([['gw01', '192.168.10.2'], ['gw02', '192.168.10.3']]);
    const teardown = fileOf(bundles, 'gw01', 'teardown-gateway.sh');
    const stopKeepalived = teardown.indexOf('systemctl disable --now --quiet keepalived');
    expect(stopKeepalived).toBeGreaterThan(0);
    expect(stopKeepalived).toBeLessThan(teardown.indexOf('iptables-restore < empty.rules'));
    const setup = fileOf(bundles, 'gw01', 'setup-gateway.sh');
    // Forwarding only once the ruleset is loaded; keepalived (which brings traffic) last.
    expect(setup.indexOf('iptables-restore < firewall.rules')).toBeLessThan(setup.indexOf('net.ipv4.ip_forward = 1'));
    expect(setup.indexOf('net.ipv4.ip_forward = 1')).toBeLessThan(setup.indexOf('systemctl start keepalived'));
  });

  test('THEN the picture shows both gateways, both VIPs and which is MASTER', () => {
    const dot = topologyDot(t);
    expect(dot).toContain('outside 12.0.0.1, inside 192.168.10.1');
    expect(dot).toContain('on gw01 (MASTER)');
    expect(dot).toContain('NAT gateway, MASTER priority 100');
    expect(dot).toContain('NAT gateway, BACKUP priority 90');
    expect(dot).toContain('conntrackd sync');
  });
});

describe('GIVEN an inconsistent gateway pair', () => {
  test.each([
    ['one host with VIPs', { hosts: [example.gateway.hosts[0]] }, /gateway\.hosts: got "1 host", expected none \(one gateway.*\) or exactly two/],
    ['three hosts', { hosts: [...example.gateway.hosts, { ...example.gateway.hosts[1], name: 'gw03', insideAddress: '192.168.10.4', outsideAddress: '12.0.0.4', priority: 80 }] }, /gateway\.hosts: got "3 hosts"/],
    ['an inside address outside the internal network', { hosts: [{ ...example.gateway.hosts[0], insideAddress: '12.0.0.9' }, example.gateway.hosts[1]] }, /gateway\.hosts\[0\]\.insideAddress: got "12\.0\.0\.9", expected an address inside 192\.168\.10\.0\/24/],
    ['a VIP outside its network', { outside: { interface: 'ens36', address: '192.168.10.7' } }, /gateway\.outside\.address: got "192\.168\.10\.7", expected an address inside 12\.0\.0\.0\/24/],
    ['a host address equal to the inside VIP', { hosts: [{ ...example.gateway.hosts[0], insideAddress: '192.168.10.1' }, example.gateway.hosts[1]] }, /gateway\.hosts\[0\]\.insideAddress: got "192\.168\.10\.1", expected an address not already used by gateway\.inside\.address/],
    ['a host address of a load balancer', { hosts: [example.gateway.hosts[0], { ...example.gateway.hosts[1], insideAddress: '192.168.10.40' }] }, /gateway\.hosts\[1\]\.insideAddress: got "192\.168\.10\.40", expected an address not already used by loadBalancer\.hosts\[0\]\.address/],
    ['equal priorities', { hosts: [example.gateway.hosts[0], { ...example.gateway.hosts[1], priority: 100 }] }, /gateway\.hosts\[1\]\.priority: got 100, expected a priority different from gateway\.hosts\[0\]\.priority/],
    ['the load balancers\' router id', { vrrp: { ...example.gateway.vrrp, routerId: 51 } }, /gateway\.vrrp\.routerId: got 51, expected a virtual_router_id other than loadBalancer\.vrrp\.routerId \(51\)/],
    ['a host named like a load balancer', { hosts: [{ ...example.gateway.hosts[0], name: 'lb01' }, example.gateway.hosts[1]] }, /gateway\.hosts\[0\]\.name: got "lb01", expected a host name not already used by loadBalancer\.hosts\[0\]\.name/],
    ['an advert interval VRRPv3 cannot send', { vrrp: { ...example.gateway.vrrp, advertIntervalMs: 105 } }, /gateway\.vrrp\.advertIntervalMs: got 105, expected a multiple of 10/],
  ])('WHEN it has %s THEN the error names the field, the value and what was expected', (_what, gateway, expected) => {
    expect(errorFor(pairOverrides(gateway))).toMatch(expected);
  });

  test('WHEN a field of the one gateway is given beside a pair THEN it is refused, not silently unused', () => {
    expect(errorFor(pairOverrides({ name: 'fw', hostKey: '' }))).toMatch(/gateway\.name: got "fw", expected no value with a gateway pair \(gateway\.hosts\): each host of the pair sets its own name/);
  });

  test('WHEN a single gateway leaves hosts empty THEN nothing of a pair is planned', () => {
    const t = loadTopology();
    expect(t.gateway.pair).toBeUndefined();
    expect(t.gateway.hosts.map((h) => [h.name, h.inside.address, h.outside.address])).toEqual([['gateway', '192.168.10.1', '12.0.0.1']]);
    const files = renderFixture().bundles.find((b) => b.id === 'gateway')!.files.map((f) => f.name);
    expect(files).not.toContain('conntrackd.conf');
    expect(files).not.toContain('keepalived.conf');
  });
});

describe('the transition script', () => {
  const dir = scratchDir('k8s-ha-edge-transition-');
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const calls = join(dir, 'calls');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('conntrackd', `echo "conntrackd $*" >> ${calls}; case "$*" in *" -c"*) exit "\${FAIL_COMMIT:-0}";; esac`);
  stub('systemctl', `echo "systemctl $*" >> ${calls}; case "$1" in is-active) exit 3;; esac`);
  stub('logger', `echo "logger $*" >> ${calls}`);
  // The handoff's commands: the neighbour table has no entry, the chain is hooked already.
  stub('ip', 'exit 0');
  stub('iptables', 'exit 0');
  stub('iptables-restore', 'cat > /dev/null');
  const script = join(dir, 'transition.sh');
  writeFileSync(script, shellScript('test', shellBody('gateway/handoff.sh', {
    HANDOFF_RULES_FILE: join(dir, 'handoff.rules'), ENTRY_CHAIN: 'E', HANDOFF_CHAIN: 'H', FROM_PEER_CHAIN: 'F', PEER_ADDRESS: '192.0.2.3', INSIDE_INTERFACE: 'ens33',
  }), shellBody('gateway/transition.sh', {
    CONNTRACKD_CONFIG: '/c.conf', LOCK_FILE: join(dir, 'lock'), STATE_FILE: join(dir, 'state'), SYNC_GROUP: GATEWAY_SYNC_GROUP, PEER_MAC_REFRESH_SECONDS: 1,
  })));
  writeFileSync(join(dir, 'handoff.rules'), '*mangle\n-A F -j DROP\nCOMMIT\n');
  const run = (events: string[], env: Record<string, string> = {}) => {
    writeFileSync(calls, '');
    const fifo = join(dir, 'events');
    writeFileSync(fifo, `${events.join('\n')}\n`);
    const r = spawnSync('bash', [script, fifo], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8' });
    return { status: r.status, calls: readFileSync(calls, 'utf8').trim().split('\n'), state: readFileSync(join(dir, 'state'), 'utf8').trim() };
  };

  test('runs conntrack-tools\' primary/backup steps for the pair\'s group only, in keepalived\'s order, and records the last state', () => {
    const r = run([
      'INSTANCE "GATEWAY_INSIDE" MASTER 100',
      `GROUP "${GATEWAY_SYNC_GROUP}" MASTER 100`,
      'GROUP "SOMEONE_ELSE" BACKUP 90',
      `GROUP "${GATEWAY_SYNC_GROUP}" BACKUP 100`,
      `GROUP "${GATEWAY_SYNC_GROUP}" FAULT 0`,
    ]);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      "logger -t k8s-ha-edge-gateway handoff waiting: 192.0.2.3's MAC address is not in the neighbour table yet",
      'conntrackd -C /c.conf -c', 'conntrackd -C /c.conf -f', 'conntrackd -C /c.conf -R', 'conntrackd -C /c.conf -B',
      'systemctl is-active --quiet conntrackd', 'systemctl start conntrackd', 'conntrackd -C /c.conf -t', 'conntrackd -C /c.conf -n',
      'conntrackd -C /c.conf -t',
    ]);
    expect(r.state).toBe('FAULT');
  });

  test('a failed step is logged and the transition still completes', () => {
    const r = run([`GROUP "${GATEWAY_SYNC_GROUP}" MASTER 100`], { FAIL_COMMIT: '1' });
    expect(r.status).toBe(0);
    expect(r.calls.slice(1)).toEqual([
      'conntrackd -C /c.conf -c', 'logger -t k8s-ha-edge-gateway conntrackd -c failed',
      'conntrackd -C /c.conf -f', 'conntrackd -C /c.conf -R', 'conntrackd -C /c.conf -B',
    ]);
    expect(r.state).toBe('MASTER');
  });
});

describe('GIVEN the handoff of a gateway pair', () => {
  const t = loadTopology({ configPath: GATEWAY_PAIR_CONFIG });
  const [gw01, gw02] = t.gateway.hosts;
  const rules = handoffRuleset(gw01, gw02);
  const chain = (name: string) => chainOf(rules, 'mangle', name)!.rules;

  test('THEN only TCP segments conntrack cannot place, and not SYNs, are picked', () => {
    expect(chain(HANDOFF_ENTRY_CHAIN)).toEqual([expect.objectContaining({ tcpNotSyn: true, ctstate: ['INVALID', 'NEW'], target: { jump: 'CHAIN', chain: HANDOFF_CHAIN } })]);
  });

  test("THEN the gateway's own connections stay, a peer's handoff is never handed back, and the rest goes once to the peer's own inside address, rate-limited, then dropped", () => {
    const h = chain(HANDOFF_CHAIN);
    expect(h.slice(0, 3).map((r) => [r.destination ?? r.inInterface, r.target.jump])).toEqual([['192.168.10.2', 'RETURN'], ['12.0.0.2', 'RETURN'], ['lo', 'RETURN']]);
    expect(h.map((r) => r.target.jump)).toEqual(['RETURN', 'RETURN', 'RETURN', 'CHAIN', 'DROP', 'DROP', 'TEE', 'DROP']);
    expect(h[3].target).toEqual({ jump: 'CHAIN', chain: HANDOFF_FROM_PEER_CHAIN });
    expect(h[4].ttl).toEqual({ op: 'lt', value: 2 });
    expect(h[5].hashlimitAbove).toBeDefined();
    expect(h[6].target).toEqual({ jump: 'TEE', gateway: gw02.inside.address });
    expect(h.filter((r) => r.target.jump === 'TEE')).toHaveLength(1);
  });

  test("THEN until the script learns the peer's MAC address nothing is handed off (the file's from-peer chain drops all)", () => {
    expect(chain(HANDOFF_FROM_PEER_CHAIN)).toEqual([expect.objectContaining({ target: { jump: 'DROP' } })]);
    expect(chain(HANDOFF_FROM_PEER_CHAIN)[0].macSource).toBeUndefined();
  });

  test('THEN it declares only its own chains (loaded with --noflush beside the rest of the mangle table) and each gateway hands to the other', () => {
    expect(rules.tables.map((x) => x.name)).toEqual(['mangle']);
    expect(rules.tables[0].chains.every((c) => c.policy === undefined)).toBe(true);
    expect(chainOf(handoffRuleset(gw02, gw01), 'mangle', HANDOFF_CHAIN)!.rules.find((r) => r.target.jump === 'TEE')!.target).toEqual({ jump: 'TEE', gateway: gw01.inside.address });
  });

  test('THEN each gateway of the pair gets the rules and a loose reverse-path filter on its inside NIC (slashes for a VLAN name), a single gateway neither', () => {
    const pairFiles = renderFixture({ configPath: GATEWAY_PAIR_CONFIG }).bundles.find((b) => b.id === 'gw01')!.files.map((f) => f.name);
    expect(pairFiles).toEqual(expect.arrayContaining(['handoff.rules', 'handoff-sysctl.conf']));
    expect(renderHandoffSysctl(gw01)).toContain('net.ipv4.conf.ens33.rp_filter = 2');
    expect(renderHandoffSysctl({ ...gw01, inside: { ...gw01.inside, interface: 'eth0.10' } })).toContain('net/ipv4/conf/eth0.10/rp_filter = 2');
    const single = renderFixture().bundles.find((b) => b.id === 'gateway')!.files.map((f) => f.name);
    expect(single.filter((f) => f.startsWith('handoff'))).toEqual([]);
  });

  describe('WHEN the transition script arms it', () => {
    const dir = scratchDir('k8s-ha-edge-handoff-');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const calls = join(dir, 'calls');
    const restored = join(dir, 'restored');
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    // ip: the neighbour table as NEIGH says; iptables: the hook present when HOOKED=1, the from-peer chain as LOADED says.
    stub('ip', 'echo "ip $*" >> ' + calls + '; [ -n "$NEIGH" ] && echo "$NEIGH"; exit 0');
    stub('iptables', 'echo "iptables $*" >> ' + calls + '; case "$*" in *" -C "*) [ "$HOOKED" = 1 ];; *" -S "*) [ -n "$LOADED" ] && echo "$LOADED"; exit 0;; *) exit 0;; esac');
    stub('iptables-restore', 'echo "iptables-restore $*" >> ' + calls + '; cat > ' + restored + '; exit "${RESTORE_FAILS:-0}"');
    stub('logger', 'echo "logger $*" >> ' + calls);
    const script = join(dir, 'transition.sh');
    // The script as synthesized, its host paths moved into the scratch directory (each must be found).
    let installed = renderTransitionScript(t, gw01);
    for (const [name, path] of [['HANDOFF_RULES_FILE', 'handoff.rules'], ['LOCK_FILE', 'lock'], ['STATE_FILE', 'state']]) {
      const line = new RegExp(`^readonly ${name}=.*$`, 'm');
      expect(installed).toMatch(line);
      installed = installed.replace(line, `readonly ${name}='${join(dir, path)}'`);
    }
    writeFileSync(script, installed);
    writeFileSync(join(dir, 'handoff.rules'), renderHandoffRules(gw01, gw02));
    const run = (args: string[], env: Record<string, string>) => {
      writeFileSync(calls, '');
      writeFileSync(restored, '');
      const r = spawnSync('bash', [script, ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8', timeout: 20_000 });
      return { status: r.status, stderr: r.stderr, calls: readFileSync(calls, 'utf8').trim().split('\n'), restored: readFileSync(restored, 'utf8') };
    };
    const neigh = '192.168.10.3 lladdr 0A:00:27:00:00:03 REACHABLE';

    test("THEN with the peer's MAC known, the file's drop-all rule gives way to that MAC's, in one --noflush restore, and the hook is added once", () => {
      const r = run(['--arm'], { NEIGH: neigh, HOOKED: '0', LOADED: '' });
      expect(r.status).toBe(0);
      expect(r.calls.filter((c) => c.startsWith('iptables-restore'))).toEqual(['iptables-restore -w 5 --noflush']);
      const fromPeer = r.restored.split('\n').filter((l) => l.startsWith(`-A ${HANDOFF_FROM_PEER_CHAIN} `));
      expect(fromPeer).toEqual([`-A ${HANDOFF_FROM_PEER_CHAIN} -m mac --mac-source 0a:00:27:00:00:03 -j DROP`]);
      expect(r.restored.trim().split('\n').pop()).toBe('COMMIT');
      expect(r.calls).toContain(`iptables -w 5 -t mangle -A PREROUTING -j ${HANDOFF_ENTRY_CHAIN}`);
    });

    test('THEN without it, the file goes in as it is (nothing handed off) and the hook is not added twice', () => {
      const r = run(['--arm'], { NEIGH: '192.168.10.3 FAILED', HOOKED: '1', LOADED: '' });
      expect(r.status).toBe(0);
      expect(r.restored.split('\n').filter((l) => l.startsWith(`-A ${HANDOFF_FROM_PEER_CHAIN} `))).toEqual([`-A ${HANDOFF_FROM_PEER_CHAIN} -j DROP`]);
      expect(r.calls.filter((c) => c.includes(' -A PREROUTING'))).toEqual([]);
    });

    test('THEN a MAC learned before is kept when the peer has gone from the neighbour table', () => {
      const r = run(['--arm'], { NEIGH: '', HOOKED: '1', LOADED: `-A ${HANDOFF_FROM_PEER_CHAIN} -m mac --mac-source 0a:00:27:00:00:03 -j DROP` });
      expect(r.restored).toContain('--mac-source 0a:00:27:00:00:03');
    });

    test('THEN setup fails when the rules cannot be loaded; keepalived\'s reader logs it and goes on with the transitions', () => {
      const armed = run(['--arm'], { NEIGH: neigh, HOOKED: '0', LOADED: '', RESTORE_FAILS: '1' });
      expect(armed.status).toBe(1);
      expect(armed.stderr).toMatch(/handoff: could not load/);
      const fifo = join(dir, 'events');
      writeFileSync(fifo, `GROUP "${GATEWAY_SYNC_GROUP}" MASTER 100\n`);
      stub('conntrackd', 'echo "conntrackd $*" >> ' + calls);
      const reader = run([fifo], { NEIGH: neigh, HOOKED: '0', LOADED: '', RESTORE_FAILS: '1' });
      expect(reader.status).toBe(0);
      expect(reader.calls).toContain('logger -t k8s-ha-edge-gateway handoff: could not be armed');
      expect(reader.calls.filter((c) => c.startsWith('conntrackd'))).toHaveLength(4);
      expect(readFileSync(join(dir, 'state'), 'utf8').trim()).toBe('MASTER');
    });

    test('THEN between state changes a new peer MAC is picked up, and an unchanged one reloads nothing', () => {
      // A FIFO with no writer for a while: the reader times out (refresh), then reads keepalived's line.
      const fifo = join(dir, 'slow-events');
      spawnSync('rm', ['-f', fifo]);
      spawnSync('mkfifo', [fifo]);
      const writer = `sleep 1.6; printf '%s\\n' 'GROUP "${GATEWAY_SYNC_GROUP}" BACKUP 100' > ${fifo}`;
      const drive = (env: Record<string, string>) => {
        writeFileSync(calls, '');
        const r = spawnSync('bash', ['-c', `(${writer}) & bash ${script} ${fifo}; wait`], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8', timeout: 20_000 });
        return { status: r.status, restores: readFileSync(calls, 'utf8').split('\n').filter((c) => c.startsWith('iptables-restore')).length };
      };
      // Loaded already with another MAC: the start arms (1), each refresh sees the new one again (the stub's chain never changes).
      expect(drive({ NEIGH: neigh, HOOKED: '1', LOADED: '-A F -m mac --mac-source 0a:00:27:00:00:99 -j DROP' }).restores).toBeGreaterThanOrEqual(2);
      // The same MAC loaded: only the start's arm restores.
      expect(drive({ NEIGH: neigh, HOOKED: '1', LOADED: '-A F -m mac --mac-source 0a:00:27:00:00:03 -j DROP' })).toEqual({ status: 0, restores: 1 });
    });
  });
});

describe('the sync comparison verify makes', () => {
  const line = (sport: number, state = 'ESTABLISHED') => `tcp      6 ${state} src=12.0.0.12 dst=12.0.0.1 sport=${sport} dport=3344 src=192.168.10.100 dst=12.0.0.12 sport=3344 dport=${sport} [ASSURED] [active since 3s]`;

  test('reads established TCP connections by their original direction, skipping other states and statistics lines', () => {
    expect([...establishedKeys([line(1), line(2, 'TIME_WAIT'), 'cache internal:', 'current active connections: 2'].join('\n'))])
      .toEqual(['tcp 12.0.0.12:1>12.0.0.1:3344']);
  });

  test('judges only the connections the MASTER held in both reads, and names those the BACKUP lacks', () => {
    const before = [line(1), line(2), line(3)].join('\n');
    const after = [line(1), line(2), line(4)].join('\n');
    expect(unsyncedFlows(before, [line(1)].join('\n'), after)).toEqual({ lasting: 2, missing: ['tcp 12.0.0.12:2>12.0.0.1:3344'] });
    expect(unsyncedFlows(before, [line(1), line(2)].join('\n'), after)).toEqual({ lasting: 2, missing: [] });
  });
});
