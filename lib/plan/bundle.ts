import { HostAccess, SudoPrefix } from '../topology';

/** Where bundles are uploaded on every host, one directory per bundle. */
export const REMOTE_STAGING_DIR = '/var/tmp/k8s-ha-edge';

/** The stacks a bundle can belong to; each is applied on its own, in parallel. */
export enum StackName {
  K8S = 'k8s',
  LB = 'lb',
  GATEWAY = 'gateway',
  CLIENT = 'client',
}

export interface BundleFile {
  /** File name inside the bundle. */
  readonly name: string;
  readonly content: string;
  readonly executable: boolean;
}

/** Where a bundle is pushed: the host's SSH endpoint. */
export interface SshTarget {
  readonly hostName: string;
  readonly address: string;
  readonly user: string;
  /** How a root command is run there: '' for root, `sudo -n ` for any other user. */
  readonly sudoPrefix: SudoPrefix;
}

/**
 * Files pushed to one host together and the script run there: one Terraform resource.
 * Its id is part of the public contract (it names the resource in Terraform state).
 */
export interface Bundle {
  readonly id: string;
  readonly stack: StackName;
  readonly target: SshTarget;
  readonly files: readonly BundleFile[];
  /** File in the bundle run on the host (as root) after the upload; undefined: upload only. */
  readonly run?: string;
  /** File in the bundle run on the host (as root) when the bundle is destroyed: undoes `run`. undefined: nothing to undo. */
  readonly teardown?: string;
  /** File in the bundle run where terraform runs, after `run` (for the worker join). */
  readonly runLocally?: string;
  /** Ids of bundles in the same stack that must be applied first. */
  readonly dependsOn: readonly string[];
  /** Why the bundle exists, for the resource's description and the README. */
  readonly description: string;
}

/** Directory of a bundle inside dist/ and on the host (under REMOTE_STAGING_DIR). */
export function bundleDir(bundle: Bundle): string {
  return `${bundle.target.hostName}/${bundle.id}`;
}

export function remoteBundleDir(bundle: Bundle): string {
  return `${REMOTE_STAGING_DIR}/${bundle.id}`;
}

/** A file of a bundle; scripts (`*.sh`) are executable. */
export function bundleFile(name: string, content: string): BundleFile {
  return { name, content, executable: name.endsWith('.sh') };
}

/** Where a host's bundles are pushed: its SSH endpoint, at `address`. */
export function sshTarget(host: HostAccess, address: string): SshTarget {
  return { hostName: host.name, address, user: host.sshUser, sudoPrefix: host.sudoPrefix };
}
