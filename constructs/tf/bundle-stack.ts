import { provider as nullProvider } from '@cdktf/provider-null';
import { HttpBackend, IStackSynthesizer, ISynthesisSession, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
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
  /** Where the stack's state lives. @default a local file, terraform.tfstate in the stack directory (tests only) */
  readonly backend?: StackBackend;
  /** Seconds terraform keeps trying to reach a host over SSH. @default 120 */
  readonly sshTimeoutSeconds?: number;
}

/**
 * A stack's Terraform backend. `local` takes the state file's path relative to the stack
 * directory (cdktf.out/stacks/<stack>/), so cdktf.out holds no path of the build machine.
 */
export type StackBackend =
  | { readonly kind: 'local'; readonly path: string; readonly workspaceDir?: string }
  | { readonly kind: 'http'; readonly address: string };

/** The oldest terraform the stacks work with: terraform_data came in 1.4. */
const REQUIRED_TERRAFORM_VERSION = '>= 1.4';

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
    const backend = props.backend ?? { kind: 'local', path: 'terraform.tfstate' };
    if (backend.kind === 'local') {
      new LocalBackend(this, { path: backend.path, workspaceDir: backend.workspaceDir });
    } else {
      // Terraform's http backend locks with LOCK/UNLOCK on the state's own URL.
      new HttpBackend(this, {
        address: backend.address, lockAddress: backend.address, unlockAddress: backend.address,
        lockMethod: 'LOCK', unlockMethod: 'UNLOCK',
      });
    }
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
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
        sshTimeoutSeconds: props.sshTimeoutSeconds,
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
