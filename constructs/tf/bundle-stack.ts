import { provider as nullProvider } from '@cdktf/provider-null';
import { HttpBackend, IStackSynthesizer, ISynthesisSession, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { FileWriter } from '../../lib/kernel/files';
import { Bundle, bundleParts, sharedSets, StackName } from '../../lib/plan/bundle';
import { fileMode } from '../../lib/plan/dist-tree';
import { NULL_PROVIDER_ID, ProvisionerResource } from '../../lib/topology';
import type { RemovedWorker } from '../../lib/output/recorded-topology';
import { assetDirs } from './bundle-asset';
import { hostResources, TerraformJson } from './host-provisioner';
import { stableJson } from './stable-json';

export interface BundleStackProps {
  /** The bundles of this stack, in plan order; `dependsOn` may name only bundles in this list. */
  readonly bundles: readonly Bundle[];
  /** The resource type that carries the provisioners. */
  readonly resource: ProvisionerResource;
  /** Where the stack's state lives. @default a local file, terraform.tfstate in the stack directory (tests only) */
  readonly backend?: StackBackend;
  /** Seconds terraform keeps trying to reach a host over SSH. @default 120 */
  readonly sshTimeoutSeconds?: number;
  /** Workers removed from the topology whose teardown this stack runs (`removed` blocks). @default none */
  readonly removedWorkers?: readonly RemovedWorker[];
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

/**
 * The oldest terraform that runs a `removed` block's destroy-time provisioners (1.9): required only by
 * a stack that has such blocks, so that an older terraform refuses the stack with its own error
 * instead of removing the worker without its teardown.
 */
const REMOVED_BLOCKS_TERRAFORM_VERSION = '>= 1.9';

/** Name of the Terraform variable with the path of the SSH private key. */
export const SSH_KEY_VARIABLE = 'ssh_private_key_path';

/**
 * One independent stack (k8s, lb, gateway or client): its own state, its own variable,
 * so `terraform apply` can run in every stack at the same time. Its bundles' resources are
 * Terraform JSON (see hostResources), merged into what cdktf writes for the rest of the stack.
 */
/** A stack's Terraform JSON, as far as this file reads and writes it: resources by type, then by name. */
interface StackJson {
  resource?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export class BundleStack extends TerraformStack {
  /** The bundles' resources, by resource id: `<bundle>` and `<bundle>-teardown`. */
  private readonly bundleResources: Record<string, { [key: string]: TerraformJson }> = {};
  private readonly resourceType: ProvisionerResource;
  /** The `removed` blocks of the workers removed from the topology. */
  private readonly removed: Array<{ [key: string]: TerraformJson }>;
  /** The files the stack's synthesis wrote into assets/, relative to the app's outdir. */
  public readonly assetFiles: string[] = [];

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
    this.removed = (props.removedWorkers ?? []).flatMap((worker) => worker.removed) as Array<{ [key: string]: TerraformJson }>;
    this.addOverride('terraform.required_version', this.removed.length > 0 ? REMOVED_BLOCKS_TERRAFORM_VERSION : REQUIRED_TERRAFORM_VERSION);
    if (props.resource === ProvisionerResource.NULL_RESOURCE) new nullProvider.NullProvider(this, NULL_PROVIDER_ID);

    const sshPrivateKeyPath = new TerraformVariable(this, SSH_KEY_VARIABLE, {
      type: 'string',
      description: 'Path of the SSH private key that logs in to every host (read at apply time, never stored here)',
    });
    sshPrivateKeyPath.overrideLogicalId(SSH_KEY_VARIABLE);

    this.resourceType = props.resource;
    const planned = new Set<string>();
    for (const bundle of props.bundles) {
      for (const dep of bundle.dependsOn) {
        if (!planned.has(dep)) throw new Error(`bundle ${bundle.id}: dependsOn: got ${dep}, expected a bundle planned before it in stack ${id}`);
      }
      if (planned.has(bundle.id)) throw new Error(`bundle ${bundle.id}: got it twice in stack ${id}, expected unique bundle ids`);
      planned.add(bundle.id);
      const resources = hostResources({
        stack: id,
        bundle,
        resource: props.resource,
        sshKeyVariable: SSH_KEY_VARIABLE,
        dependsOn: bundle.dependsOn,
        sshTimeoutSeconds: props.sshTimeoutSeconds,
      });
      // One resource silently replacing another would leave a host unprovisioned or never torn
      // down; the validation rejects such names, this guards the plan's own ids.
      for (const resourceId of Object.keys(resources)) {
        if (resourceId in this.bundleResources) throw new Error(`bundle ${bundle.id}: resource ${props.resource}.${resourceId} is already defined by another bundle of stack ${id}`);
      }
      Object.assign(this.bundleResources, resources);
    }
    this.synthesizer = withBundleFiles(this, this.synthesizer, props.bundles);
  }

  /** While set, toTerraform() leaves the bundles' resources out (see withBundleFiles). */
  public withoutBundleResources = false;

  /** cdktf's JSON of the stack, with the bundles' resources. */
  public override toTerraform(): StackJson {
    // cdktf types its stack JSON as `any`; this is the part of it used here.
    const tf = super.toTerraform() as StackJson;
    if (this.withoutBundleResources) return tf;
    if (this.removed.length > 0) tf.removed = this.removed;
    if (Object.keys(this.bundleResources).length === 0) return tf;
    const resources = tf.resource ?? (tf.resource = {});
    const ofType = resources[this.resourceType] ?? (resources[this.resourceType] = {});
    for (const [id, body] of Object.entries(this.bundleResources)) {
      if (id in ofType) throw new Error(`stack ${this.node.id}: resource ${this.resourceType}.${id} is defined twice`);
      ofType[id] = body;
    }
    return tf;
  }
}

/**
 * cdktf's own stack synthesis (aspects, the manifest's annotations, cdk.tf.json), followed by the
 * files the bundles upload, beside the stack's cdk.tf.json: each bundle's own files (but those its
 * resource carries inline), and each shared set the stack's bundles use, once. cdk.tf.json is
 * written by cdktf without the bundles' resources, then again whole, by stableJson: the same bytes
 * cdktf's json-stable-stringify gives, in a fraction of its time for thousands of resources.
 */
function withBundleFiles(stack: BundleStack, inner: IStackSynthesizer, bundles: readonly Bundle[]): IStackSynthesizer {
  return {
    synthesize(session: ISynthesisSession): void {
      const stackFile = session.manifest.forStack(stack).synthesizedStackPath;
      stack.withoutBundleResources = true;
      try {
        inner.synthesize(session);
      } finally {
        stack.withoutBundleResources = false;
      }
      if (!stackFile.endsWith('.json')) throw new Error(`stack ${stack.node.id}: got ${stackFile}, expected cdktf to write JSON`);
      writeFileSync(join(session.outdir, stackFile), stableJson(stack.toTerraform()));
      const stackDir = dirname(stackFile);
      const writer = new FileWriter(join(session.outdir, stackDir));
      for (const { set, files } of sharedSets(bundles)) {
        for (const file of files) writer.write(posix.join(assetDirs.shared(set), file.name), file.content, fileMode(file));
      }
      for (const bundle of bundles) {
        for (const file of bundleParts(bundle).own) {
          if (!file.inline) writer.write(posix.join(assetDirs.own(bundle.id), file.name), file.content, fileMode(file));
        }
      }
      stack.assetFiles.push(...writer.written.map((file) => posix.join(stackDir, file)));
    },
  };
}
