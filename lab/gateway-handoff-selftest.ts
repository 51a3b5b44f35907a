/**
 * node --import tsx lab/gateway-handoff-selftest.ts   (as root)
 *
 * A gateway pair's handoff in network namespaces, without the lab (~15 s): renders both gateways'
 * rulesets and transition scripts for the gateway-pair example, then runs
 * lab/gateway-handoff-selftest.sh: nothing is handed off before the peer's MAC address is known; a
 * segment nobody owns goes to the peer once and is dropped there (never handed back, no reset); an
 * inbound (DNAT) and an outbound (SNAT) connection opened through one gateway live on when the VIPs move
 * to the other, which never saw them; and without the handoff the same move breaks both. Exit 1 when a
 * check fails, 2 on bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HANDOFF_CHAIN, HANDOFF_ENTRY_CHAIN, HANDOFF_FROM_PEER_CHAIN, renderHandoffRules, renderHandoffSysctl } from '../lib/gateway/handoff';
import { renderFirewallRules } from '../lib/gateway/firewall';
import { pairOf, renderTransitionScript } from '../lib/gateway/pair';
import { loadTopology } from '../lib/topology';

/** The port of the outside client's own server (an outbound connection through the SNAT). */
const CLIENT_PORT = 8089;

function main(argv: readonly string[]): number {
  if (argv.length > 0) {
    console.error(`arguments: got ${argv.join(' ')}, expected none`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('the gateway handoff selftest needs root (network namespaces)');
    return 2;
  }
  const t = loadTopology({ configPath: resolve(__dirname, '..', 'examples', 'gateway-pair.yaml') });
  const pair = pairOf(t);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-gateway-handoff-selftest-'));
  try {
    const gateways = [pair.master, pair.backup];
    gateways.forEach((g, i) => {
      const peer = gateways[1 - i];
      const name = `g${i + 1}`;
      writeFileSync(join(dir, `${name}.rules`), renderFirewallRules(t, g));
      writeFileSync(join(dir, `${name}.handoff.rules`), renderHandoffRules(g, peer));
      writeFileSync(join(dir, `${name}.sysctl`), renderHandoffSysctl(g));
      // The handoff's rules and the lock in the scratch directory, not in /etc and /run.
      writeFileSync(join(dir, `${name}.sh`), renderTransitionScript(t, g)
        .replace(/^readonly HANDOFF_RULES_FILE=.*$/m, `readonly HANDOFF_RULES_FILE=${join(dir, `${name}.handoff.rules`)}`)
        .replace(/^readonly LOCK_FILE=.*$/m, `readonly LOCK_FILE=${join(dir, `${name}.lock`)}`)
        .replace(/^readonly STATE_FILE=.*$/m, `readonly STATE_FILE=${join(dir, `${name}.state`)}`));
    });
    const env = {
      INSIDE_VIP: t.gateway.inside.address, OUTSIDE_VIP: t.gateway.outside.address,
      G1_INSIDE: pair.master.inside.address, G1_OUTSIDE: pair.master.outside.address,
      G2_INSIDE: pair.backup.inside.address, G2_OUTSIDE: pair.backup.outside.address,
      SERVICE_ADDRESS: t.loadBalancer.vip, SERVICE_PORT: t.loadBalancer.listenPort,
      CLIENT_ADDRESS: t.client.address, CLIENT_PORT,
      INSIDE_PREFIX: pair.insidePrefixLength, OUTSIDE_PREFIX: pair.outsidePrefixLength,
      ENTRY_CHAIN: HANDOFF_ENTRY_CHAIN, HANDOFF_CHAIN, FROM_PEER_CHAIN: HANDOFF_FROM_PEER_CHAIN,
    };
    writeFileSync(join(dir, 'env'), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
    const result = spawnSync('bash', [join(__dirname, 'gateway-handoff-selftest.sh'), dir], { stdio: 'inherit', timeout: 180_000 });
    return result.status === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exit(main(process.argv.slice(2)));
