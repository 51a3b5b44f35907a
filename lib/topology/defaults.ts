/**
 * Fixed facts that are not config fields. The config's fields and their defaults are declared
 * once, in `config-schema.ts`.
 */

/** Kubernetes minors accepted: those with upstream support and a pkgs.k8s.io repository. */
export const SUPPORTED_KUBERNETES_MINORS: readonly number[] = [35, 36, 37];

/** sshd's port on every host: terraform provisions over it, and the gateway lets it in from the inside. */
export const SSH_PORT = 22;

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
