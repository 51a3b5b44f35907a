import { posix } from 'node:path';
import { Bundle, bundleFile as file, sshTarget, StackName } from '../plan/bundle';
import { GatewayHost, Topology } from '../topology';
import { renderFirewall6Rules, renderFirewallRules, renderSetupGateway } from './firewall';
import { peerOf, renderConntrackdConf, renderGatewayKeepalivedConf, renderTransitionScript, TRANSITION_SCRIPT } from './pair';
import { renderHandoffRules, renderHandoffSysctl } from './handoff';
import { renderEmpty6Rules, renderEmptyRules, renderTeardownGateway } from './teardown-gateway';

/**
 * The gateway stack: a bundle per gateway (one, or the two of a pair), each reached on its own inside
 * address: the ruleset and the script that applies it; for a pair, keepalived and conntrackd too.
 */
export function gatewayBundles(t: Topology): Bundle[] {
  return t.gateway.hosts.map((gateway) => ({
    id: gateway.name,
    stack: StackName.GATEWAY,
    target: sshTarget(gateway, gateway.inside.address),
    description: t.gateway.pair === undefined
      ? 'gateway: forwarding, SNAT and DNAT, filtering'
      : 'gateway of a pair: forwarding, SNAT and DNAT, filtering, keepalived and conntrackd',
    files: [
      file('firewall.rules', renderFirewallRules(t, gateway)),
      file('firewall6.rules', renderFirewall6Rules(t)),
      ...(t.gateway.pair === undefined ? [] : pairFiles(t, gateway)),
      file('setup-gateway.sh', renderSetupGateway(t, gateway)),
      file('teardown-gateway.sh', renderTeardownGateway(t, gateway)),
      file('empty.rules', renderEmptyRules(t, gateway)),
      file('empty6.rules', renderEmpty6Rules(t)),
    ],
    run: 'setup-gateway.sh',
    teardown: 'teardown-gateway.sh',
    dependsOn: [],
  }));
}

/** A pair's files on one of its gateways. */
function pairFiles(t: Topology, gateway: GatewayHost) {
  return [
    file('keepalived.conf', renderGatewayKeepalivedConf(t, gateway)),
    file('conntrackd.conf', renderConntrackdConf(t, gateway)),
    // Installed into /etc/keepalived under the same name; run there by keepalived with its notify FIFO.
    file(posix.basename(TRANSITION_SCRIPT), renderTransitionScript(t, gateway), { runsFromStaging: false }),
    file('handoff.rules', renderHandoffRules(gateway, peerOf(t, gateway)!)),
    file('handoff-sysctl.conf', renderHandoffSysctl(gateway)),
  ];
}
