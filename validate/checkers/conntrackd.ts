/**
 * conntrackd.conf → conntrackd itself, as on a gateway of a pair after setup: conntrackd has no
 * config-test mode, so the check starts the daemon with the file in throwaway namespaces (`unshare
 * --net --mount --pid --fork`: a network namespace where the file's sync interface exists with its
 * address, a private /run for the lock file and the control socket), asks the running daemon for its
 * statistics (`conntrackd -s`, which only a daemon that parsed the file and bound its sync socket
 * answers), and stops it (`conntrackd -k`). A syntax error, an unknown option, an address the
 * interface does not have: the daemon exits (or never answers) and the check fails with its log.
 * Nothing outside the namespaces changes; they vanish with the process.
 */
import { readFileSync } from 'node:fs';
import { CheckResult, describeFailure, guarded, meaningfulLines, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which } from './common';

export const CONNTRACKD_TOOLS: readonly ToolNeed[] = [
  { command: 'conntrackd', provider: 'conntrackd' },
  { command: 'ip', provider: 'iproute2' },
  ...NAMESPACE_TOOLS,
];

const TOOL = 'conntrackd (started in a netns, conntrackd -s)';

/** The sync link the file names: its interface and this host's address on it. */
export function conntrackdSyncLink(text: string): { readonly interface?: string; readonly address?: string } {
  const lines = text.split('\n').map((l) => l.replace(/#.*$/, '').trim());
  const value = (key: string) => lines.map((l) => new RegExp(`^${key}\\s+(\\S+)$`).exec(l)).find((m) => m !== null)?.[1];
  return { interface: value('Interface'), address: value('IPv4_address') };
}

const IN_NAMESPACE = [
  'set -e',
  'conntrackd="$1"; conf="$2"; ifname="$3"; address="$4"',
  'ip link set lo up',
  // A veth pair: the kernel may lack dummy links; both ends exist only in this namespace.
  'ip link add "$ifname" type veth peer name ctdpeer0',
  'ip link set "$ifname" up; ip link set ctdpeer0 up',
  'ip addr add "$address/32" dev "$ifname"',
  'mount -t tmpfs tmpfs /run; mkdir -p /run/lock',
  '"$conntrackd" -C "$conf" > /run/conntrackd.log 2>&1 &',
  'pid=$!',
  'i=0',
  'while [ "$i" -lt 50 ] && kill -0 "$pid" 2>/dev/null && ! "$conntrackd" -C "$conf" -s >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done',
  'status=0',
  'if ! "$conntrackd" -C "$conf" -s >/dev/null 2>&1; then status=1; fi',
  '"$conntrackd" -C "$conf" -k >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true',
  'wait "$pid" || status=1',
  // Its log, but for the notices a healthy start and stop print.
  'grep -v "\\[notice\\]" /run/conntrackd.log || true',
  'exit "$status"',
].join('\n');

/** Starts conntrackd with one conntrackd.conf in throwaway namespaces; never throws. */
export function checkConntrackdConf(file: string): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(CONNTRACKD_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    const link = conntrackdSyncLink(readFileSync(file, 'utf8'));
    if (link.interface === undefined || link.address === undefined) {
      return { ok: false, tool: TOOL, detail: 'no sync link in the file: expected Interface and IPv4_address in its Sync transport block' };
    }
    const result = run(
      which('unshare')!,
      ['--net', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', IN_NAMESPACE, 'sh',
        which('conntrackd')!, file, link.interface, link.address],
      { timeoutMs: 30_000 },
    );
    const printed = meaningfulLines(result.stdout + result.stderr);
    if (result.status === 0 && printed.length === 0) return { ok: true, tool: TOOL, detail: `daemon started and answered (sync on ${link.interface} ${link.address})` };
    return { ok: false, tool: TOOL, detail: describeFailure(result, printed.join('\n')) };
  });
}
