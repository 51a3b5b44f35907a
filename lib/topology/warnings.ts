import { Topology } from './topology';

/**
 * What a valid topology still lacks, for synth to print on stderr: it synthesizes, but not the
 * system the user may think. Each as "path: what, consequence".
 */
export function topologyWarnings(t: Topology): string[] {
  const warnings: string[] = [];
  if (t.loadBalancer.hosts.length === 1) {
    warnings.push('loadBalancer.hosts: one load balancer, so there is no high availability: the VIP has nowhere to move when it fails'
      + (t.loadBalancer.vrrp.unicast ? ' (vrrp.unicast has no peer and is left out of keepalived.conf)' : ''));
  }
  return warnings;
}
