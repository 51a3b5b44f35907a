import { lines, scriptHeader } from '../formats/shell';
import { osProfile } from '../os-profiles';
import { Topology } from '../topology';
import { FORWARDING_SYSCTL_FILE } from './firewall';

/** An empty ruleset that accepts everything, for the tables firewall.rules sets. */
const EMPTY_ACCEPT_RULESET = [
  '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', 'COMMIT',
  '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT',
].join('\n');

/** The same for IPv6: firewall6.rules sets only the filter table. */
const EMPTY_ACCEPT_RULESET6 = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT'].join('\n');

/**
 * teardown-gateway.sh, run at destroy (the gateway is destroyed last): the nat and filter tables
 * and the IPv6 filter table back to an empty ACCEPT ruleset, now and at boot, and forwarding off.
 */
export function renderTeardownGateway(t: Topology): string {
  const persisted = osProfile(t.gateway).firewallPersistence;
  return lines(
    scriptHeader(`Undoes setup-gateway.sh on ${t.gateway.name}: an empty ACCEPT ruleset, forwarding off.`),
    'cd "$(dirname "$0")"',
    `printf '%s\\n' ${EMPTY_ACCEPT_RULESET.split('\n').map((l) => `'${l}'`).join(' ')} > empty.rules`,
    `printf '%s\\n' ${EMPTY_ACCEPT_RULESET6.split('\n').map((l) => `'${l}'`).join(' ')} > empty6.rules`,
    'iptables-restore < empty.rules',
    'ip6tables-restore < empty6.rules',
    `install -D -m 0600 empty.rules ${persisted.ipv4.file}`,
    `install -D -m 0600 empty6.rules ${persisted.ipv6.file}`,
    `rm -f ${FORWARDING_SYSCTL_FILE}`,
    'sysctl --quiet -w net.ipv4.ip_forward=0',
  );
}
