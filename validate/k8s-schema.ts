import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';

/** Models from the maintained kubernetes-models package, generated from Kubernetes' OpenAPI schemas. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Pod': Pod,
  'v1/Service': Service,
  // The kinds of flannel's manifest (kube-flannel.yml in the master's bundle).
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
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
