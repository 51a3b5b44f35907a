import { shellBody, shellScript } from '../formats/shell';
import { osProfile } from '../os-profiles';
import { Topology } from '../topology';
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
export function renderEmptyRules(t: Topology): string {
  return printIptablesRestore(emptiedRuleset(gatewayRuleset(t)));
}
export function renderEmpty6Rules(t: Topology): string {
  return printIptablesRestore(emptiedRuleset(gatewayRuleset6(t)));
}

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
