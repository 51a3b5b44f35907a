/**
 * What verify makes of a host's answers about its health: pure functions of the text a host printed,
 * so they are tested with recorded answers (no host needed).
 */

/** A verdict of one check; `warn` is reported but does not fail verify. */
export interface Verdict {
  readonly result: 'pass' | 'warn' | 'FAIL' | 'skipped';
  readonly detail: string;
}

/**
 * What verify runs for the clock: timedatectl's NTPSynchronized (the kernel's own "synchronised" flag,
 * set by whichever daemon disciplines the clock), else chronyc's leap status, then which time sync
 * daemon is active. Each answer on its own line with a tag, so a missing tool is simply a missing line.
 */
export const CLOCK_COMMAND = [
  'echo "timedatectl $(timedatectl show -p NTPSynchronized --value 2>/dev/null)"',
  'echo "chronyc $(chronyc -n tracking 2>/dev/null | sed -n \'s/^Leap status *: *//p\')"',
  'for unit in chrony chronyd systemd-timesyncd; do if systemctl is-active --quiet "$unit"; then echo "active $unit"; fi; done',
].join('; ');

/**
 * The clock check's verdict from CLOCK_COMMAND's output. Synchronised: pass. Not synchronised: a warning
 * naming the daemon (a daemon only just started needs a few polls; in a container it cannot set the
 * clock at all), not a failure. Neither tool answering: not checked.
 */
export function clockVerdict(output: string): Verdict {
  const field = (tag: string) => output.split('\n').find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1).trim() ?? '';
  const active = output.split('\n').filter((l) => l.startsWith('active ')).map((l) => l.slice('active '.length).trim());
  const daemon = active.length > 0 ? `${active.join(', ')} active` : 'no time sync daemon active';
  const timedatectl = field('timedatectl');
  const chronyc = field('chronyc');
  if (timedatectl === 'yes') return { result: 'pass', detail: `synchronised (timedatectl NTPSynchronized=yes; ${daemon})` };
  // chronyc's leap status: Normal, Insert second or Delete second once synchronised (a leap second pending), else Not synchronised.
  if (timedatectl === '' && ['Normal', 'Insert second', 'Delete second'].includes(chronyc)) return { result: 'pass', detail: `synchronised (chronyc leap status ${chronyc}; ${daemon})` };
  if (timedatectl === 'no' || chronyc !== '') {
    const said = timedatectl === 'no' ? 'timedatectl NTPSynchronized=no' : `chronyc leap status ${chronyc}`;
    return { result: 'warn', detail: `not synchronised (${said}; ${daemon})` };
  }
  return { result: 'skipped', detail: 'not checked: neither timedatectl nor chronyc answered' };
}
