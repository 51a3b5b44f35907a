import { shellBody, shellScript } from '../formats/shell';
import { osProfile } from '../os-profiles';
import { Topology } from '../topology';
import { FORWARDING_SYSCTL_FILE } from './firewall';

/**
 * teardown-gateway.sh, run at destroy (the gateway is destroyed last): the nat and filter tables
 * and the IPv6 filter table back to an empty ACCEPT ruleset, now and at boot, and forwarding off.
 */
export function renderTeardownGateway(t: Topology): string {
  const persisted = osProfile(t.gateway).firewallPersistence;
  return shellScript(
    `Undoes setup-gateway.sh on ${t.gateway.name}: an empty ACCEPT ruleset, forwarding off.`,
    'cd "$(dirname "$0")"',
    shellBody('gateway/teardown-gateway.sh', { FORWARDING_SYSCTL_FILE, RULES_V4_FILE: persisted.ipv4.file, RULES_V6_FILE: persisted.ipv6.file }),
  );
}
