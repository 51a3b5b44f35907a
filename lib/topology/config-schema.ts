import { BUNDLED_FLANNEL_VERSION } from './defaults';
import { boolean, Default, Infer, inherit, integer, list, object, oneOf, REQUIRED, string, template } from './schema-dsl';

/**
 * The config schema, declared once: every field with its type, its default (the original write-up's system,
 * with its 192.168.160.x slips corrected to 192.168.10.x) and a one-line doc. The type of a
 * resolved config, the shape check of a config file and the defaults all come from `CONFIG_SCHEMA`.
 * This is the only place in the code where an address, a port or a host name is written.
 */

/** The package family of a host: decides package manager, repository layout and file paths. */
export enum OsFamily {
  /** RHEL, Rocky, Alma, CentOS Stream: dnf, /etc/sysconfig, SELinux. */
  RHEL = 'rhel',
  /** Debian, Ubuntu: apt, /etc/iptables, no SELinux. */
  DEBIAN = 'debian',
}

/** How kube-proxy programs Services into the kernel. */
export enum KubeProxyMode {
  /** nftables: upstream's recommended mode (GA in 1.33); needs kernel 5.13 or later. */
  NFTABLES = 'nftables',
  IPTABLES = 'iptables',
  /** Deprecated since 1.35 (KEP-5495); synth warns when it is chosen. */
  IPVS = 'ipvs',
}

/** Where the master gets flannel's kube-flannel.yml. */
export enum FlannelManifestSource {
  /** Shipped in the master's bundle: vendored from flannel's repository, with the pod CIDR set at synth. */
  BUNDLED = 'bundled',
  /** The release asset, downloaded on the master at apply time and checked against a pinned sha256. */
  DOWNLOAD = 'download',
}

/** Which Terraform resource carries the provisioners. */
export enum ProvisionerResource {
  /** `null_resource` from the hashicorp/null provider (needs the provider from a registry or mirror). */
  NULL_RESOURCE = 'null_resource',
  /** Terraform's built-in `terraform_data`: no provider download, works air-gapped. */
  TERRAFORM_DATA = 'terraform_data',
}

/** Where Terraform keeps each stack's state. */
export enum StateBackend {
  /** A file per stack, `<stateDir>/<stack>.tfstate`, outside the synthesized tree. */
  LOCAL = 'local',
  /** Terraform's `http` backend: a state server per team, with LOCK/UNLOCK locking. */
  HTTP = 'http',
}

/** How to reach and manage one machine; `osFamily` and `sshUser` come from `hostDefaults` when left out. */
const hostAccess = (name: string | Default<string>) => ({
  name: string('host name; also the node name in Kubernetes and the Terraform resource id', name),
  osFamily: oneOf(OsFamily, 'package family of the operating system', inherit('hostDefaults.osFamily')),
  sshUser: string('user for SSH; a non-root user must have passwordless sudo', inherit('hostDefaults.sshUser')),
  hostKey: string("the host's SSH public host key, one line as in /etc/ssh/ssh_host_ecdsa_key.pub (the type terraform's SSH client asks for first; Ed25519 only on a host without an ECDSA key) (checked: a known key type whose blob is of that type). Given: terraform's connections (host_key) and the join pipe (a generated known_hosts, StrictHostKeyChecking=yes) refuse any other key. Empty: terraform does not verify the host and the join pipe trusts on first use (accept-new into the operator's ~/.ssh/known_hosts); see docs/hosts.md, \"Host keys\"", ''),
});

/** A host with one NIC on the internal network (or, for the client, the external one). */
const internalHost = (name: string | Default<string>, address: string | Default<string>) => ({
  ...hostAccess(name),
  address: string('IPv4 address of the host', address),
  interface: string('name of the NIC that holds `address`', inherit('hostDefaults.interface')),
});

export const CONFIG_SCHEMA = object('the config file: the whole system', {
  hostDefaults: object('per-host fields for every host that does not set its own', {
    // The original write-up's machines are CentOS (its successors are the RHEL family, a checked option); the default
    // is the family the lab boots, so the default topology is the one proven end to end.
    osFamily: oneOf(OsFamily, 'package family of every host that does not set its own: debian (apt, /etc/iptables; what the lab boots and proves) or rhel (dnf, SELinux, firewalld, /etc/sysconfig; checked by npm run validate and by tests, never on a RHEL host)', OsFamily.DEBIAN),
    sshUser: string('SSH user of every host that does not set its own; a non-root user needs passwordless sudo', 'root'),
    interface: string('NIC on the internal network (the load balancers put the VIP on it)', 'ens33'),
  }),
  networks: object('the two networks', {
    internal: string('network of the cluster, the load balancers and the gateway inside', '192.168.10.0/24'),
    external: string('network of the client and the gateway outside', '12.0.0.0/24'),
  }),
  controlPlane: object('the Kubernetes control plane', internalHost('master', '192.168.10.10')),
  workers: list('the Kubernetes workers; each runs one of the nginx Pods', object('a worker', {
    ...internalHost(REQUIRED, REQUIRED),
    page: string("content of the worker's test page, written to the workload's hostPath as index.html", template('this is <name>')),
  }), [
    { name: 'node01', address: '192.168.10.20' },
    { name: 'node02', address: '192.168.10.30' },
  ]),
  loadBalancer: object('the highly available load balancer: nginx stream proxy plus keepalived', {
    vip: string("the virtual IP that keepalived moves between the load balancers; inside networks.internal, not a host's address", '192.168.10.100'),
    listenPort: integer('TCP port on which nginx listens on every address (and so on the VIP); not 22', 3344),
    hosts: list('the load balancers', object('a load balancer', {
      ...internalHost(REQUIRED, REQUIRED),
      priority: integer('VRRP priority, 1-254, different on every load balancer; the highest is the preferred MASTER', REQUIRED),
    }), [
      { name: 'lb01', address: '192.168.10.40', priority: 100 },
      { name: 'lb02', address: '192.168.10.50', priority: 90 },
    ]),
    vrrp: object('keepalived VRRP', {
      routerId: integer('virtual_router_id shared by all load balancers, 1-255', 51),
      // VRRPv3 (RFC 5798): advert intervals in centiseconds, so a dead MASTER is noticed in 3 adverts + skew (~0.36 s at 100 ms).
      version: integer('VRRP version: 3 (RFC 5798, centisecond advert intervals) or 2 (RFC 3768, whole seconds)', 3),
      // Measured in the lab: 100 ms adverts cost ~0.5% of a core and 10 packets/s on the MASTER; see BENCHMARKS.md.
      advertIntervalMs: integer('milliseconds between VRRP adverts: a multiple of 10 from 10 to 40950 with version 3, of 1000 from 1000 to 255000 with version 2', 100),
      unicast: boolean('send adverts by unicast to the other load balancers, for networks that drop VRRP multicast', false),
      // keepalived applies preempt_delay only when every instance starts as BACKUP: with a delay,
      // all are BACKUP and the highest priority still wins the election (it stays the preferred owner).
      preemptDelaySeconds: integer('seconds the preferred (highest-priority) load balancer waits, once healthy again (or after its start), before taking the VIP back; 0: at once. The others take the VIP at once from a drained or failing one', 5),
    }),
    healthCheck: object('the keepalived vrrp_script running check_nginx.sh', {
      intervalSeconds: integer('seconds between runs of check_nginx.sh', 1),
      fall: integer('consecutive failures before the check counts as failed', 1),
      rise: integer('consecutive successes before it counts as passing again', 2),
      // FAULT on failure: measured to move the VIP in about 1 s (a weight of -20 took about 3.5 s).
      weight: integer('priority change on failure: 0 puts the instance in FAULT, a negative value lowers the priority', 0),
      timeoutSeconds: integer('seconds the check waits for the LB port to answer', 1),
    }),
    // Measured in the lab: without it, a request in flight when the VIP moved was reset by the new holder (failback and drain lost ~1 in 10).
    forwardInFlight: boolean('after the VIP moves, the new holder passes the packets of connections another load balancer still serves to it (iptables TEE on the LB port), so a planned move, a failback or a drain resets none; needs iptables on the load balancers', true),
    upstream: object("nginx's passive health check of each NodePort", {
      maxFails: integer('failed attempts after which nginx stops using a node for failTimeoutSeconds', 1),
      failTimeoutSeconds: integer('seconds a failed node is left out', 10),
      // Measured: with nginx's 60 s default a node that drops packets failed 60 of 100 requests; with 300 ms, none.
      connectTimeoutMs: integer("milliseconds nginx waits for a node to accept a connection before trying the next one (nginx's default of 60 s stalls clients on a node that drops packets)", 300),
    }),
  }),
  gateway: object('the NAT firewall between the networks: one host (the fields name to hostKey), or a pair of hosts (hosts) sharing inside.address and outside.address as VIPs', {
    ...hostAccess('gateway'),
    inside: object("the gateway's NIC on the internal network", {
      interface: string('name of the NIC (on each host of a pair)', 'ens33'),
      address: string('the address every inside host routes through (its default gateway); with a pair, the inside VIP that keepalived moves between them', '192.168.10.1'),
    }),
    outside: object("the gateway's NIC on the external network", {
      interface: string('name of the NIC (on each host of a pair)', 'ens36'),
      address: string('the public address clients use (DNAT to the service, SNAT of the internal network); with a pair, the outside VIP that moves with the inside one', '12.0.0.1'),
    }),
    // One gateway is the original write-up's design and the default; two remove the last single point of
    // failure on the data path (keepalived moves both VIPs together, conntrackd keeps the NAT state on both).
    hosts: list('a gateway pair: exactly two hosts, each with its own addresses, sharing inside.address and outside.address as VIPs (keepalived, conntrackd). Empty: one gateway, described by name, osFamily, sshUser and hostKey above', object('a gateway of the pair', {
      ...hostAccess(REQUIRED),
      priority: integer('VRRP priority, 1-254, different on the two; the higher one is the preferred MASTER', REQUIRED),
      insideAddress: string("the host's own address on the internal network (terraform and verify reach it there; never the VIP)", REQUIRED),
      outsideAddress: string("the host's own address on the external network", REQUIRED),
    }), []),
    vrrp: object('keepalived VRRP of a gateway pair (VRRP version 3; unused with one gateway)', {
      routerId: integer('virtual_router_id of the pair on both networks, 1-255; not that of the load balancers (they share the internal network)', 61),
      // The same cadence as the load balancers: a dead MASTER gateway is noticed in 3 adverts + skew.
      advertIntervalMs: integer('milliseconds between VRRP adverts: a multiple of 10 from 10 to 40950', 100),
      unicast: boolean('send adverts by unicast to the other gateway, for networks that drop VRRP multicast', false),
      preemptDelaySeconds: integer('seconds the preferred gateway waits, once back, before taking the VIPs back; 0: at once', 5),
    }),
  }),
  client: object('the outside client, on the external network', internalHost('client', '12.0.0.12')),
  kubernetes: object('the Kubernetes cluster', {
    version: string('Kubernetes minor release "1.N" of a supported minor, optionally with a patch ("1.36.2"); picks the pkgs.k8s.io repository', '1.36'),
    podCidr: string("network of the Pods (flannel's network), /8 to /24 with a /24 for every node (kubeadm's limits); must not overlap serviceCidr or the networks", '10.244.0.0/16'),
    serviceCidr: string('network of the Services, /12 to /28 (kubeadm\'s limits); must not overlap podCidr or the networks', '10.96.0.0/12'),
    // ipvs was the original write-up's mode; it is deprecated since 1.35 (KEP-5495) and synth warns when it is chosen.
    kubeProxyMode: oneOf(KubeProxyMode, 'how kube-proxy programs Services into the kernel. nftables needs kernel 5.13 or later and, like upstream, does not serve NodePorts on 127.0.0.1 (the load balancers use the workers\' addresses). ipvs is deprecated since Kubernetes 1.35 (KEP-5495: a KubeProxyIPVS feature gate from 1.37, planned off by default in 1.40 and locked in 1.43, after which kube-proxy will not start in ipvs mode); synth warns when it is chosen', KubeProxyMode.NFTABLES),
    cni: oneOf(['flannel'], 'Pod network add-on; only flannel is supported', 'flannel'),
    // v0.28.9 (August 2026) is the newest tag of flannel-io/flannel found here.
    flannelVersion: string('flannel release that is applied', BUNDLED_FLANNEL_VERSION),
    // bundled: nothing is downloaded at apply time and the manifest is reviewed with the rest of the output.
    flannelManifestSource: oneOf(FlannelManifestSource, 'where the master gets kube-flannel.yml: bundled (shipped in its bundle, vendored from flannel\'s repository at flannelVersion) or download (the release asset, fetched at apply time and checked against flannelManifestSha256)', FlannelManifestSource.BUNDLED),
    flannelManifestSha256: string("sha256 (64 hex digits) of the release's kube-flannel.yml, checked on the master before it is applied; required with flannelManifestSource download, empty with bundled", ''),
    containerRuntime: oneOf(['containerd'], 'container runtime; only containerd is supported (dockershim was removed in 1.24)', 'containerd'),
    apiServerPort: integer('port of the API server on the control plane', 6443),
    // The VIP by default, also for one control-plane node: growing to three later then needs no new
    // certificates or kubeconfigs (the load balancers proxy this port to every control-plane node).
    controlPlaneEndpoint: string("DNS name or IPv4 address (no port) by which nodes and kubeconfigs reach the API server (kubeadm's controlPlaneEndpoint, with apiServerPort): its name in certificates, kubeconfigs and joins. By default the load balancers' VIP, which proxies apiServerPort to the control plane; a DNS name must resolve, on every node, to the VIP (or to another proxy of the API). The VIP and this name are both in the API server's certificate. It cannot be changed once the cluster exists (docs/runbook.md, \"Moving a site to the VIP endpoint\")", inherit('loadBalancer.vip')),
    joinTokenTtl: string('lifetime of the bootstrap token created on the master for each join: digits and s, m or h, at most 2562047h (a Go duration)', '15m'),
    // Without a snapshot, a lost control-plane node is a lost cluster: on by default.
    etcdBackup: object('etcd snapshots on the control-plane node by a systemd timer (k8s-ha-edge-etcd-backup.timer), each verified with etcdutl snapshot status, into /var/backups/k8s-ha-edge-etcd (docs/runbook.md, "Restoring the control plane from an etcd backup"); npm run backup takes one at any time and copies it off the node', {
      enabled: boolean('install the timer; false removes it (the snapshots already taken are kept)', true),
      schedule: string("when the timer fires: a systemd OnCalendar expression (hourly, daily, weekly, or e.g. '*-*-* 03:00:00'); a run missed while the node was off runs at boot (Persistent=true)", 'daily'),
      keep: integer('how many of its snapshots the timer keeps on the node, 1-365: older ones are deleted (only files named etcd-<UTC time>.db and their .sha256 and .status.json, never another file)', 7),
    }),
  }),
  timeSync: object('time synchronisation of the Kubernetes nodes (chrony, installed and enabled by node preparation): tokens, certificates and etcd depend on agreeing clocks', {
    servers: list("NTP servers chrony uses, each with iburst. Empty: the distribution's own chrony.conf (its pool) is left as it is", object('an NTP server', {
      address: string('DNS name or IPv4 address of the server', REQUIRED),
    }), []),
  }),
  workload: object('the nginx Pods and their NodePort Service', {
    name: string('name prefix of the Pods ("<name>-<worker>") and of the Service ("<name>-svc")', 'mcl-nginx'),
    namespace: string('namespace of the Pods and the Service; not kube-* (the cluster\'s own: destroy deletes a namespace other than default)', 'default'),
    // nginx 1.30 is the stable branch; 1.30.1 fixes CVE-2026-42945 (every release before it is affected).
    // The original write-up's nginx:1.14 (end of life since 2019) is still accepted.
    image: string("container image of the Pods: a pinned tag of a maintained release (nginx 1.30.1 fixes CVE-2026-42945; the original write-up's end-of-life nginx:1.14 still works if set here)", 'nginx:1.30.1'),
    appLabel: string('value of the `app` label shared by the Pods and selected by the Service', 'mcl-nginx'),
    hostPath: string('directory on each worker mounted at the web root', '/data'),
    mountPath: string('where the image serves files from: a normalised absolute path below /', '/usr/share/nginx/html'),
    containerPort: integer('port the container serves on', 80),
    servicePort: integer('port of the Service', 80),
    nodePort: integer('the NodePort, 30000-32767, on which every node serves the Service', 30000),
  }),
  provisioning: object('how Terraform pushes the files', {
    resource: oneOf(ProvisionerResource, 'the Terraform resource that carries the provisioners: null_resource (the hashicorp/null provider, from a registry or mirror) or terraform_data (built into Terraform, no provider download)', ProvisionerResource.NULL_RESOURCE),
    backend: oneOf(StateBackend, "where Terraform keeps each stack's state", StateBackend.LOCAL),
    stateDir: string('local backend: directory of the state files (<stack>.tfstate), relative to where synth runs; never inside its output', 'state'),
    httpAddress: string('http backend: base URL of the state server, without credentials; stack <s> keeps its state at <httpAddress>/<s> (credentials from TF_HTTP_USERNAME and TF_HTTP_PASSWORD). Empty with the local backend', ''),
    sshTimeoutSeconds: integer('how long terraform keeps trying to reach a host over SSH', 120),
  }),
});

/** A config after merging and defaults: every field present. */
export type ResolvedConfig = Infer<typeof CONFIG_SCHEMA>;

/** Fields every host may set; the ones it leaves out come from here. */
export type HostDefaults = ResolvedConfig['hostDefaults'];
export type NetworksSpec = ResolvedConfig['networks'];
export type VrrpSpec = ResolvedConfig['loadBalancer']['vrrp'];
export type HealthCheckSpec = ResolvedConfig['loadBalancer']['healthCheck'];
export type UpstreamSpec = ResolvedConfig['loadBalancer']['upstream'];
export type GatewayNic = ResolvedConfig['gateway']['inside'];
export type GatewayPairHostSpec = ResolvedConfig['gateway']['hosts'][number];
export type GatewayVrrpSpec = ResolvedConfig['gateway']['vrrp'];
export type KubernetesSpec = ResolvedConfig['kubernetes'];
export type WorkloadSpec = ResolvedConfig['workload'];
export type ProvisioningSpec = ResolvedConfig['provisioning'];
