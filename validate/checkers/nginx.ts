/**
 * nginx.conf → `nginx -t` with Debian's nginx and libnginx-mod-stream.
 *
 * A file rendered for another family (rhel: modules from /usr/share/nginx/modules/*.conf,
 * `user nginx;`) cannot load in Debian's nginx. Its Debian twin is checked instead: the same
 * nginx model printed with the Debian profile's nginx facts (see `nginxTwin` in validate/main.ts,
 * which first proves the shipped file is that model printed with the host's own profile).
 * The table says so.
 *
 * `nginx -t` opens every log file and writes the pid file, so it runs in a throwaway mount
 * (and network) namespace with an empty tmpfs over each directory it would write to:
 * nothing in /etc/nginx, /var/log or /run is touched, and nginx is never started.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { DEBIAN_PROFILE } from '../../lib/os-profiles';
import { CheckResult, describeFailure, guarded, meaningfulLines, missingTools, NAMESPACE_TOOLS, run, ToolNeed, which, withTempDir } from './common';

export const NGINX_TOOLS: readonly ToolNeed[] = [{ command: 'nginx', provider: 'nginx' }, ...NAMESPACE_TOOLS];
/** The profile of the nginx that runs the check: Debian's, as installed by install-tools.sh. */
export const CHECKING_NGINX = DEBIAN_PROFILE.nginx;
/** Where Debian's libnginx-mod-stream puts the module and its loader snippet. */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const STREAM_LOADER_DIR = dirname(CHECKING_NGINX.moduleInclude);

/** Directories nginx -t writes to that are not named in the file (Debian's compiled-in paths). */
const DEFAULT_WRITABLE_DIRS = ['/var/log/nginx', '/var/lib/nginx', '/run'];

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

/** What to test instead of a file that was rendered for another family. */
export interface NginxTwin {
  /** The same model printed with the checking nginx's profile. */
  readonly text: string;
  /** The family the shipped file was rendered for, for the table. */
  readonly family: string;
}

/** `nginx -t` on one nginx.conf, or on its Debian twin when one is given; never throws. */
export function checkNginxConf(file: string, twin?: NginxTwin): CheckResult {
  const tool = twin ? `nginx -t (Debian twin of the ${twin.family} model)` : 'nginx -t';
  return guarded(tool, () => {
    const missing = missingTools(NGINX_TOOLS);
    if (missing) return { ok: false, tool, detail: missing };
    const text = twin ? twin.text : readFileSync(file, 'utf8');
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
      if (ok) return { ok, tool, detail: 'syntax ok, test successful' };
      const ordered = [...problems, ...meaningfulLines(output).filter((l) => !problems.includes(l))].map(withoutTimestamp);
      return { ok, tool, detail: describeFailure(result, ordered.join('\n')).split(copy).join(file) };
    });
  });
}
