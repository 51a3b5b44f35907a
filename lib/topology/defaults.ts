/**
 * Fixed facts that are not config fields. The config's fields and their defaults are declared
 * once, in `config-schema.ts`.
 */

/** Kubernetes minors accepted: those with upstream support and a pkgs.k8s.io repository. */
export const SUPPORTED_KUBERNETES_MINORS: readonly number[] = [35, 36, 37];

/** sshd's port on every host: terraform provisions over it, and the gateway lets it in from the inside. */
export const SSH_PORT = 22;

/**
 * The flannel release whose manifest k8s-ha-edge ships (lib/kubernetes/kube-flannel-v0.28.9.ts): with
 * `kubernetes.flannelManifestSource: bundled` (the default) this is the only flannelVersion accepted.
 */
export const BUNDLED_FLANNEL_VERSION = 'v0.28.9';

/** Where a flannel release's kube-flannel.yml is published (a release asset, built at release time). */
export function flannelManifestUrlOf(flannelVersion: string): string {
  return `https://github.com/flannel-io/flannel/releases/download/${flannelVersion}/kube-flannel.yml`;
}

/** The cluster's DNS domain (kubeadm's default, spelled out so the config says it). */
export const CLUSTER_DNS_DOMAIN = 'cluster.local';

/** Ports the load balancers themselves use, which the LB listen port must not take. */
export const LOAD_BALANCER_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [SSH_PORT, 'SSH'],
]);

/** The range the API server accepts for a NodePort (--service-node-port-range default). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/**
 * TCP ports the control plane already uses, which the API server port must not take
 * (kubeadm's defaults; kube-proxy and the kubelet run on the control plane too).
 */
export const CONTROL_PLANE_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [SSH_PORT, 'SSH'],
  [2379, "etcd's client port"],
  [2380, "etcd's peer port"],
  [10248, "the kubelet's healthz port"],
  [10249, "kube-proxy's metrics port"],
  [10250, "the kubelet's API"],
  [10256, "kube-proxy's health port"],
  [10257, "kube-controller-manager's port"],
  [10259, "kube-scheduler's port"],
]);

/**
 * Directories a workload's hostPath must not be: the Pods mount it and push-page.sh writes
 * index.html into it, on every worker. `subtree`: nothing below it either.
 */
export const SYSTEM_DIRECTORIES: ReadonlyArray<{ readonly path: string; readonly subtree: boolean }> = [
  ...['/', '/home', '/mnt', '/media', '/opt', '/srv', '/tmp', '/var', '/var/lib', '/var/log', '/var/tmp']
    .map((path) => ({ path, subtree: false })),
  ...['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/proc', '/root', '/run', '/sbin', '/sys', '/usr',
    '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/containerd', '/var/run']
    .map((path) => ({ path, subtree: true })),
];
