/**
 * node --import tsx lab/in-flight-selftest.ts [LOAD_BALANCERS]   (as root; 2 by default)
 *
 * In-flight forwarding in network namespaces, without the lab (~20 s): renders the rules and script of
 * each load balancer of the seed topology with LOAD_BALANCERS load balancers, then runs
 * lab/in-flight-selftest.sh, which wires them to a switch that rewrites DSCP to 0 (and, in some phases,
 * TTL): stray segments nobody owns get exactly one reset within 1 s whichever load balancer holds the
 * VIP, connections a peer owns are served through the holder, and copies stay bounded with TTL
 * rewritten and in split brain. Exit 1 when a check fails, 2 on bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyLine, lastCopyTtl, renderInFlightRules, renderInFlightScript } from '../lib/load-balancer/in-flight';
import { loadTopology } from '../lib/topology';

function main(argv: readonly string[]): number {
  const count = argv[0] === undefined ? 2 : Number(argv[0]);
  if (!Number.isInteger(count) || count < 2 || count > 5) {
    console.error(`LOAD_BALANCERS: got ${argv[0]}, expected an integer in 2-5`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('the in-flight selftest needs root (network namespaces)');
    return 2;
  }
  const t = loadTopology({
    overrides: { loadBalancer: { hosts: Array.from({ length: count }, (_, i) => ({ name: `lb0${i + 1}`, address: `192.168.10.${40 + 10 * i}`, priority: 100 - 10 * i })) } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-in-flight-selftest-'));
  try {
    // Numbered in the order copies travel, as the selftest expects.
    const line = copyLine(t);
    line.forEach((h, i) => {
      writeFileSync(join(dir, `lb${i + 1}.rules`), renderInFlightRules(t, h));
      // The rules, the lock and the watch's pid in the scratch directory, not in /etc and /run.
      writeFileSync(join(dir, `lb${i + 1}.sh`), renderInFlightScript(t, h)
        .replace(/^readonly RULES_FILE=.*$/m, `readonly RULES_FILE=${join(dir, `lb${i + 1}.rules`)}`)
        .replace(/^readonly LOCK_FILE=.*$/m, `readonly LOCK_FILE=${join(dir, `lb${i + 1}.lock`)}`)
        .replace(/^readonly WATCH_PID_FILE=.*$/m, `readonly WATCH_PID_FILE=${join(dir, `lb${i + 1}.watch`)}`)
        .replace(/^readonly VRRP_INTERFACE=.*$/m, 'readonly VRRP_INTERFACE=ens33'));
    });
    const result = spawnSync('bash', [join(__dirname, 'in-flight-selftest.sh'), dir, t.loadBalancer.vip, String(t.loadBalancer.listenPort), String(lastCopyTtl(t)), ...line.map((h) => h.address)],
      { stdio: 'inherit', timeout: 180_000 });
    return result.status === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exit(main(process.argv.slice(2)));
