/**
 * workload.k8s.yaml and kube-flannel.yml → the Kubernetes OpenAPI schemas (validate/k8s-schema.ts, from the
 * maintained kubernetes-models package). YAML syntax errors and an empty file fail too.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { schemaProblems } from '../k8s-schema';
import { CheckResult, guarded } from './common';

const TOOL = 'k8s OpenAPI schema (kubernetes-models)';

/** Schema validation of one multi-document manifest; never throws. */
export function checkK8sManifest(file: string): CheckResult {
  return guarded(TOOL, () => {
    const text = readFileSync(file, 'utf8');
    const documents = parseAllDocuments(text);
    const syntax = documents.flatMap((doc) => doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
    if (syntax.length > 0) return { ok: false, tool: TOOL, detail: syntax.slice(0, 5).join('\n') + (syntax.length > 5 ? `\n(${syntax.length - 5} more)` : '') };
    const objects = documents.filter((doc) => doc.contents !== null);
    if (objects.length === 0) return { ok: false, tool: TOOL, detail: 'no Kubernetes object in the file' };
    const problems = schemaProblems(text);
    if (problems.length > 0) return { ok: false, tool: TOOL, detail: problems.join('\n') };
    const kinds = objects.map((doc) => (doc.toJS() as { kind?: string }).kind ?? '?');
    return { ok: true, tool: TOOL, detail: `${objects.length} objects valid (${kinds.join(', ')})` };
  });
}
