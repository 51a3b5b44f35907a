import { shellBody, shellScript } from '../formats/shell';
import { osProfile } from '../os-profiles';
import { GatewayHost, Topology } from '../topology';
import { pairTeardown } from './pair';
import { printIptablesRestore, Ruleset } from '../formats/ruleset';
import { FORWARDING_SYSCTL_FILE, gatewayRuleset, gatewayRuleset6 } from './firewall';

/**
 * What teardown loads in place of a ruleset: the same tables and built-in chains, every policy
 * ACCEPT, no rule (loading it replaces exactly the tables the ruleset set).
 */
export function emptiedRuleset(ruleset: Ruleset): Ruleset {
  return {
    comment: 'k8s-ha-edge gateway after destroy: every table the ruleset set, empty and accepting. Generated from the topology.',
    tables: ruleset.tables.map((table) => ({ name: table.name, chains: table.chains.map((c) => ({ name: c.name, policy: 'ACCEPT' as const, rules: [] })) })),
  };
}

/** empty.rules and empty6.rules: what teardown-gateway.sh restores and persists. */
export function renderEmptyRules(t: Topology, host: GatewayHost = t.gateway.hosts[0]): string {
  return printIptablesRestore(emptiedRuleset(gatewayRuleset(t, host)));
}
export function renderEmpty6Rules(t: Topology): string {
  return printIptablesRestore(emptiedRuleset(gatewayRuleset6(t)));
}

/**
 * teardown-gateway.sh, run at destroy (the gateway is destroyed last): on a gateway of a pair, keepalived
 * stops first (the VIPs move to the peer while this one still forwards), then conntrackd; then the nat and
 * filter tables and the IPv6 filter table back to an empty ACCEPT ruleset, now and at boot, and forwarding off.
 */
export function renderTeardownGateway(t: Topology, host: GatewayHost = t.gateway.hosts[0]): string {
  const persisted = osProfile(host).firewallPersistence;
  return shellScript(
    t.gateway.pair === undefined
      ? `Undoes setup-gateway.sh on ${host.name}: an empty ACCEPT ruleset, forwarding off.`
      : `Undoes setup-gateway.sh on ${host.name}: keepalived and conntrackd stopped (the peer takes the VIPs), an empty ACCEPT ruleset, forwarding off.`,
    'cd "$(dirname "$0")"',
    t.gateway.pair !== undefined && pairTeardown(t, host),
    shellBody('gateway/teardown-gateway.sh', { FORWARDING_SYSCTL_FILE, RULES_V4_FILE: persisted.ipv4.file, RULES_V6_FILE: persisted.ipv6.file }),
  );
}
