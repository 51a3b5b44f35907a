/**
 * keepalived.conf → `keepalived --config-test`, as on a load balancer after setup-lb.sh:
 * the interfaces the file names exist, the bundle's check scripts are installed in
 * /etc/keepalived (root-owned, 0755), and the `script_user` exists.
 *
 * It runs in throwaway namespaces (`unshare --net --mount --pid --fork`), which vanish with
 * the process: the interfaces are dummy (or veth) links in the new network namespace, the
 * scripts and the passwd/group files with the script user are bind mounts in the new mount
 * namespace. Nothing in the root namespaces or on the root filesystem changes.
 *
 * keepalived is PID 1 of a new PID namespace because Debian 12's keepalived 2.2.7 sends
 * itself SIGTERM at the end of --config-test whenever script security checks a script run
 * as another user ("Terminated", exit 143, even for a valid file; acassen/keepalived#2617,
 * fixed in 2.2.8 by commit aae8e91). A namespace's init ignores signals it sends itself
 * without a handler, so the test runs to its end and its real exit status is seen.
 * (setup-lb.sh's own `keepalived --config-test` on a Debian 12 host is not so protected.)
 *
 * keepalived --config-test exits non-zero on an unknown keyword, a missing brace, a
 * non-existent interface, a missing script or user (found empirically with 2.2.7); the check
 * also fails on any line it prints, so a warning that does not change the status is caught.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { CheckResult, describeFailure, guarded, meaningfulLines, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which, withTempDir } from './common';

export const KEEPALIVED_TOOLS: readonly ToolNeed[] = [
  { command: 'keepalived', provider: 'keepalived' },
  { command: 'ip', provider: 'iproute2' },
  ...NAMESPACE_TOOLS,
];

const TOOL = 'keepalived --config-test (netns)';
const CONFIG_DIR = '/etc/keepalived';

export interface KeepalivedCheckOptions {
  /** Where the scripts the file runs from /etc/keepalived are; default: the file's directory (its bundle). */
  readonly scriptDir?: string;
}

/** What the file needs from the host it runs on. */
export interface KeepalivedNeeds {
  readonly interfaces: string[];
  /** Absolute paths of the scripts in /etc/keepalived that the file runs. */
  readonly scripts: string[];
  readonly scriptUser?: { readonly user: string; readonly group?: string };
}

function stripComment(line: string): string {
  return line.replace(/[#!].*$/, '');
}

export function keepalivedNeeds(text: string): KeepalivedNeeds {
  const interfaces = new Set<string>();
  const scripts = new Set<string>();
  let scriptUser: KeepalivedNeeds['scriptUser'];
  for (const raw of text.split('\n')) {
    const line = stripComment(raw);
    for (const match of line.matchAll(/(?:^|\s)(?:interface|dev)\s+(\S+)/g)) interfaces.add(match[1]);
    const script = /^\s*(?:script|vrrp_notify_fifo_script)\s+"?([^"\s]+)/.exec(line);
    if (script && posix.dirname(script[1]) === CONFIG_DIR) scripts.add(script[1]);
    const user = /^\s*script_user\s+(\S+)(?:\s+(\S+))?/.exec(line);
    if (user) scriptUser = { user: user[1], group: user[2] };
  }
  return { interfaces: [...interfaces].sort(), scripts: [...scripts].sort(), scriptUser };
}

/** A copy of /etc/passwd and /etc/group with the user (and group) added, when missing. */
function withScriptUser(dir: string, user: string, group: string | undefined): { passwd?: string; group?: string; note?: string } {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const groups = readFileSync('/etc/group', 'utf8');
  const hasEntry = (db: string, name: string) => db.split('\n').some((l) => l.split(':')[0] === name);
  const groupName = group ?? user;
  const needUser = !hasEntry(passwd, user);
  const needGroup = !hasEntry(groups, groupName);
  if (!needUser && !needGroup) return {};
  const used = new Set([...passwd.split('\n'), ...groups.split('\n')].map((l) => Number(l.split(':')[2])).filter((n) => !Number.isNaN(n)));
  let id = 64990;
  while (used.has(id)) id--;
  const out: { passwd?: string; group?: string; note?: string } = {};
  if (needGroup) {
    out.group = join(dir, 'group');
    writeFileSync(out.group, `${groups.replace(/\n?$/, '\n')}${groupName}:x:${id}:\n`);
  }
  if (needUser) {
    const gidLine = groups.split('\n').find((l) => l.split(':')[0] === groupName);
    const gid = needGroup ? id : Number(gidLine?.split(':')[2]);
    out.passwd = join(dir, 'passwd');
    writeFileSync(out.passwd, `${passwd.replace(/\n?$/, '\n')}${user}:x:${id}:${gid}::/nonexistent:/usr/sbin/nologin\n`);
  }
  out.note = `user ${user} added as setup-lb.sh does`;
  return out;
}

const IN_NAMESPACE = [
  'set -e',
  'keepalived="$1"; conf="$2"; log="$3"; etc="$4"; passwd="$5"; group="$6"; shift 6',
  'n=0',
  'for ifname in "$@"; do',
  '  if ip link show "$ifname" >/dev/null 2>&1; then continue; fi',
  // dummy where the kernel has it, else a veth pair (both exist only in this namespace)
  '  if ! ip link add "$ifname" type dummy 2>/dev/null; then',
  '    n=$((n + 1)); ip link add "$ifname" type veth peer name "kavpeer$n"',
  '  fi',
  '  ip link set "$ifname" up',
  'done',
  'if [ -n "$etc" ]; then mount --bind "$etc" /etc/keepalived; fi',
  'if [ -n "$passwd" ]; then mount --bind "$passwd" /etc/passwd; fi',
  'if [ -n "$group" ]; then mount --bind "$group" /etc/group; fi',
  'exec "$keepalived" --config-test="$log" --use-file "$conf"',
].join('\n');

/** `keepalived --config-test` on one keepalived.conf; never throws. */
export function checkKeepalivedConf(file: string, options: KeepalivedCheckOptions = {}): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(KEEPALIVED_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    if (!existsSync(CONFIG_DIR)) return { ok: false, tool: TOOL, detail: `${CONFIG_DIR} not found: install the Debian package keepalived` };
    const text = readFileSync(file, 'utf8');
    const needs = keepalivedNeeds(text);
    const scriptDir = options.scriptDir ?? dirname(file);
    return withTempDir('keepalived', (dir) => {
      const notes: string[] = [];
      // The scripts as setup-lb.sh installs them: root-owned, 0755, in a root-owned 0755 directory.
      let etc = '';
      if (needs.scripts.length > 0) {
        etc = join(dir, 'etc-keepalived');
        mkdirSync(etc, { mode: 0o755 });
        chmodSync(etc, 0o755);
        for (const script of needs.scripts) {
          const source = join(scriptDir, basename(script));
          if (!existsSync(source)) {
            notes.push(`${basename(script)} is not in ${scriptDir}`);
            continue;
          }
          copyFileSync(source, join(etc, basename(script)));
          chmodSync(join(etc, basename(script)), 0o755);
          notes.push(`${basename(script)} from the bundle`);
        }
      }
      const users = needs.scriptUser ? withScriptUser(dir, needs.scriptUser.user, needs.scriptUser.group) : {};
      if (users.note) notes.push(users.note);
      const log = join(dir, 'config-test.log');
      const result = run(
        which('unshare')!,
        ['--net', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', IN_NAMESPACE, 'sh',
          which('keepalived')!, file, log, etc, users.passwd ?? '', users.group ?? '', ...needs.interfaces],
        { timeoutMs: 30_000 },
      );
      const logged = existsSync(log) ? readFileSync(log, 'utf8') : '';
      const printed = meaningfulLines(logged + '\n' + result.stderr + result.stdout);
      notes.unshift(`interfaces ${needs.interfaces.join(', ') || '(none)'}`);
      if (result.status === 0 && printed.length === 0) return { ok: true, tool: TOOL, detail: `config ok (${notes.join('; ')})` };
      return { ok: false, tool: TOOL, detail: `${describeFailure(result, printed.join('\n'))}\n(${notes.join('; ')})` };
    });
  });
}
