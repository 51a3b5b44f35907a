/**
 * The checkers of `npm run validate`: each accepts a file rendered from the topology and
 * rejects a deliberately broken one. A checker's tests are skipped only when its tool is
 * missing and this is not CI (CI=true must have every tool: validate/install-tools.sh).
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthWorkloadManifest } from '../constructs/k8s/workload-app';
import { listFiles } from '../lib/kernel/files';
import { synthStacks } from '../constructs/tf/stacks-app';
import { planSynth } from '../lib/site-plan';
import { renderFirewall6Rules, renderFirewallRules } from '../lib/gateway/firewall';
import { renderCheckNginx, renderKeepalivedConf } from '../lib/load-balancer/keepalived';
import { renderSetupLb } from '../lib/load-balancer/setup-lb';
import { renderNginxConf } from '../lib/load-balancer/nginx';
import { DEBIAN_PROFILE, RHEL_PROFILE } from '../lib/os-profiles';
import { loadTopology, ProvisionerResource, Topology } from '../lib/topology';
import { CheckResult, missingTools, ToolNeed } from '../validate/checkers/common';
import { checkIptablesRules, IPTABLES_TOOLS } from '../validate/checkers/iptables';
import { checkIp6tablesRules, IP6TABLES_TOOLS } from '../validate/checkers/ip6tables';
import { checkK8sManifest } from '../validate/checkers/k8s';
import { checkKeepalivedConf, KEEPALIVED_TOOLS } from '../validate/checkers/keepalived';
import { checkConntrackdConf, CONNTRACKD_TOOLS } from '../validate/checkers/conntrackd';
import { renderConntrackdConf, renderGatewayKeepalivedConf, renderTransitionScript, TRANSITION_SCRIPT } from '../lib/gateway/pair';
import { GATEWAY_PAIR_CONFIG } from './render-fixture';
import { checkNginxConf, NGINX_TOOLS } from '../validate/checkers/nginx';
import { checkShellScript, SHELLCHECK_TOOLS } from '../validate/checkers/shellcheck';
import { checkTerraformStack, TERRAFORM_TOOLS } from '../validate/checkers/terraform';
import { checkSystemdUnit, SYSTEMD_TOOLS } from '../validate/checkers/systemd';
import { ETCD_BACKUP_UNIT, renderEtcdBackupService, renderEtcdBackupTimer } from '../lib/kubernetes/etcd-backup';
import { scratchDir } from './support/scratch';

const inCI = process.env.CI === 'true';
const topology: Topology = loadTopology({ overrides: { provisioning: { resource: ProvisionerResource.TERRAFORM_DATA } } });
let scratch: string;

beforeAll(() => {
  scratch = scratchDir('k8s-ha-edge-validate-test-');
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Writes `content` as `name` in a new directory of the scratch area. */
function fixture(dir: string, name: string, content: string): string {
  const path = join(scratch, dir);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, name), content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  return join(path, name);
}

/** describe(), or describe.skip() when the tool is missing outside CI. */
function describeWithTools(name: string, needs: readonly ToolNeed[], body: () => void): void {
  const missing = missingTools(needs);
  if (missing && !inCI) {
    describe.skip(`${name} (skipped: ${missing})`, body);
  } else {
    describe(name, body);
  }
}

function expectPass(result: CheckResult): void {
  expect({ ok: result.ok, detail: result.detail }).toEqual({ ok: true, detail: expect.any(String) });
}

function expectFail(result: CheckResult, pattern: RegExp): void {
  expect(result.ok).toBe(false);
  expect(result.detail).toMatch(pattern);
}

describeWithTools('nginx checker', NGINX_TOOLS, () => {
  const debian = renderNginxConf(topology, DEBIAN_PROFILE.nginx);
  const rhel = renderNginxConf(topology, RHEL_PROFILE.nginx);

  test('accepts the debian nginx.conf as it is', () => {
    const result = checkNginxConf(fixture('nginx-debian', 'nginx.conf', debian));
    expectPass(result);
    expect(result.tool).toBe('nginx -t');
  });

  test('checks a rhel nginx.conf through its Debian twin (the same model, Debian profile), and says so', () => {
    const result = checkNginxConf(fixture('nginx-rhel', 'nginx.conf', rhel), { text: debian, family: 'rhel' });
    expectPass(result);
    expect(result.tool).toBe('nginx -t (Debian twin of the rhel model)');
    // The rhel file itself cannot load in Debian's nginx: that is why the twin exists.
    expectFail(checkNginxConf(fixture('nginx-rhel-as-is', 'nginx.conf', rhel)), /nginx|user|include/);
  });

  test('rejects an unknown directive and a missing brace', () => {
    expectFail(checkNginxConf(fixture('nginx-bad1', 'nginx.conf', debian.replace('proxy_pass ', 'proxy_passs '))), /unknown directive "proxy_passs"/);
    expectFail(checkNginxConf(fixture('nginx-bad2', 'nginx.conf', debian.replace(/}\n$/, ''))), /unexpected end of file/);
  });

  test('rejects a rhel-only line that is not mapped (a user Debian does not have)', () => {
    expectFail(checkNginxConf(fixture('nginx-bad3', 'nginx.conf', debian.replace('user www-data;', 'user nginx-nobody;'))), /getpwnam\("nginx-nobody"\) failed/);
  });
});

describeWithTools('keepalived checker', KEEPALIVED_TOOLS, () => {
  const [master, backup] = topology.loadBalancer.hosts;
  const bundle = (dir: string, conf: string) => {
    fixture(dir, 'check_nginx.sh', renderCheckNginx(topology));
    return fixture(dir, 'keepalived.conf', conf);
  };

  test('accepts the MASTER and BACKUP keepalived.conf with the bundle check script', () => {
    expectPass(checkKeepalivedConf(bundle('ka-master', renderKeepalivedConf(topology, master))));
    expectPass(checkKeepalivedConf(bundle('ka-backup', renderKeepalivedConf(topology, backup))));
  });

  test('accepts the unicast form', () => {
    const unicast = loadTopology({ overrides: { loadBalancer: { vrrp: { unicast: true } } } });
    const conf = renderKeepalivedConf(unicast, unicast.loadBalancer.hosts[0]);
    expect(conf).toContain('unicast_peer');
    expectPass(checkKeepalivedConf(bundle('ka-unicast', conf)));
  });

  const good = renderKeepalivedConf(topology, master);
  test('rejects an unknown keyword', () => {
    expectFail(checkKeepalivedConf(bundle('ka-bad1', good.replace('advert_int', 'advert_intt'))), /Unknown keyword 'advert_intt'/);
  });

  test('rejects a missing closing brace', () => {
    expectFail(checkKeepalivedConf(bundle('ka-bad2', good.replace(/}\n$/, ''))), /missing '}'/);
  });

  test('rejects an out-of-range value', () => {
    expectFail(checkKeepalivedConf(bundle('ka-bad3', good.replace(/^(\s+)priority \d+$/m, '$1priority 300'))), /outside range/);
  });

  test('rejects a non-existent interface and a loopback one', () => {
    // Only the interfaces named by `interface` and `dev` exist in the check's namespace.
    const tracked = good.replace('    track_script {', '    track_interface {\n        eth9\n    }\n    track_script {');
    expectFail(checkKeepalivedConf(bundle('ka-bad4', tracked)), /tracked interface eth9 doesn't exist/);
    expectFail(checkKeepalivedConf(bundle('ka-bad5', good.split(`interface ${master.interface}`).join('interface lo'))), /cannot use a loopback interface/);
  });

  test('rejects a file whose check script is not in the bundle', () => {
    const conf = bundle('ka-bad6', good);
    unlinkSync(join(scratch, 'ka-bad6', 'check_nginx.sh'));
    expectFail(checkKeepalivedConf(conf), /Disabling track script check_nginx since not found/);
  });
});

describeWithTools('iptables checker', IPTABLES_TOOLS, () => {
  const rules = renderFirewallRules(topology);

  test('accepts the gateway ruleset', () => {
    expectPass(checkIptablesRules(fixture('ipt-good', 'firewall.rules', rules)));
  });

  test('rejects an unknown target, a bad port and a missing COMMIT', () => {
    expectFail(checkIptablesRules(fixture('ipt-bad1', 'firewall.rules', rules.replace('-j DNAT', '-j DNATT'))), /line/i);
    expectFail(checkIptablesRules(fixture('ipt-bad2', 'firewall.rules', rules.replace('--dport 22 ', '--dport 99999 '))), /99999/);
    expectFail(checkIptablesRules(fixture('ipt-bad3', 'firewall.rules', rules.replace(/COMMIT\n$/, ''))), /COMMIT|line/i);
  });
});

describeWithTools('ip6tables checker', IP6TABLES_TOOLS, () => {
  const rules = renderFirewall6Rules(topology);

  test('accepts the gateway IPv6 ruleset', () => {
    expectPass(checkIp6tablesRules(fixture('ip6t-good', 'firewall6.rules', rules)));
  });

  test('rejects an IPv4-only match, an unknown ICMPv6 type and a missing COMMIT', () => {
    expectFail(checkIp6tablesRules(fixture('ip6t-bad1', 'firewall6.rules', rules.replace('-p ipv6-icmp -m icmp6 --icmpv6-type 128', '-p icmp -m icmp --icmp-type 8'))), /line|icmp/i);
    expectFail(checkIp6tablesRules(fixture('ip6t-bad2', 'firewall6.rules', rules.replace('--icmpv6-type 128', '--icmpv6-type bogus'))), /bogus|line/i);
    expectFail(checkIp6tablesRules(fixture('ip6t-bad3', 'firewall6.rules', rules.replace(/COMMIT\n$/, ''))), /COMMIT|line/i);
  });
});

describeWithTools('systemd unit checker', SYSTEMD_TOOLS, () => {
  test('accepts the etcd backup timer and its service; the command setup installs on the host is named, not failed', () => {
    expectPass(checkSystemdUnit(fixture('unit-good', `${ETCD_BACKUP_UNIT}.timer`, renderEtcdBackupTimer(topology))));
    const service = checkSystemdUnit(fixture('unit-good', `${ETCD_BACKUP_UNIT}.service`, renderEtcdBackupService(topology)));
    expectPass(service);
    expect(service.detail).toContain('/usr/local/sbin/k8s-ha-edge-etcd-snapshot');
  });

  test('rejects a timer whose OnCalendar systemd cannot parse, quoting systemd', () => {
    const broken = renderEtcdBackupTimer(topology).replace('OnCalendar=daily', 'OnCalendar=every day at noon');
    expectFail(checkSystemdUnit(fixture('unit-bad', `${ETCD_BACKUP_UNIT}.timer`, broken)), /Failed to parse calendar specification/);
  });

  test('rejects an unknown key', () => {
    const broken = renderEtcdBackupService(topology).replace('Type=oneshot', 'Type=oneshot\nExecStartt=/bin/true');
    expectFail(checkSystemdUnit(fixture('unit-bad2', `${ETCD_BACKUP_UNIT}.service`, broken)), /Unknown key/);
  });
});

describeWithTools('shellcheck checker', SHELLCHECK_TOOLS, () => {
  test('accepts generated scripts', () => {
    expectPass(checkShellScript(fixture('sh-good', 'check_nginx.sh', renderCheckNginx(topology))));
    expectPass(checkShellScript(fixture('sh-good', 'setup-lb.sh', renderSetupLb(topology, topology.loadBalancer.hosts[0]))));
  });

  test('passes a script with style notes only, and names them', () => {
    const result = checkShellScript(fixture('sh-style', 'style.sh', '#!/usr/bin/env bash\nnow=`date`\necho "$now"\n'));
    expectPass(result);
    expect(result.detail).toMatch(/SC2006/);
  });

  test('rejects a script with a warning, quoting shellcheck', () => {
    const result = checkShellScript(fixture('sh-bad', 'bad.sh', '#!/usr/bin/env bash\nset -euo pipefail\nrm -rf "$staging_dirr/cache"\n'));
    expectFail(result, /warning: staging_dirr is referenced but not assigned.*\[SC2154\]/);
  });

  test('rejects a script that does not parse', () => {
    expectFail(checkShellScript(fixture('sh-bad2', 'bad2.sh', '#!/usr/bin/env bash\nif true; then\necho x\n')), /error/);
  });

  // The static shell files the scripts are made of, as files (npm run validate checks them too).
  const lib = join(__dirname, '..', 'lib');
  const staticFiles = listFiles(lib).filter((f) => f.endsWith('.sh'));
  test.each(staticFiles)('accepts lib/%s as a file, with no findings at all', (file) => {
    expect(checkShellScript(join(lib, file))).toEqual({ ok: true, tool: expect.any(String), detail: 'no findings' });
  });

  test('a guard declares a parameter for shellcheck without hiding any other unassigned variable (as disable=SC2154 would)', () => {
    const body = '# shellcheck shell=bash\n: "${port:?}"\necho "$port" "$prot"\n';
    const result = checkShellScript(fixture('sh-guard', 'guarded.sh', body));
    expectFail(result, /prot is referenced but not assigned/);
    expect(result.detail).not.toMatch(/\bport is referenced/);
  });
});

describeWithTools('conntrackd checker', CONNTRACKD_TOOLS, () => {
  const pair = loadTopology({ configPath: GATEWAY_PAIR_CONFIG });
  const good = renderConntrackdConf(pair, pair.gateway.hosts[0]);

  test("accepts both gateways' conntrackd.conf: the daemon starts with it and answers", () => {
    for (const host of pair.gateway.hosts) expectPass(checkConntrackdConf(fixture(`ctd-${host.name}`, 'conntrackd.conf', renderConntrackdConf(pair, host))));
  });

  test('rejects a value the parser refuses', () => {
    expectFail(checkConntrackdConf(fixture('ctd-bad1', 'conntrackd.conf', good.replace('ResendQueueSize 131072', 'ResendQueueSize lots'))), /syntax error|exit status/);
  });

  test('rejects an unknown option', () => {
    expectFail(checkConntrackdConf(fixture('ctd-bad2', 'conntrackd.conf', good.replace('Checksum on', 'Checksums on'))), /syntax error|exit status|unknown/i);
  });

  // keepalived --config-test does not look for the notify FIFO's script (only a running keepalived starts it).
  test("accepts a gateway's keepalived.conf (sync group, two instances, each tracking the other NIC)", () => {
    const host = pair.gateway.hosts[1];
    const dir = 'ka-gateway';
    fixture(dir, TRANSITION_SCRIPT.split('/').pop()!, renderTransitionScript(pair, host));
    expectPass(checkKeepalivedConf(fixture(dir, 'keepalived.conf', renderGatewayKeepalivedConf(pair, host))));
    // Tracking its own NIC is refused by keepalived: the model must track the other one.
    const own = renderGatewayKeepalivedConf(pair, host).replace(/(track_interface \{\n\s+)ens36/, '$1ens33');
    expectFail(checkKeepalivedConf(fixture('ka-gateway-own-nic', 'keepalived.conf', own)), /Ignoring track_interface ens33 since own interface/);
  });
});

describe('kubernetes schema checker', () => {
  let manifest: string;
  beforeAll(() => {
    manifest = synthWorkloadManifest(topology).content;
  });

  test('accepts the synthesized workload', () => {
    expectPass(checkK8sManifest(fixture('k8s-good', 'workload.k8s.yaml', manifest)));
  });

  test('rejects a wrongly typed field, an unknown kind and an empty file', () => {
    expectFail(checkK8sManifest(fixture('k8s-bad1', 'workload.k8s.yaml', manifest.replace(/nodePort: \d+/, 'nodePort: "x"'))), /nodePort must be integer/);
    expectFail(checkK8sManifest(fixture('k8s-bad2', 'workload.k8s.yaml', manifest.replace('kind: Service', 'kind: Servize'))), /no schema known/);
    expectFail(checkK8sManifest(fixture('k8s-bad3', 'workload.k8s.yaml', '')), /no Kubernetes object/);
  });
});

describeWithTools('terraform checker', TERRAFORM_TOOLS, () => {
  let stacks: string;
  beforeAll(() => {
    stacks = join(scratch, 'tf', 'cdktf.out');
    synthStacks(planSynth(topology, synthWorkloadManifest(topology)), stacks);
  });

  test('accepts a synthesized terraform_data stack and leaves it unchanged', () => {
    const stack = join(stacks, 'stacks', 'gateway');
    const before = readFileSync(join(stack, 'cdk.tf.json'), 'utf8');
    expectPass(checkTerraformStack(stack));
    expect(readFileSync(join(stack, 'cdk.tf.json'), 'utf8')).toBe(before);
    expect(() => readFileSync(join(stack, '.terraform.lock.hcl'))).toThrow();
  });

  test('rejects an unknown argument and an undeclared variable', () => {
    const json = readFileSync(join(stacks, 'stacks', 'gateway', 'cdk.tf.json'), 'utf8');
    expectFail(checkTerraformStack(join(fixture('tf-bad1', 'cdk.tf.json', json.replace('"triggers_replace"', '"triggers_replaced"')), '..')), /No argument or block type is named "triggers_replaced"/);
    expectFail(checkTerraformStack(join(fixture('tf-bad2', 'cdk.tf.json', json.replace('var.ssh_private_key_path', 'var.ssh_key_path')), '..')), /Reference to undeclared input variable/);
  });
});

describe('missing tools', () => {
  test('name the Debian package that brings them and the install script', () => {
    const message = missingTools([{ command: 'k8s-ha-edge-no-such-tool', provider: 'libnginx-mod-stream' }]);
    expect(message).toBe('k8s-ha-edge-no-such-tool not found: install the Debian package libnginx-mod-stream (bash validate/install-tools.sh)');
    expect(missingTools([{ command: 'sh', provider: 'dash' }])).toBeUndefined();
  });
});
