import { parseAllDocuments } from 'yaml';
import { Pod, Service } from 'kubernetes-models/v1';

/** Models from the maintained kubernetes-models package, generated from Kubernetes' OpenAPI schemas. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Pod': Pod,
  'v1/Service': Service,
};

/**
 * Validates every document of a manifest against the Kubernetes OpenAPI schema.
 * Returns the problems found (empty when valid); an unknown kind is a problem too.
 */
export function schemaProblems(manifest: string): string[] {
  const problems: string[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    const object = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
    const key = `${object.apiVersion}/${object.kind}`;
    const Model = MODELS[key];
    if (!Model) {
      problems.push(`${key}: no schema known for this kind`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${key} ${object.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return problems;
}
