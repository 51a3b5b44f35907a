/**
 * nginx.conf → `nginx -t` with Debian's nginx and libnginx-mod-stream.
 *
 * A file rendered for the rhel family loads modules from /usr/share/nginx/modules/*.conf and
 * runs as `user nginx;`. On Debian those two lines are mapped, and only those, to the Debian
 * equivalents (/etc/nginx/modules-enabled/*.conf, `user www-data;`); the table says so.
 *
 * `nginx -t` opens every log file and writes the pid file, so it runs in a throwaway mount
 * (and network) namespace with an empty tmpfs over each directory it would write to:
 * nothing in /etc/nginx, /var/log or /run is touched, and nginx is never started.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { DEBIAN_PROFILE, OS_PROFILES } from '../../lib/render/os-profiles';
import { CheckResult, describeFailure, guarded, meaningfulLines, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which, withTempDir } from './common';

export const NGINX_TOOLS: readonly ToolNeed[] = [{ command: 'nginx', provider: 'nginx' }, ...NAMESPACE_TOOLS];
/** The profile of the nginx that runs the check: Debian's, as installed by install-tools.sh. */
const CHECKING = DEBIAN_PROFILE.nginx;
/** Where Debian's libnginx-mod-stream puts the module and its loader snippet. */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const STREAM_LOADER_DIR = dirname(CHECKING.moduleInclude);

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The only lines that differ between the families' nginx.conf (the profiles' nginx user and
 * module include), and the checking nginx's equivalent: taken from the profiles, never copied.
 */
const RHEL_TO_DEBIAN: ReadonlyArray<{ readonly rhel: RegExp; readonly debian: string }> = Object.values(OS_PROFILES)
  .filter((profile) => profile.nginx.user !== CHECKING.user || profile.nginx.moduleInclude !== CHECKING.moduleInclude)
  .flatMap(({ nginx }) => [
    { rhel: new RegExp(`^(\\s*)include\\s+${escaped(nginx.moduleInclude)};\\s*$`), debian: `include ${CHECKING.moduleInclude};` },
    { rhel: new RegExp(`^(\\s*)user\\s+${escaped(nginx.user)};\\s*$`), debian: `user ${CHECKING.user};` },
  ]);

/** Directories nginx -t writes to that are not named in the file (Debian's compiled-in paths). */
const DEFAULT_WRITABLE_DIRS = ['/var/log/nginx', '/var/lib/nginx', '/run'];

/** The file with the rhel-only lines replaced by Debian's; `mapped` counts the replaced lines. */
export function mapRhelToDebian(text: string): { text: string; mapped: number } {
  let mapped = 0;
  const lines = text.split('\n').map((line) => {
    for (const { rhel, debian } of RHEL_TO_DEBIAN) {
      const match = rhel.exec(line);
      if (match) {
        mapped++;
        return `${match[1]}${debian}`;
      }
    }
    return line;
  });
  return { text: lines.join('\n'), mapped };
}

/** Directories of the log and pid files the configuration names (absolute paths only). */
function writtenDirs(text: string): string[] {
  const dirs = new Set<string>(DEFAULT_WRITABLE_DIRS);
  for (const match of text.matchAll(/^\s*(?:error_log|access_log|pid)\s+([^\s;]+)/gm)) {
    const path = match[1];
    if (isAbsolute(path)) dirs.add(dirname(path));
  }
  return [...dirs].filter((dir) => existsSync(dir)).sort();
}

const IN_NAMESPACE = [
  'set -e',
  'nginx="$1"; conf="$2"; shift 2',
  // An empty tmpfs over every directory nginx -t writes to, in this mount namespace only.
  'for dir in "$@"; do mount -t tmpfs -o mode=0755 k8s-ha-edge-validate "$dir"; done',
  'exec "$nginx" -t -e stderr -c "$conf"',
].join('\n');

/** "2026/01/02 03:04:05 [emerg] 123#123: msg" → "[emerg] msg". */
function withoutTimestamp(line: string): string {
  return line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: /, '$1 ');
}

/** `nginx -t` on one nginx.conf; never throws. */
export function checkNginxConf(file: string): CheckResult {
  let tool = 'nginx -t';
  return guarded(tool, () => {
    const missing = missingTools(NGINX_TOOLS);
    if (missing) return { ok: false, tool, detail: missing };
    const original = readFileSync(file, 'utf8');
    const { text, mapped } = mapRhelToDebian(original);
    if (mapped > 0) tool = 'nginx -t (rhel paths mapped)';
    if (/^\s*stream\s*\{/m.test(text) && (!existsSync(STREAM_MODULE) || !existsSync(STREAM_LOADER_DIR))) {
      return { ok: false, tool, detail: `${STREAM_MODULE} not found: install the Debian package libnginx-mod-stream (bash validate/install-tools.sh)` };
    }
    return withTempDir('nginx', (dir) => {
      const copy = join(dir, basename(file));
      writeFileSync(copy, text);
      const result = run(which('unshare')!, ['--mount', '--net', '--propagation', 'private', 'sh', '-c', IN_NAMESPACE, 'sh', which('nginx')!, copy, ...writtenDirs(text)], {
        timeoutMs: 30_000,
      });
      const output = result.stderr + result.stdout;
      // Any [warn] or worse is a finding too, even when nginx exits 0.
      const problems = meaningfulLines(output).filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l));
      const ok = result.status === 0 && problems.length === 0 && /test is successful/.test(output);
      if (ok) return { ok, tool, detail: mapped > 0 ? `syntax ok, test successful (${mapped} rhel lines mapped)` : 'syntax ok, test successful' };
      const ordered = [...problems, ...meaningfulLines(output).filter((l) => !problems.includes(l))].map(withoutTimestamp);
      return { ok, tool, detail: describeFailure(result, ordered.join('\n')).split(copy).join(file) };
    });
  });
}
