import { resource as nullResource } from '@cdktf/provider-null';
import {
  DataResource, FileProvisioner, Fn, ITerraformDependable, LocalExecProvisioner, RemoteExecProvisioner,
  SSHProvisionerConnection, TerraformResource, TerraformVariable,
} from 'cdktf';
import { Construct } from 'constructs';
import { Bundle, remoteBundleDir, stagingCommands } from '../../lib/plan/bundle';
import { ProvisionerResource } from '../../lib/topology';
import { BundleAsset } from './bundle-asset';

type Provisioner = FileProvisioner | LocalExecProvisioner | RemoteExecProvisioner;

export interface HostProvisionerProps {
  /** The files to push and the script to run, as planned. */
  readonly bundle: Bundle;
  /** The Terraform resource type that carries the provisioners. */
  readonly resource: ProvisionerResource;
  /** Variable holding the path of the SSH private key on the machine that runs terraform. */
  readonly sshPrivateKeyPath: TerraformVariable;
  /** Seconds terraform keeps trying to reach the host. @default 120 */
  readonly sshTimeoutSeconds?: number;
  /** Resources to apply first. @default none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * One host bundle as one Terraform resource: upload the bundle's directory over SSH,
 * run its script as root, and run again only when the bundle's content (or where it
 * goes) changes: the trigger is the content hash of the bundle's files.
 */
export class HostProvisioner extends Construct {
  public readonly resource: TerraformResource;
  /** Runs the bundle's teardown script (if any) and removes its files when it is destroyed. */
  public readonly teardown: TerraformResource;
  public readonly asset: BundleAsset;

  constructor(scope: Construct, id: string, props: HostProvisionerProps) {
    super(scope, id);
    const { bundle } = props;
    this.asset = new BundleAsset(this, 'files', { files: bundle.files });

    const staging = stagingCommands(bundle);
    const connection: SSHProvisionerConnection = {
      type: 'ssh',
      host: bundle.target.address,
      user: bundle.target.user,
      privateKey: Fn.file(props.sshPrivateKeyPath.stringValue),
      timeout: durationOf(props.sshTimeoutSeconds ?? 120),
      // With the topology's host key, terraform refuses a host that presents another one.
      ...(bundle.target.hostKey !== '' ? { hostKey: bundle.target.hostKey } : {}),
    };
    const provisioners: Provisioner[] = [
      // A fresh private directory in the SSH user's home each time, so it holds exactly this bundle.
      { type: 'remote-exec', inline: [...staging.beforeUpload] },
      // The trailing slash uploads the directory's contents into the upload directory.
      { type: 'file', source: `${this.asset.path}/`, destination: staging.uploadDir },
      // Root copies it into the root-owned 0700 staging directory the scripts run from.
      { type: 'remote-exec', inline: [...staging.install] },
    ];
    if (staging.run) provisioners.push({ type: 'remote-exec', inline: [staging.run] });
    if (bundle.runLocally) {
      provisioners.push({
        type: 'local-exec',
        command: `bash ${this.asset.path}/${bundle.runLocally}`,
        environment: { SSH_PRIVATE_KEY_PATH: props.sshPrivateKeyPath.stringValue },
      });
    }

    // What forces a re-run: the bundle's bytes, and the machine it goes to.
    const triggers = { files: this.asset.assetHash, host: `${bundle.target.user}@${bundle.target.address}` };
    const dependsOn = props.dependsOn && props.dependsOn.length > 0 ? [...props.dependsOn] : undefined;
    const common = { connection, provisioners, dependsOn };
    this.resource = props.resource === ProvisionerResource.TERRAFORM_DATA
      ? new DataResource(this, 'resource', { ...common, triggersReplace: triggers })
      : new nullResource.Resource(this, 'resource', { ...common, triggers });
    // The resource is named after the bundle in state (e.g. null_resource.node01): ids are a public contract.
    this.resource.overrideLogicalId(bundle.id);
    this.teardown = this.teardownResource(props, remoteBundleDir(bundle));
  }

  /**
   * `<bundle>-teardown`: a resource of its own whose only provisioner runs at destroy. It depends on
   * the bundle's resource, so it is destroyed first, while the bundle's files are still on the host;
   * it is not replaced when the files change (its trigger is the host alone), so a changed page or
   * ruleset is applied in place, never torn down and set up again. A destroy-time provisioner may read
   * only `self`: the connection comes from what the resource stored when it was created.
   */
  private teardownResource(props: HostProvisionerProps, remoteDir: string): TerraformResource {
    const { bundle } = props;
    const sudo = bundle.target.sudoPrefix;
    const terraformData = props.resource === ProvisionerResource.TERRAFORM_DATA;
    const stored = terraformData ? 'self.input' : 'self.triggers';
    const connection: SSHProvisionerConnection = {
      type: 'ssh',
      host: `\${${stored}.address}`,
      user: `\${${stored}.user}`,
      privateKey: `\${file(${stored}.ssh_private_key_path)}`,
      timeout: durationOf(props.sshTimeoutSeconds ?? 120),
      // The same host key check as the bundle's own connection, from what the resource stored.
      ...(bundle.target.hostKey !== '' ? { hostKey: `\${${stored}.host_key}` } : {}),
    };
    // cdktf's RemoteExecProvisioner type has no `when`, but passes it through to the JSON as it is.
    const atDestroy = { when: 'destroy' } as object;
    const provisioners: Provisioner[] = [{
      type: 'remote-exec',
      ...atDestroy,
      connection,
      inline: [...(bundle.teardown ? [`${sudo}bash ${remoteDir}/${bundle.teardown}`] : []), `${sudo}rm -rf ${remoteDir}`],
    }];
    const where = {
      address: bundle.target.address, user: bundle.target.user, ssh_private_key_path: props.sshPrivateKeyPath.stringValue,
      ...(bundle.target.hostKey !== '' ? { host_key: bundle.target.hostKey } : {}),
    };
    const resource = terraformData
      // input, not triggers_replace, holds the key path: another path on another machine updates it in place.
      ? new DataResource(this, 'teardown', { provisioners, triggersReplace: { host: `${bundle.target.user}@${bundle.target.address}` }, input: where, dependsOn: [this.resource] })
      : new nullResource.Resource(this, 'teardown', {
        provisioners, triggers: where, dependsOn: [this.resource],
        lifecycle: { ignoreChanges: ['triggers["ssh_private_key_path"]'] },
      });
    resource.overrideLogicalId(`${bundle.id}-teardown`);
    return resource;
  }
}

/** Terraform's duration syntax: whole minutes as `Nm` (the default reads `2m`), else seconds. */
function durationOf(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
