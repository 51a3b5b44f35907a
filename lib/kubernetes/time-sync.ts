import { Topology } from '../topology';
import { OsProfile } from '../os-profiles';
import { ensurePackages } from '../os-profiles/packages';
import { lines, ShellPart, shellBody } from '../formats/shell';

/** The first line of a chrony.conf this project wrote: how time-sync.sh tells it from the distribution's. */
const WRITTEN_MARK = '# Written by k8s-ha-edge from timeSync.servers';

/**
 * chrony.conf for the topology's NTP servers, or undefined when it names none (the family's own file,
 * with its pool, is left as it is). Besides the servers, what every family's stock file sets: the drift
 * file, a step at start-up (a node booted with a wrong clock is put right at once, not slewed for hours),
 * and the hardware clock kept in sync.
 */
export function renderChronyConf(timeSync: Topology['timeSync'], profile: OsProfile): string | undefined {
  if (timeSync.servers.length === 0) return undefined;
  return lines(
    `${WRITTEN_MARK}; the file that was here is kept as ${profile.timeSync.config}.k8s-ha-edge.orig.`,
    ...timeSync.servers.map((s) => `server ${s.address} iburst`),
    `driftfile ${profile.timeSync.driftFile}`,
    '# Step the clock when it is more than 1 s off, in the first three updates only; slew it afterwards.',
    'makestep 1 3',
    'rtcsync',
    'logdir /var/log/chrony',
  );
}

/** When time-sync.sh last restarted chronyd: under /run, so the first run after a boot restarts it once. */
const CHRONY_STAMP = '/run/k8s-ha-edge-chrony.restarted';

/**
 * Shell that installs chrony, puts chrony.conf (when the bundle has one) in place and keeps chronyd
 * enabled and running. `stamp`: where the last restart is recorded (a test gives its own directory).
 */
export function timeSyncSetup(timeSync: Topology['timeSync'], profile: OsProfile, stamp = CHRONY_STAMP): Array<ShellPart | string> {
  return [
    ensurePackages(profile.packageManager, profile.timeSync.packages),
    shellBody('kubernetes/time-sync.sh', {
      CHRONY_CONFIG: profile.timeSync.config,
      CHRONY_SERVICE: profile.timeSync.service,
      TIME_SERVERS_SET: timeSync.servers.length > 0 ? 'yes' : 'no',
      CHRONY_MARK: WRITTEN_MARK,
      CHRONY_STAMP: stamp,
    }),
  ];
}
