import { Bundle, bundleParts, remoteBundleDir, stagingCommands } from '../../lib/plan/bundle';
import { ProvisionerResource } from '../../lib/topology';
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
  const main: JsonObject = { '//': metadata(props.stack, bundle.id, 'resource', bundle.id), connection };
  if (props.dependsOn && props.dependsOn.length > 0) main.depends_on = props.dependsOn.map((id) => `${resource}.${id}`);
  main.provisioner = provisioner;
  if (resource === ProvisionerResource.TERRAFORM_DATA) main.triggers_replace = triggers;
  else main.triggers = triggers;
  return { [bundle.id]: main, [`${bundle.id}-teardown`]: teardownResource(props, keyPath, timeout) };
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
 * it is not replaced when the files change (its trigger is the host alone), so a changed page or
 * ruleset is applied in place, never torn down and set up again. A destroy-time provisioner may read
 * only `self`: the connection comes from what the resource stored when it was created.
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
  const provisioner: JsonObject[] = [{ 'remote-exec': { connection, inline, when: 'destroy' } }];
  const where: JsonObject = { address: bundle.target.address };
  if (hasHostKey) where.host_key = bundle.target.hostKey;
  where.ssh_private_key_path = keyPath;
  where.user = bundle.target.user;
  const comment = metadata(props.stack, bundle.id, 'teardown', `${bundle.id}-teardown`);
  const dependsOn = [`${resource}.${bundle.id}`];
  return terraformData
    // input, not triggers_replace, holds the key path: another path on another machine updates it in place.
    ? { '//': comment, depends_on: dependsOn, input: where, provisioner, triggers_replace: { host: `${bundle.target.user}@${bundle.target.address}` } }
    : { '//': comment, depends_on: dependsOn, lifecycle: { ignore_changes: ['triggers["ssh_private_key_path"]'] }, provisioner, triggers: where };
}

/** The metadata cdktf writes into each resource (`//`): where it is in the construct tree, and its name in state. */
function metadata(stack: string, bundleId: string, child: string, uniqueId: string): JsonObject {
  return { metadata: { path: `${stack}/${bundleId}/${child}`, uniqueId } };
}

/** Terraform's duration syntax: whole minutes as `Nm` (the default reads `2m`), else seconds. */
function durationOf(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
