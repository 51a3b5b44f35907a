import { Bundle, bundleFile as file, sshTarget, StackName } from '../plan/bundle';
import { Topology } from '../topology';
import { renderFirewall6Rules, renderFirewallRules, renderSetupGateway } from './firewall';
import { renderEmpty6Rules, renderEmptyRules, renderTeardownGateway } from './teardown-gateway';

/** The gateway stack: the ruleset and the script that applies it, reached on the inside address. */
export function gatewayBundles(t: Topology): Bundle[] {
  const gateway = t.gateway;
  return [{
    id: gateway.name,
    stack: StackName.GATEWAY,
    target: sshTarget(gateway, gateway.inside.address),
    description: 'gateway: forwarding, SNAT and DNAT, filtering',
    files: [
      file('firewall.rules', renderFirewallRules(t)),
      file('firewall6.rules', renderFirewall6Rules(t)),
      file('setup-gateway.sh', renderSetupGateway(t)),
      file('teardown-gateway.sh', renderTeardownGateway(t)),
      file('empty.rules', renderEmptyRules(t)),
      file('empty6.rules', renderEmpty6Rules(t)),
    ],
    run: 'setup-gateway.sh',
    teardown: 'teardown-gateway.sh',
    dependsOn: [],
  }];
}
