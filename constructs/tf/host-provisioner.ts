import { Bundle, bundleParts, remoteBundleDir, stagingCommands } from '../../lib/plan/bundle';
import { ProvisionerResource } from '../../lib/topology';
import { assetDirs, bundleContentHash } from './bundle-asset';

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
 * files over SSH (the shared sets it uses, then its own files, each a directory of the stack's assets),
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
  const uploads = [...parts.shared.map(({ set }) => assetDirs.shared(set)), ...(parts.own.length > 0 ? [assetDirs.own(bundle.id)] : [])];

  const connection: JsonObject = {
    type: 'ssh',
    host: bundle.target.address,
    user: bundle.target.user,
    private_key: `\${file(var.${props.sshKeyVariable})}`,
    timeout,
    // With the topology's host key, terraform refuses a host that presents another one.
    ...(hostKey !== '' ? { host_key: hostKey } : {}),
  };
  const provisioner: JsonObject[] = [
    // A fresh private directory in the SSH user's home each time, so it holds exactly this bundle.
    { 'remote-exec': { inline: [...staging.beforeUpload] } },
    // The trailing slash uploads each directory's contents into the upload directory: the shared sets, then the bundle's own files.
    ...uploads.map((dir) => ({ file: { source: `${dir}/`, destination: staging.uploadDir } })),
    // Root copies it into the root-owned 0700 staging directory the scripts run from.
    { 'remote-exec': { inline: [...staging.install] } },
  ];
  if (staging.run) provisioner.push({ 'remote-exec': { inline: [staging.run] } });
  if (bundle.runLocally) {
    const local = bundle.files.find((f) => f.name === bundle.runLocally);
    if (!local) throw new Error(`bundle ${bundle.id}: runLocally: got ${bundle.runLocally}, expected a file of the bundle`);
    const dir = local.shared === undefined ? assetDirs.own(bundle.id) : assetDirs.shared(local.shared);
    provisioner.push({ 'local-exec': { command: `bash ${dir}/${bundle.runLocally}`, environment: { SSH_PRIVATE_KEY_PATH: keyPath } } });
  }

  // What forces a re-run: the bytes of every file the host gets, and the machine it goes to.
  const host = `${bundle.target.user}@${bundle.target.address}`;
  const triggers = { files: bundleContentHash(bundle.files), host };
  const terraformData = resource === ProvisionerResource.TERRAFORM_DATA;
  const main: JsonObject = {
    '//': metadata(props.stack, bundle.id, 'resource', bundle.id),
    connection,
    ...(props.dependsOn && props.dependsOn.length > 0 ? { depends_on: props.dependsOn.map((id) => `${resource}.${id}`) } : {}),
    provisioner,
    ...(terraformData ? { triggers_replace: triggers } : { triggers }),
  };
  return { [bundle.id]: main, [`${bundle.id}-teardown`]: teardownResource(props, keyPath, timeout) };
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
  const connection: JsonObject = {
    type: 'ssh',
    host: `\${${stored}.address}`,
    user: `\${${stored}.user}`,
    private_key: `\${file(${stored}.ssh_private_key_path)}`,
    timeout,
    // The same host key check as the bundle's own connection, from what the resource stored.
    ...(hasHostKey ? { host_key: `\${${stored}.host_key}` } : {}),
  };
  const provisioner: JsonObject[] = [{
    'remote-exec': {
      when: 'destroy',
      connection,
      inline: [...(bundle.teardown ? [`${sudo}bash ${remoteDir}/${bundle.teardown}`] : []), `${sudo}rm -rf ${remoteDir}`],
    },
  }];
  const where: JsonObject = {
    address: bundle.target.address, user: bundle.target.user, ssh_private_key_path: keyPath,
    ...(hasHostKey ? { host_key: bundle.target.hostKey } : {}),
  };
  const common = { '//': metadata(props.stack, bundle.id, 'teardown', `${bundle.id}-teardown`), depends_on: [`${resource}.${bundle.id}`], provisioner };
  return terraformData
    // input, not triggers_replace, holds the key path: another path on another machine updates it in place.
    ? { ...common, input: where, triggers_replace: { host: `${bundle.target.user}@${bundle.target.address}` } }
    : { ...common, triggers: where, lifecycle: { ignore_changes: ['triggers["ssh_private_key_path"]'] } };
}

/** The metadata cdktf writes into each resource (`//`): where it is in the construct tree, and its name in state. */
function metadata(stack: string, bundleId: string, child: string, uniqueId: string): JsonObject {
  return { metadata: { path: `${stack}/${bundleId}/${child}`, uniqueId } };
}

/** Terraform's duration syntax: whole minutes as `Nm` (the default reads `2m`), else seconds. */
function durationOf(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
