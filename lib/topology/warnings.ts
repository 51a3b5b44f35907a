import { KubeProxyMode } from './config-schema';
import { Topology } from './topology';

/**
 * Choices that are valid but that the operator should hear about at synth time: each entry
 * names the config path and says why. Printed on stderr by `npm run synth`; nothing stops.
 */
export interface TopologyWarning {
  readonly path: string;
  readonly message: string;
}

interface WarningRule {
  readonly path: string;
  readonly applies: (t: Topology) => boolean;
  readonly message: (t: Topology) => string;
}

/** kube-proxy's ipvs mode: deprecated in 1.35 and on its way out (KEP-5495, kubernetes/enhancements#5495). */
const IPVS_DEPRECATION =
  'ipvs is deprecated since Kubernetes 1.35 (KEP-5495): 1.37 puts it behind the KubeProxyIPVS feature gate, ' +
  'which is planned to be off by default in 1.40 and locked off in 1.43, after which kube-proxy refuses to start in ipvs mode. ' +
  'Use nftables (the default here) or iptables.';

const WARNINGS: readonly WarningRule[] = [
  {
    path: 'loadBalancer.hosts',
    applies: (t) => t.loadBalancer.hosts.length === 1,
    message: (t) => 'one load balancer, so there is no high availability: the VIP has nowhere to move when it fails'
      + (t.loadBalancer.vrrp.unicast ? ' (vrrp.unicast has no peer and is left out of keepalived.conf)' : ''),
  },
  {
    path: 'kubernetes.kubeProxyMode',
    applies: (t) => t.kubernetes.kubeProxyMode === KubeProxyMode.IPVS,
    message: () => IPVS_DEPRECATION,
  },
];

/** Every warning the topology earns, in table order. */
export function topologyWarnings(t: Topology): TopologyWarning[] {
  return WARNINGS.filter((w) => w.applies(t)).map((w) => ({ path: w.path, message: w.message(t) }));
}

/** "warning: path: message", one line per warning, as synth prints them. */
export function formatWarning(w: TopologyWarning): string {
  return `warning: ${w.path}: ${w.message}`;
}
