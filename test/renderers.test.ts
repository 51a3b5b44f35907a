import { parseAllDocuments } from 'yaml';
import { vrrpMaster } from '../lib/render/keepalived';
import { OsFamily } from '../lib/topology';
import { CUSTOM_CONFIG, fileOf, renderFixture } from './render-fixture';

const seed = renderFixture();
const seedDebian = renderFixture({ overrides: { hostDefaults: { osFamily: 'debian' } } });
const custom = renderFixture({ configPath: CUSTOM_CONFIG });

/** Rules of one iptables-restore table, without comments. */
function tableRules(rules: string, table: string): string[] {
  const start = rules.indexOf(`*${table}\n`);
  const end = rules.indexOf('COMMIT', start);
  return rules.slice(start, end).split('\n').filter((l) => l.startsWith('-A '));
}

describe('gateway firewall', () => {
  const rules = fileOf(seed.bundles, 'gateway', 'firewall.rules');
  const nat = tableRules(rules, 'nat');
  const filter = tableRules(rules, 'filter');

  test('SNAT takes the internal subnet (not a host with /24) out the outside NIC to its address', () => {
    expect(nat.filter((r) => r.includes('-j SNAT'))).toEqual(['-A POSTROUTING -s 192.168.10.0/24 -o ens36 -j SNAT --to-source 12.0.0.1']);
  });

  test('DNAT sends outside-address:LB-port to VIP:LB-port', () => {
    expect(nat.filter((r) => r.includes('-j DNAT'))).toEqual([
      '-A PREROUTING -d 12.0.0.1/32 -i ens36 -p tcp -m tcp --dport 3344 -j DNAT --to-destination 192.168.10.100:3344',
    ]);
  });

  test('FORWARD drops by default and accepts only replies, the DNAT flow and inside-to-outside', () => {
    expect(rules).toContain(':FORWARD DROP [0:0]');
    expect(filter.filter((r) => r.startsWith('-A FORWARD'))).toEqual([
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -d 192.168.10.100/32 -i ens36 -o ens33 -p tcp -m tcp --dport 3344 -m conntrack --ctstate DNAT -j ACCEPT',
      '-A FORWARD -s 192.168.10.0/24 -i ens33 -o ens36 -j ACCEPT',
    ]);
  });

  test('INPUT keeps SSH from the inside working', () => {
    expect(filter).toContain('-A INPUT -s 192.168.10.0/24 -i ens33 -p tcp -m tcp --dport 22 -j ACCEPT');
  });

  test('the setup script applies it atomically after a test, and persists it per family', () => {
    const rhel = fileOf(seed.bundles, 'gateway', 'setup-gateway.sh');
    const debian = fileOf(seedDebian.bundles, 'gateway', 'setup-gateway.sh');
    for (const script of [rhel, debian]) {
      expect(script.indexOf('iptables-restore --test < firewall.rules')).toBeLessThan(script.indexOf('iptables-restore < firewall.rules'));
      expect(script).not.toMatch(/iptables -[AIF] /); // no incremental rules that would pile up on a re-run
    }
    expect(rhel).toContain('/etc/sysconfig/iptables');
    expect(debian).toContain('/etc/iptables/rules.v4');
    expect(debian).toContain('systemctl enable --quiet netfilter-persistent');
  });
});

describe('load balancers', () => {
  test('the MASTER has the higher priority, and the others are BACKUP', () => {
    for (const { bundles, topology } of [seed, custom]) {
      const states = topology.loadBalancer.hosts.map((h) => {
        const conf = fileOf(bundles, h.name, 'keepalived.conf');
        return { name: h.name, state: /state (\w+)/.exec(conf)![1], priority: Number(/priority (\d+)/.exec(conf)![1]) };
      });
      const master = states.find((s) => s.state === 'MASTER')!;
      expect(master.name).toBe(vrrpMaster(topology).name);
      for (const other of states.filter((s) => s !== master)) {
        expect(other.state).toBe('BACKUP');
        expect(other.priority).toBeLessThan(master.priority);
      }
    }
  });

  test('keepalived: router id, VIP with prefix on the internal NIC, script security, tracked check, no auth_pass', () => {
    const conf = fileOf(seed.bundles, 'lb02', 'keepalived.conf');
    expect(conf).toMatch(/virtual_router_id 51\n/);
    expect(conf).toMatch(/advert_int 1\n/);
    expect(conf).toContain('192.168.10.100/24 dev ens33');
    expect(conf).toMatch(/enable_script_security\n\s+script_user keepalived_script/);
    expect(conf).toMatch(/vrrp_script check_nginx \{[^}]*interval 1[^}]*fall 2[^}]*rise 2/);
    expect(conf).toMatch(/track_script \{\s+check_nginx\s+\}/);
    expect(conf).not.toMatch(/auth_pass|authentication/);
    expect(conf).not.toContain('unicast_peer');
  });

  test('unicast VRRP names every other load balancer as a peer', () => {
    const conf = fileOf(custom.bundles, 'edge-a', 'keepalived.conf');
    expect(conf).toMatch(/unicast_src_ip 10\.20\.0\.41\n\s+unicast_peer \{\s+10\.20\.0\.42\s+\}/);
  });

  test('the check tests the LB port locally and never stops keepalived', () => {
    const check = fileOf(seed.bundles, 'lb01', 'check_nginx.sh');
    expect(check).toContain('/dev/tcp/127.0.0.1/3344');
    const commands = check.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(commands).not.toMatch(/systemctl|keepalived|ps -ef|grep/);
  });

  test('nginx: every worker on the NodePort in the upstream, passive health, short connect timeout, LB port on every address', () => {
    for (const { bundles, topology } of [seed, custom]) {
      const lb = topology.loadBalancer;
      const conf = fileOf(bundles, lb.hosts[0].name, 'nginx.conf');
      const servers = [...conf.matchAll(/^\s+server (\S+) max_fails=(\d+) fail_timeout=(\d+)s;/gm)].map((m) => m[1]);
      expect(servers).toEqual(topology.workers.map((w) => `${w.address}:${topology.workload.nodePort}`));
      expect(conf).toMatch(new RegExp(`\\n\\s+listen ${lb.listenPort};`));
      expect(conf).toContain(`proxy_connect_timeout ${lb.upstream.connectTimeoutMs}ms;`);
      expect(conf).toMatch(/^stream \{/m);
      expect(conf).not.toMatch(/^http \{/m);
    }
  });

  test('nginx loads the stream module the way each family builds it', () => {
    expect(fileOf(seed.bundles, 'lb01', 'nginx.conf')).toContain('include /usr/share/nginx/modules/*.conf;');
    expect(fileOf(seedDebian.bundles, 'lb01', 'nginx.conf')).toContain('include /etc/nginx/modules-enabled/*.conf;');
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

  test('kubeadm config: v1beta4, advertise address, pod and service CIDR, systemd cgroups, ipvs', () => {
    expect(Object.keys(byKind).sort()).toEqual(['ClusterConfiguration', 'InitConfiguration', 'KubeProxyConfiguration', 'KubeletConfiguration']);
    expect(byKind.InitConfiguration.apiVersion).toBe('kubeadm.k8s.io/v1beta4');
    expect(byKind.InitConfiguration.localAPIEndpoint).toEqual({ advertiseAddress: '192.168.10.10', bindPort: 6443 });
    expect(byKind.ClusterConfiguration.networking).toMatchObject({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' });
    expect(byKind.ClusterConfiguration.kubernetesVersion).toBe('stable-1.36');
    expect(byKind.KubeletConfiguration.cgroupDriver).toBe('systemd');
    expect(byKind.KubeProxyConfiguration.mode).toBe('ipvs');
  });

  test('kubeadm config carries no token value, only a TTL', () => {
    expect(byKind.InitConfiguration.bootstrapTokens).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
    expect(byKind.InitConfiguration.bootstrapTokens[0].ttl).toBe('15m');
  });

  test('a patch version pins kubeadm and the packages to it', () => {
    const pinned = renderFixture({ overrides: { kubernetes: { version: '1.35.3' }, hostDefaults: { osFamily: 'debian' } } });
    expect(fileOf(pinned.bundles, 'master', 'kubeadm-config.yaml')).toContain('kubernetesVersion: v1.35.3');
    expect(fileOf(pinned.bundles, 'master', 'prepare-node.sh')).toContain("'kubelet=1.35.3-*'");
    expect(fileOf(pinned.bundles, 'master', 'prepare-node.sh')).toContain('https://pkgs.k8s.io/core:/stable:/v1.35/deb/');
  });

  test('node preparation per family: swap, modules, sysctl, SELinux on rhel, containerd with systemd cgroups, held packages', () => {
    const rhel = fileOf(seed.bundles, 'node01', 'prepare-node.sh');
    const debian = fileOf(seedDebian.bundles, 'node01', 'prepare-node.sh');
    for (const script of [rhel, debian]) {
      expect(script).toContain('swapoff -a');
      expect(script).toMatch(/sed .*swap.*\/etc\/fstab/);
      expect(script).toContain('SystemdCgroup = true');
      expect(script).toContain('pkgs.k8s.io/core:/stable:/v1.36/');
      expect(script).toMatch(/for module in overlay br_netfilter ip_vs /);
      expect(script).not.toMatch(/docker-ce |dockerd|apt\.kubernetes\.io|packages\.cloud\.google\.com/);
    }
    expect(rhel).toContain('setenforce 0');
    expect(rhel).toContain('exclude=kubelet kubeadm kubectl');
    expect(debian).not.toContain('setenforce');
    expect(debian).toContain('apt-mark hold kubelet kubeadm kubectl');
    expect(fileOf(seed.bundles, 'node01', 'sysctl.conf')).toMatch(/net\.bridge\.bridge-nf-call-iptables = 1\n[\s\S]*net\.ipv4\.ip_forward = 1/);
  });

  test('ip_vs modules and tools only in ipvs mode', () => {
    const script = fileOf(custom.bundles, 'w1', 'prepare-node.sh');
    expect(script).toMatch(/for module in overlay br_netfilter; do/);
    expect(script).not.toContain('ipvsadm');
    expect(fileOf(custom.bundles, 'cp1', 'kubeadm-config.yaml')).toContain('mode: nftables');
  });

  test('workers join with a fresh token and the CA hash, never the unsafe skip, and only once', () => {
    const local = fileOf(seed.bundles, 'node02', 'join-from-master.sh');
    const remote = fileOf(seed.bundles, 'node02', 'join-worker.sh');
    expect(local).toContain('kubeadm token create --ttl 15m --print-join-command');
    expect(local).toContain('ssh_to "$worker" test -f /etc/kubernetes/kubelet.conf');
    expect(remote).toContain('--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}');
    expect(remote).toMatch(/if \[ -f \/etc\/kubernetes\/kubelet\.conf \]; then[\s\S]*exit 0/);
    expect(`${local}\n${remote}`).not.toContain('unsafe-skip');
  });

  test('init is skipped when the cluster exists; flannel is pinned and gets the pod CIDR', () => {
    const init = fileOf(custom.bundles, 'cp1', 'init-master.sh');
    expect(init).toMatch(/if \[ ! -f \/etc\/kubernetes\/admin\.conf \]; then\n\s+.*\n\s+kubeadm init --config kubeadm-config\.yaml/);
    expect(init).toContain('https://github.com/flannel-io/flannel/releases/download/v0.27.4/kube-flannel.yml');
    expect(init).toContain('"Network": "10.244.0.0/16"#"Network": "10.244.0.0/16"');
    expect(init).toContain("install -m 0600 -o ops /etc/kubernetes/admin.conf /home/ops/.kube/config");
  });

  test('each worker gets its own page, pushed to the hostPath', () => {
    const pages = seed.topology.workers.map((w) => fileOf(seed.bundles, `${w.name}-page`, 'index.html'));
    expect(pages).toEqual(['this is node01\n', 'this is node02\n']);
    expect(fileOf(seed.bundles, 'node01-page', 'push-page.sh')).toContain('install -m 0644 index.html /data/index.html');
  });

  test('the workload bundle waits for every worker, then applies the synthesized manifest', () => {
    const apply = fileOf(custom.bundles, 'workload', 'apply-workload.sh');
    expect(apply).toContain('for node in w1 w2 w3; do');
    expect(apply).toContain('kubectl wait --for=condition=Ready "node/$node" --timeout=600s');
    expect(apply.indexOf('kubectl wait')).toBeLessThan(apply.indexOf('kubectl apply'));
    expect(fileOf(custom.bundles, 'workload', 'workload.k8s.yaml')).toContain('nodeName: w3');
  });
});

describe('client', () => {
  test('checks the service at the gateway\'s outside address and LB port, with bounded retries', () => {
    const check = fileOf(custom.bundles, 'laptop', 'check-service.sh');
    expect(check).toContain('url=http://198.51.100.1:8080/');
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
