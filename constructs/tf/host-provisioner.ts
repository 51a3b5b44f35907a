import { shq } from '../../lib/formats/shell';
import { Bundle, bundleParts, REMOTE_STAGING_DIR, remoteBundleDir, stagingCommands } from '../../lib/plan/bundle';
import { bundleResourceIds, ProvisionerResource, TEARDOWN_STORED_ONLY } from '../../lib/topology';
import { assetDirs, bundleContentHash, localPath, terraformLiteral } from './bundle-asset';

/** A value of Terraform's JSON syntax. */
export type TerraformJson = string | number | boolean | null | TerraformJson[] | { [key: string]: TerraformJson };
type JsonObject = { [key: string]: TerraformJson };

export interface HostResourcesProps {
  /** The stack's name, for the resources' cdktf metadata (their construct path). */
  readonly stack: string;
  /** The files to push and the script to run, as planned. */
  readonly bundle: Bundle;
  /** The Terraform resource type that carries the provisioners. */
  readonly resource: ProvisionerResource;
  /** Name of the Terraform variable holding the path of the SSH private key on the machine that runs terraform. */
  readonly sshKeyVariable: string;
  /** Seconds terraform keeps trying to reach the host. @default 120 */
  readonly sshTimeoutSeconds?: number;
  /** Ids of bundles of the same stack to apply first. @default none */
  readonly dependsOn?: readonly string[];
}

/**
 * One host bundle as Terraform resources, in Terraform's JSON syntax: `<bundle>` uploads the bundle's
 * files over SSH (the shared sets it uses, then its own files, each a directory of the stack's assets,
 * then the files it carries inline, each the `content` of a file provisioner),
 * runs its script as root, and runs again only when the bundle's content (or where it goes) changes: the
 * trigger is the content hash of all its files. `<bundle>-teardown` undoes it at destroy.
 *
 * Written as plain JSON, not as cdktf resource constructs: those cost several tokens each, resolved
 * three times per synth, and the resources here hold no reference that needs resolving (a few
 * thousand of them for a thousand workers). The JSON is what cdktf wrote for the same resources,
 * its metadata included; the stack merges it into its own (BundleStack.toTerraform).
 */
export function hostResources(props: HostResourcesProps): Record<string, JsonObject> {
  const { bundle, resource } = props;
  const keyPath = `\${var.${props.sshKeyVariable}}`;
  const timeout = durationOf(props.sshTimeoutSeconds ?? 120);
  const hostKey = bundle.target.hostKey;
  const staging = stagingCommands(bundle);
  const parts = bundleParts(bundle);
  const ids = bundleResourceIds(bundle.id);

  // Every object here gets its keys in sort order: stableJson prints it as it is, without a copy.
  // (Built by assignment, not spread: a thousand workers run this code a few thousand times, mostly
  // before it is optimized.)
  const connection: JsonObject = { host: bundle.target.address };
  // With the topology's host key, terraform refuses a host that presents another one.
  if (hostKey !== '') connection.host_key = hostKey;
  connection.private_key = `\${file(var.${props.sshKeyVariable})}`;
  connection.timeout = timeout;
  connection.type = 'ssh';
  connection.user = bundle.target.user;

  // A fresh private directory in the SSH user's home each time, so it holds exactly this bundle.
  const provisioner: JsonObject[] = [{ 'remote-exec': { inline: staging.beforeUpload as string[] } }];
  // The trailing slash uploads each directory's contents into the upload directory: the shared sets, then the bundle's own files.
  for (const { set } of parts.shared) provisioner.push({ file: { destination: staging.uploadDir, source: `${assetDirs.shared(set)}/` } });
  if (parts.own.some((f) => !f.inline)) provisioner.push({ file: { destination: staging.uploadDir, source: `${assetDirs.own(bundle.id)}/` } });
  // Files carried in the resource itself, each into the upload directory under its name.
  for (const f of parts.own) {
    if (f.inline) provisioner.push({ file: { content: terraformLiteral(f.content), destination: `${staging.uploadDir}/${f.name}` } });
  }
  // Root copies it into the root-owned 0700 staging directory the scripts run from.
  provisioner.push({ 'remote-exec': { inline: staging.install as string[] } });
  if (staging.run) provisioner.push({ 'remote-exec': { inline: [staging.run] } });
  if (bundle.localEnvironment && !bundle.runLocally) throw new Error(`bundle ${bundle.id}: got a localEnvironment without runLocally, expected both or neither`);
  if (bundle.runLocally) provisioner.push({ 'local-exec': { command: `bash ${localPath(bundle, bundle.runLocally)}`, environment: localEnvironment(bundle, keyPath) } });

  // What forces a re-run: the bytes of every file the host gets, and the machine it goes to.
  const triggers: JsonObject = { files: bundleContentHash(bundle.files), host: `${bundle.target.user}@${bundle.target.address}` };
  const main: JsonObject = { '//': metadata(props.stack, bundle.id, 'resource', ids.setup), connection };
  if (props.dependsOn && props.dependsOn.length > 0) main.depends_on = props.dependsOn.map((id) => `${resource}.${bundleResourceIds(id).setup}`);
  main.provisioner = provisioner;
  if (resource === ProvisionerResource.TERRAFORM_DATA) main.triggers_replace = triggers;
  else main.triggers = triggers;
  // In sort order: `<bundle>`, then `<bundle>-address`, then `<bundle>-teardown`.
  const resources: Record<string, JsonObject> = { [ids.setup]: main };
  if (resource === ProvisionerResource.TERRAFORM_DATA) resources[ids.address] = addressResource(props);
  resources[ids.teardown] = teardownResource(props, keyPath, timeout);
  return resources;
}

/**
 * The environment of the bundle's local run, keys in sort order: the SSH key's path (from the
 * variable) and the bundle's `localEnvironment`, a file of the bundle given as its path here.
 */
function localEnvironment(bundle: Bundle, keyPath: string): JsonObject {
  const given = bundle.localEnvironment ?? {};
  if (Object.hasOwn(given, 'SSH_PRIVATE_KEY_PATH')) throw new Error(`bundle ${bundle.id}: localEnvironment: got SSH_PRIVATE_KEY_PATH, expected a variable other than the key's`);
  const values: Record<string, string> = { SSH_PRIVATE_KEY_PATH: keyPath };
  for (const [name, value] of Object.entries(given)) values[name] = typeof value === 'string' ? terraformLiteral(value) : localPath(bundle, value.file);
  const environment: JsonObject = {};
  for (const name of Object.keys(values).sort()) environment[name] = values[name];
  return environment;
}

/**
 * `<bundle>-teardown`: a resource of its own whose only provisioner runs at destroy. It depends on
 * the bundle's resource, so it is destroyed first, while the bundle's files are still on the host;
 * it is not replaced when the files change, so a changed page or ruleset is applied in place, never
 * torn down and set up again. Replacing it runs the teardown, so it is replaced only when its
 * machine is another one: when the host is removed (or renamed: another resource id) or its address
 * changes. The SSH user, the host key and the key's path name no other machine: a change of them
 * keeps the resource (terraform_data updates them in place; null_resource keeps the values it
 * stored, see docs/runbook.md). A destroy-time provisioner may read only `self`: the connection
 * comes from what the resource stored.
 */
function teardownResource(props: HostResourcesProps, keyPath: string, timeout: string): JsonObject {
  const { bundle, resource } = props;
  const remoteDir = remoteBundleDir(bundle);
  const sudo = bundle.target.sudoPrefix;
  const terraformData = resource === ProvisionerResource.TERRAFORM_DATA;
  const stored = terraformData ? 'self.input' : 'self.triggers';
  const hasHostKey = bundle.target.hostKey !== '';
  const connection: JsonObject = { host: `\${${stored}.address}` };
  // The same host key check as the bundle's own connection, from what the resource stored.
  if (hasHostKey) connection.host_key = `\${${stored}.host_key}`;
  connection.private_key = `\${file(${stored}.ssh_private_key_path)}`;
  connection.timeout = timeout;
  connection.type = 'ssh';
  connection.user = `\${${stored}.user}`;
  const inline = bundle.teardown ? [`${sudo}bash ${remoteDir}/${bundle.teardown}`, `${sudo}rm -rf ${remoteDir}`] : [`${sudo}rm -rf ${remoteDir}`];
  // Provisioners run in order, and a failed one stops the destroy: the step on the other host first.
  const provisioner: JsonObject[] = [];
  if (bundle.beforeTeardown) provisioner.push(beforeTeardownStep(bundle.beforeTeardown, stored, timeout));
  provisioner.push({ 'remote-exec': { connection, inline, when: 'destroy' } });
  const where: JsonObject = { address: bundle.target.address };
  if (hasHostKey) where.host_key = bundle.target.hostKey;
  where.ssh_private_key_path = keyPath;
  where.user = bundle.target.user;
  const comment = metadata(props.stack, bundle.id, 'teardown', bundleResourceIds(bundle.id).teardown);
  const dependsOn = [`${resource}.${bundleResourceIds(bundle.id).setup}`];
  // Destroyed before the other host's teardown: in a whole destroy the control plane is still there
  // (its API answers, its script is in place) while each worker's Node is drained.
  if (bundle.beforeTeardown) dependsOn.push(`${resource}.${bundleResourceIds(bundle.beforeTeardown.bundle).teardown}`);
  if (!terraformData) {
    // Every change of null_resource's triggers replaces it, but for the keys ignored here: those
    // keep the value stored at creation (the address alone replaces it). The same keys as before
    // this list grew, so a site applied with them plans nothing here.
    const ignored = TEARDOWN_STORED_ONLY.map((key) => `triggers["${key}"]`);
    return { '//': comment, depends_on: dependsOn, lifecycle: { ignore_changes: ignored }, provisioner, triggers: where };
  }
  // terraform_data: everything in input, updated in place. Only a change of the address resource
  // (its input is the address) replaces the teardown. triggers_replace is not set, and ignored:
  // sites applied before stored "<user>@<address>" there, which must not count as a change.
  return {
    '//': comment,
    depends_on: dependsOn,
    input: where,
    lifecycle: { ignore_changes: ['triggers_replace'], replace_triggered_by: [`${resource}.${bundleResourceIds(bundle.id).address}`] },
    provisioner,
  };
}

/**
 * The destroy-time step on another host (Bundle.beforeTeardown): its connection is written here as
 * literals, read from the configuration at destroy, not stored in the resource, so adding or changing
 * it replaces nothing (a destroy-time provisioner may reference only `self`, and literals). The key's
 * path is the stored one, as for the host's own step. Where the other host's bundle directory is gone
 * already (that host torn down by hand), there is nothing to do there, and it says so.
 */
function beforeTeardownStep(step: NonNullable<Bundle['beforeTeardown']>, stored: string, timeout: string): JsonObject {
  const { target } = step;
  const connection: JsonObject = { host: target.address };
  if (target.hostKey !== '') connection.host_key = target.hostKey;
  connection.private_key = `\${file(${stored}.ssh_private_key_path)}`;
  connection.timeout = timeout;
  connection.type = 'ssh';
  connection.user = target.user;
  const script = `${REMOTE_STAGING_DIR}/${step.bundle}/${step.script}`;
  const sudo = target.sudoPrefix;
  const command = `if ${sudo}test -f ${script}; then ${sudo}bash ${script} ${step.args.map(shq).join(' ')}; `
    + `else echo '${script} is not on ${target.hostName} (torn down already): nothing to do there'; fi`;
  return { 'remote-exec': { connection, inline: [command], when: 'destroy' } };
}

/**
 * `<bundle>-address` (terraform_data only): holds the host's address, the one fact that makes the
 * host another machine; a change of it updates this resource, which replaces the teardown. Created
 * on a site applied before it existed without replacing anything (replace_triggered_by reacts to an
 * update or a replacement of what it names, not to its creation).
 */
function addressResource(props: HostResourcesProps): JsonObject {
  const { bundle } = props;
  return { '//': metadata(props.stack, bundle.id, 'address', bundleResourceIds(bundle.id).address), input: bundle.target.address };
}

/** The metadata cdktf writes into each resource (`//`): where it is in the construct tree, and its name in state. */
function metadata(stack: string, bundleId: string, child: string, uniqueId: string): JsonObject {
  return { metadata: { path: `${stack}/${bundleId}/${child}`, uniqueId } };
}

/** Terraform's duration syntax: whole minutes as `Nm` (the default reads `2m`), else seconds. */
function durationOf(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
