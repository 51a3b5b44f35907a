/**
 * *.service, *.timer → systemd-analyze verify. A unit's ExecStart= names a file that the bundle's
 * setup installs on the host (/usr/local/sbin/…, /etc/keepalived/…), which does not exist where
 * validate runs: that one finding is listed, not failed. Every other finding about the unit fails.
 */
import { basename } from 'node:path';
import { CheckResult, describeFailure, guarded, missingTools, run, ToolNeed, which } from './common';

export const SYSTEMD_TOOLS: readonly ToolNeed[] = [{ command: 'systemd-analyze', provider: 'systemd' }];
const TOOL = 'systemd-analyze verify';

/** "<unit>: Command /path is not executable: No such file or directory": the file is the host's, installed by setup. */
const NOT_INSTALLED_HERE = /: Command (\/\S+) is not executable: No such file or directory$/;

/** systemd-analyze verify on one unit file; never throws. */
export function checkSystemdUnit(file: string): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(SYSTEMD_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    const result = run(which('systemd-analyze')!, ['verify', '--man=no', file], { timeoutMs: 60_000 });
    if (result.error) return { ok: false, tool: TOOL, detail: describeFailure(result) };
    const unit = basename(file);
    // Only what is about this unit: verify also reports on host units it loads as dependencies.
    const findings = `${result.stdout}\n${result.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l.includes(unit));
    const notInstalled = findings.filter((l) => NOT_INSTALLED_HERE.test(l));
    const failing = findings.filter((l) => !NOT_INSTALLED_HERE.test(l));
    if (failing.length > 0) return { ok: false, tool: TOOL, detail: failing.join('\n') };
    const note = notInstalled.map((l) => NOT_INSTALLED_HERE.exec(l)![1]);
    return { ok: true, tool: TOOL, detail: note.length > 0 ? `no findings but the command(s) setup installs on the host: ${note.join(', ')}` : 'no findings' };
  });
}
