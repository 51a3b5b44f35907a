import { KubeProxyMode, OsFamily, ProvisionerResource } from './types';

/**
 * The seed's system, with its 192.168.160.x slips corrected to 192.168.10.x.
 * This is the only place in the code where an address, a port or a host name is written.
 *
 * Per-host `osFamily`, `sshUser` and `interface` are left out on purpose: they come
 * from `hostDefaults`, so a config file can change them for every host at once.
 */
export const DEFAULT_CONFIG = {
  hostDefaults: {
    // The seed's machines are CentOS; its successors are the RHEL family.
    osFamily: OsFamily.RHEL,
    sshUser: 'root',
    interface: 'ens33',
  },
  networks: {
    internal: '192.168.10.0/24',
    external: '12.0.0.0/24',
  },
  controlPlane: { name: 'master', address: '192.168.10.10' },
  workers: [
    { name: 'node01', address: '192.168.10.20' },
    { name: 'node02', address: '192.168.10.30' },
  ],
  loadBalancer: {
    vip: '192.168.10.100',
    listenPort: 3344,
    hosts: [
      { name: 'lb01', address: '192.168.10.40', priority: 100 },
      { name: 'lb02', address: '192.168.10.50', priority: 90 },
    ],
    vrrp: {
      routerId: 51,
      advertIntervalSeconds: 1,
      unicast: false,
    },
    healthCheck: {
      intervalSeconds: 1,
      fall: 2,
      rise: 2,
      // FAULT on failure: measured to move the VIP in about 1 s (a weight of -20 took about 3.5 s).
      weight: 0,
      timeoutSeconds: 1,
    },
    upstream: {
      maxFails: 1,
      failTimeoutSeconds: 10,
      // Measured: with nginx's 60 s default a node that drops packets failed 60 of 100 requests; with 300 ms, none.
      connectTimeoutMs: 300,
    },
  },
  gateway: {
    name: 'gateway',
    inside: { interface: 'ens33', address: '192.168.10.1' },
    outside: { interface: 'ens36', address: '12.0.0.1' },
  },
  client: { name: 'client', address: '12.0.0.12' },
  kubernetes: {
    version: '1.36',
    podCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/12',
    kubeProxyMode: KubeProxyMode.IPVS,
    cni: 'flannel' as const,
    flannelVersion: 'v0.27.4',
    containerRuntime: 'containerd' as const,
    apiServerPort: 6443,
    joinTokenTtl: '15m',
  },
  workload: {
    name: 'mcl-nginx',
    namespace: 'default',
    image: 'nginx:1.14',
    appLabel: 'mcl-nginx',
    hostPath: '/data',
    mountPath: '/usr/share/nginx/html',
    containerPort: 80,
    servicePort: 80,
    nodePort: 30000,
  },
  provisioning: {
    resource: ProvisionerResource.NULL_RESOURCE,
  },
};

/** The page a worker serves when the config gives none: distinct per worker, like the seed's. */
export function defaultPage(workerName: string): string {
  return `this is ${workerName}`;
}

/** Kubernetes minors accepted: those with upstream support and a pkgs.k8s.io repository. */
export const SUPPORTED_KUBERNETES_MINORS: readonly number[] = [35, 36, 37];

/** sshd's port on every host: terraform provisions over it, and the gateway lets it in from the inside. */
export const SSH_PORT = 22;

/** The cluster's DNS domain (kubeadm's default, spelled out so the config says it). */
export const CLUSTER_DNS_DOMAIN = 'cluster.local';

/** Ports the load balancers themselves use, which the LB listen port must not take. */
export const LOAD_BALANCER_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [SSH_PORT, 'SSH'],
]);

/** The range the API server accepts for a NodePort (--service-node-port-range default). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
