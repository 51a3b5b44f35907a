/**
 * The names made from config values: Kubernetes object names and the bundle ids that become
 * Terraform resource names. Declared once here, so that the validation judges exactly the names
 * the renderers and constructs write.
 */

/** The fields of the workload that names are made from. */
interface NamedWorkload {
  readonly name: string;
}

/** The Pod pinned to a worker: `<workload.name>-<worker>`. */
export function podName(workload: NamedWorkload, workerName: string): string {
  return `${workload.name}-${workerName}`;
}

/** The NodePort Service: `<workload.name>-svc`. */
export function serviceName(workload: NamedWorkload): string {
  return `${workload.name}-svc`;
}

/** The namespace that exists in every cluster and is never created by the workload manifest. */
export const DEFAULT_NAMESPACE = 'default';

/** Id of the bundle that applies the workload on the control plane. */
export const WORKLOAD_BUNDLE_ID = 'workload';

/** Id of the bundle that puts a worker's test page in place: `<worker>-page`. */
export function pageBundleId(workerName: string): string {
  return `${workerName}-page`;
}

/** Id of the null provider's construct in each stack that uses null_resource. */
export const NULL_PROVIDER_ID = 'null';

/**
 * The one lowercase DNS label that is a member of Object.prototype: the constructs library keeps
 * a construct's children in a plain object, so a child named `constructor` is "already there".
 */
export const PROTOTYPE_MEMBER_ID = 'constructor';

/**
 * The Terraform resources of one bundle, by role, as `hostResources` names them: `<bundle>` runs the
 * setup, `<bundle>-teardown` runs the teardown at destroy, and (terraform_data only)
 * `<bundle>-address` holds the host's address, whose change replaces the teardown. The validation
 * derives every resource id of a config from this function, so a new role is checked as soon as it
 * exists.
 */
export function bundleResourceIds(bundleId: string): { readonly setup: string; readonly teardown: string; readonly address: string } {
  return { setup: bundleId, teardown: teardownResourceId(bundleId), address: addressResourceId(bundleId) };
}

/** `<bundle>-teardown`: the resource whose destroy-time provisioner undoes the bundle. */
export function teardownResourceId(bundleId: string): string {
  return `${bundleId}-teardown`;
}

/** `<bundle>-address`: the terraform_data resource holding the host's address (see bundleResourceIds). */
export function addressResourceId(bundleId: string): string {
  return `${bundleId}-address`;
}

/**
 * What the teardown resource stores to connect at destroy but that names no other machine: a change
 * of these must not replace it (replacing it runs the teardown). The address is not among them.
 */
export const TEARDOWN_STORED_ONLY: readonly string[] = ['host_key', 'ssh_private_key_path', 'user'];
