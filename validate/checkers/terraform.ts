/**
 * cdktf.out/stacks/<stack> → `terraform init -input=false && terraform validate`.
 *
 * It runs on a temporary copy of the stack (without .terraform/ or state), with
 * TF_IN_AUTOMATION=1 and TF_DATA_DIR in the temporary directory, so the synthesized output
 * is left as it was. A stack of `terraform_data` resources needs no provider, so init
 * downloads nothing; a stack that needs one would fail here, since no registry is reachable.
 */
import { cpSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckResult, describeFailure, guarded, missingTools, run, ToolNeed, which, withTempDir } from './common';

export const TERRAFORM_TOOLS: readonly ToolNeed[] = [{ command: 'terraform', provider: 'terraform (not in Debian: HashiCorp release binary in /usr/local/bin)' }];
const TOOL = 'terraform init + validate';
/** Never copied: terraform's working state of a previous run. */
const SKIPPED = new Set(['.terraform', '.terraform.lock.hcl', 'terraform.tfstate', 'terraform.tfstate.backup']);

interface Diagnostic {
  readonly severity: string;
  readonly summary: string;
  readonly detail?: string;
  readonly range?: { readonly filename?: string; readonly start?: { readonly line?: number } };
}

function describeDiagnostic(d: Diagnostic): string {
  const where = d.range?.filename ? ` (${d.range.filename}${d.range.start?.line ? `:${d.range.start.line}` : ''})` : '';
  return `${d.severity}: ${d.summary}${where}${d.detail ? `: ${d.detail.split('\n')[0]}` : ''}`;
}

/** `terraform init` and `terraform validate` on one stack directory; never throws. */
export function checkTerraformStack(stackDir: string): CheckResult {
  return guarded(TOOL, () => {
    const missing = missingTools(TERRAFORM_TOOLS);
    if (missing) return { ok: false, tool: TOOL, detail: missing };
    if (!existsSync(join(stackDir, 'cdk.tf.json')) && !existsSync(join(stackDir, 'main.tf'))) {
      return { ok: false, tool: TOOL, detail: `no cdk.tf.json or main.tf in ${stackDir}` };
    }
    const terraform = which('terraform')!;
    return withTempDir('terraform', (dir) => {
      const work = join(dir, basename(stackDir));
      cpSync(stackDir, work, { recursive: true, filter: (source) => !SKIPPED.has(basename(source)) });
      const env = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_DATA_DIR: join(dir, 'tf-data'), CHECKPOINT_DISABLE: '1' };
      const init = run(terraform, ['init', '-input=false', '-no-color'], { cwd: work, env, timeoutMs: 120_000 });
      if (init.status !== 0 || init.error) return { ok: false, tool: TOOL, detail: `terraform init failed:\n${describeFailure(init, errorsFirst(init.stderr + init.stdout))}` };
      const validate = run(terraform, ['validate', '-no-color', '-json'], { cwd: work, env, timeoutMs: 120_000 });
      let report: { valid?: boolean; error_count?: number; warning_count?: number; diagnostics?: Diagnostic[] } | undefined;
      try {
        report = JSON.parse(validate.stdout);
      } catch {
        report = undefined;
      }
      if (!report) return { ok: false, tool: TOOL, detail: `terraform validate failed:\n${describeFailure(validate)}` };
      const diagnostics = (report.diagnostics ?? []).map(describeDiagnostic);
      const ok = validate.status === 0 && report.valid === true && (report.error_count ?? 0) === 0;
      const errors = diagnostics.filter((d) => d.startsWith('error'));
      const warnings = diagnostics.filter((d) => !d.startsWith('error'));
      if (ok) return { ok, tool: TOOL, detail: warnings.length > 0 ? `valid, with ${warnings.length} warning(s): ${warnings.join('; ')}` : 'init ok, configuration valid' };
      return { ok, tool: TOOL, detail: [...errors, ...warnings].join('\n') || describeFailure(validate) };
    });
  });
}

/** Terraform's boxed output with the "Error:" lines first. */
function errorsFirst(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trimEnd()).filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /^Error\b/.test(l.trim()));
  return [...errors, ...lines.filter((l) => !errors.includes(l))].join('\n');
}
