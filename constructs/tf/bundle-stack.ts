import { provider as nullProvider } from '@cdktf/provider-null';
import { IStackSynthesizer, ISynthesisSession, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { Bundle, StackName } from '../../lib/plan/bundle';
import { NULL_PROVIDER_ID, ProvisionerResource } from '../../lib/topology';
import { HostProvisioner } from './host-provisioner';

export interface BundleStackProps {
  /** The bundles of this stack, in plan order; `dependsOn` may name only bundles in this list. */
  readonly bundles: readonly Bundle[];
  /** The resource type that carries the provisioners. */
  readonly resource: ProvisionerResource;
}

/** Name of the Terraform variable with the path of the SSH private key. */
export const SSH_KEY_VARIABLE = 'ssh_private_key_path';

/**
 * One independent stack (k8s, lb, gateway or client): its own state, its own variable,
 * so `terraform apply` can run in every stack at the same time.
 */
export class BundleStack extends TerraformStack {
  public readonly provisioners: ReadonlyMap<string, HostProvisioner>;

  constructor(scope: Construct, id: StackName, props: BundleStackProps) {
    super(scope, id);
    // Relative to the stack directory, so cdktf.out holds no path of the build machine.
    new LocalBackend(this, { path: 'terraform.tfstate' });
    if (props.resource === ProvisionerResource.NULL_RESOURCE) new nullProvider.NullProvider(this, NULL_PROVIDER_ID);

    const sshPrivateKeyPath = new TerraformVariable(this, SSH_KEY_VARIABLE, {
      type: 'string',
      description: 'Path of the SSH private key that logs in to every host (read at apply time, never stored here)',
    });
    sshPrivateKeyPath.overrideLogicalId(SSH_KEY_VARIABLE);

    const provisioners = new Map<string, HostProvisioner>();
    for (const bundle of props.bundles) {
      const dependsOn = bundle.dependsOn.map((dep) => {
        const first = provisioners.get(dep);
        if (!first) throw new Error(`bundle ${bundle.id}: dependsOn: got ${dep}, expected a bundle planned before it in stack ${id}`);
        return first.resource;
      });
      provisioners.set(bundle.id, new HostProvisioner(this, bundle.id, {
        bundle,
        resource: props.resource,
        sshPrivateKeyPath,
        dependsOn,
      }));
    }
    this.provisioners = provisioners;
    this.synthesizer = withBundleFiles(this, this.synthesizer, [...provisioners.values()]);
  }
}

/** cdktf's own stack synthesis, followed by the bundles' files beside the stack's cdk.tf.json. */
function withBundleFiles(stack: TerraformStack, inner: IStackSynthesizer, provisioners: readonly HostProvisioner[]): IStackSynthesizer {
  return {
    synthesize(session: ISynthesisSession): void {
      inner.synthesize(session);
      const stackDir = dirname(join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath));
      for (const provisioner of provisioners) provisioner.asset.writeInto(stackDir);
    },
  };
}
