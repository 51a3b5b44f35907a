import { HostAccess, SudoPrefix } from '../topology';
import { shellBody, shq } from '../formats/shell';

/**
 * Where bundles are staged on every host, one directory per bundle, and run from as root.
 * Root-owned, mode 0700, under root-owned /var/lib: not /var/tmp, whose world-writable parent
 * lets any local user plant the directory (or a script in it) before root runs it.
 */
export const REMOTE_STAGING_DIR = '/var/lib/k8s-ha-edge';

/**
 * Where the SSH user uploads a bundle first: relative, so in the SSH user's home (scp runs there),
 * which only that user can write to. From there `install` copies it into REMOTE_STAGING_DIR as root.
 */
export const UPLOAD_DIR = '.k8s-ha-edge-upload';

/** The stacks a bundle can belong to; each is applied on its own, after those it depends on (STACK_DEPENDENCIES). */
export enum StackName {
  K8S = 'k8s',
  LB = 'lb',
  GATEWAY = 'gateway',
  CLIENT = 'client',
}

/**
 * The order in which stacks are applied, as cdktf's own stack dependencies (manifest.json, written
 * by constructs/tf/stacks-app.ts; ops/apply follows it): the gateway first, because every inside host reaches the internet (packages) through it and
 * the client is reached through it; the load balancers before the cluster, because the
 * control-plane endpoint is their VIP: kubeadm init waits for the API through it, and joins,
 * kubectl and the kubelets use it. Destroy runs the other way round (the cluster's teardown
 * still reaches its API through the load balancers).
 */
export const STACK_DEPENDENCIES: Readonly<Record<StackName, readonly StackName[]>> = {
  [StackName.GATEWAY]: [],
  [StackName.LB]: [StackName.GATEWAY],
  [StackName.K8S]: [StackName.GATEWAY, StackName.LB],
  [StackName.CLIENT]: [StackName.GATEWAY],
};

export interface BundleFile {
  /** File name inside the bundle. */
  readonly name: string;
  readonly content: string;
  readonly executable: boolean;
  /**
   * A script run as root from the staging directory: it gets the staging guard (see
   * `STAGING_GUARD`). False for a script installed elsewhere (keepalived's check) or run
   * where terraform runs.
   */
  readonly runsFromStaging: boolean;
  /**
   * The shared file set this file belongs to: a set of files several bundles get byte for byte the
   * same (node preparation, the page scripts), written once per synth and uploaded by each of them.
   * Bundles naming the same set have the same files in it (the plan checks). undefined: the bundle's own.
   */
  readonly shared?: string;
  /**
   * Carried in the bundle's resource itself (the file provisioner's `content`), not written into the
   * stack's assets: for a small file that is the host's own (a worker's page), so that a file of each
   * worker costs no file and no directory in cdktf.out (dist/ shows it in `_inline.json`). Never a
   * shared file, nor one read where terraform runs (`runLocally` and the files of its environment).
   */
  readonly inline?: boolean;
}

/** Where a bundle is pushed: the host's SSH endpoint. */
export interface SshTarget {
  readonly hostName: string;
  readonly address: string;
  readonly user: string;
  /** How a root command is run there: '' for root, `sudo -n ` for any other user. */
  readonly sudoPrefix: SudoPrefix;
  /** The host's SSH public key line ("type base64"), verified strictly on every connection; '' when not given. */
  readonly hostKey: string;
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
  /**
   * A step on another host that must come right before `teardown` (a worker's Node drained and
   * deleted on the control plane before the worker's reset): `script` of that host's bundle `bundle`,
   * run there as root with `args`. The other bundle's own teardown comes after this one's. undefined: none.
   */
  readonly beforeTeardown?: { readonly bundle: string; readonly target: SshTarget; readonly script: string; readonly args: readonly string[] };
  /** File in the bundle run where terraform runs, after `run` (for the worker join). */
  readonly runLocally?: string;
  /**
   * The environment `runLocally` runs with, beside SSH_PRIVATE_KEY_PATH: a value as it is, or
   * `{ file }`, the path (where terraform runs) of that file of the bundle. What is this bundle's own
   * when `runLocally` is a shared script. @default nothing else
   */
  readonly localEnvironment?: Readonly<Record<string, string | { readonly file: string }>>;
  /** Ids of bundles in the same stack that must be applied first. */
  readonly dependsOn: readonly string[];
  /** Why the bundle exists, for the resource's description and the README. */
  readonly description: string;
}

/**
 * Directory of a bundle's own files inside dist/, as on the host (under REMOTE_STAGING_DIR) and in its
 * stack's assets/: its id, unique in the plan (a host's name, `<worker>-page`, `workload`).
 */
export function bundleDir(bundle: Bundle): string {
  return bundle.id;
}

export function remoteBundleDir(bundle: Bundle): string {
  return `${REMOTE_STAGING_DIR}/${bundle.id}`;
}

/**
 * A file of a bundle; scripts (`*.sh`) are executable and, unless `runsFromStaging: false`, run from
 * the staging directory. `inline`: see `BundleFile.inline`.
 */
export function bundleFile(name: string, content: string, options: { runsFromStaging?: boolean; inline?: boolean } = {}): BundleFile {
  const executable = name.endsWith('.sh');
  return { name, content, executable, runsFromStaging: executable && (options.runsFromStaging ?? true), ...(options.inline ? { inline: true } : {}) };
}

/** The same files, members of the shared set `set`. */
export function inSharedSet(set: string, files: readonly BundleFile[]): BundleFile[] {
  return files.map((f) => {
    if (f.inline) throw new Error(`shared set ${set}: got ${f.name}, a file carried inline in one bundle's resource, expected files written once for all`);
    return { ...f, shared: set };
  });
}

/**
 * Where shared sets are written: `<dir>/<set>/` beside the hosts' directories in dist/ and beside the
 * bundles' directories in a stack's assets/. A host name is a DNS label, so it can never be this name.
 */
export const SHARED_DIR = '_shared';

/** A bundle's files split by where synth writes them: the shared sets it uses (in order of first use), and its own. */
export interface BundleParts {
  readonly shared: ReadonlyArray<{ readonly set: string; readonly files: readonly BundleFile[] }>;
  readonly own: readonly BundleFile[];
}

export function bundleParts(bundle: Bundle): BundleParts {
  const known = partsOf.get(bundle);
  if (known) return known;
  const shared = new Map<string, BundleFile[]>();
  const own: BundleFile[] = [];
  for (const file of bundle.files) {
    if (file.shared === undefined) own.push(file);
    else if (shared.has(file.shared)) shared.get(file.shared)!.push(file);
    else shared.set(file.shared, [file]);
  }
  const parts = { shared: [...shared].map(([set, files]) => ({ set, files })), own };
  partsOf.set(bundle, parts);
  return parts;
}

/** Each bundle's parts, computed once (the plan, dist/ and the stacks all ask; a bundle is never changed). */
const partsOf = new WeakMap<Bundle, BundleParts>();

/**
 * Every shared set, once: a set is written once and uploaded by each bundle that uses it, so every
 * bundle naming it must have exactly the same files in it (else a host would get another's files).
 */
export function sharedSets(bundles: readonly Bundle[]): ReadonlyArray<{ readonly set: string; readonly files: readonly BundleFile[] }> {
  const sets = new Map<string, { files: readonly BundleFile[]; first: string }>();
  // Usually the very same file objects (rendered once per synth); else compared byte for byte.
  const same = (a: readonly BundleFile[], b: readonly BundleFile[]) => a.length === b.length
    && a.every((f, i) => f === b[i] || (f.name === b[i].name && f.executable === b[i].executable && f.content === b[i].content));
  for (const bundle of bundles) {
    for (const { set, files } of bundleParts(bundle).shared) {
      const known = sets.get(set);
      if (!known) sets.set(set, { files, first: bundle.id });
      else if (!same(known.files, files)) throw new Error(`shared set ${set}: bundle ${bundle.id} has other files in it than bundle ${known.first}`);
    }
  }
  return [...sets].map(([set, { files }]) => ({ set, files }));
}

/**
 * The first thing every staged script does: refuse to run unless its own directory and that
 * directory's parent (the staging root) are owned by root with mode 0700, so nobody but root
 * can have put or swapped a file it runs or reads. The logic is lib/plan/staging-guard.sh.
 */
export const STAGING_GUARD = shellBody('plan/staging-guard.sh').text;

const STRICT_MODE = 'set -euo pipefail\n';

/** The bundle with the staging guard right after the strict-mode line of every script run from the staging directory. */
export function withStagingGuard(bundle: Bundle): Bundle {
  return {
    ...bundle,
    files: bundle.files.map((f) => {
      if (!f.runsFromStaging || f.name === bundle.runLocally) return f;
      // A file of a shared set is one object in every bundle that uses it: guarded once, and still one object.
      const known = guarded.get(f);
      if (known) return known;
      const at = f.content.indexOf(STRICT_MODE);
      if (at < 0) throw new Error(`${bundle.id}/${f.name}: got a script without '${STRICT_MODE.trim()}', expected the shared script header`);
      const end = at + STRICT_MODE.length;
      const withGuard = { ...f, content: `${f.content.slice(0, end)}${STAGING_GUARD}${f.content.slice(end)}` };
      guarded.set(f, withGuard);
      return withGuard;
    }),
  };
}

/** Each file with the staging guard, by the file without it. */
const guarded = new WeakMap<BundleFile, BundleFile>();

/** The commands that move a bundle onto its host: as the SSH user, then as root. */
export interface StagingCommands {
  /** Run as the SSH user before the upload: a fresh, private upload directory in its home. */
  readonly beforeUpload: readonly string[];
  /** Where the file provisioner uploads the bundle's files (relative: in the SSH user's home). */
  readonly uploadDir: string;
  /** Run after the upload: root installs the files into the root-owned 0700 staging directory; the upload is removed. */
  readonly install: readonly string[];
  /** Runs the bundle's script as root from the staging directory; undefined for an upload-only bundle. */
  readonly run?: string;
}

/**
 * How a bundle is staged. A non-root SSH user can only upload where it can write, so the
 * files go to a fresh directory in its own home first; root then `install`s them, owned by
 * root, into REMOTE_STAGING_DIR/<bundle>. `mkdir -p` never changes an existing staging root,
 * so one planted by another user stays theirs, and the scripts' guard refuses to run from it.
 */
export function stagingCommands(bundle: Bundle): StagingCommands {
  const sudo = bundle.target.sudoPrefix;
  const upload = `${UPLOAD_DIR}/${bundle.id}`;
  const staged = remoteBundleDir(bundle);
  // The uploaded files as install's arguments: scripts (0700) and the others (0600), each in bundle order.
  let scripts = '';
  let others = '';
  for (const f of bundle.files) {
    const path = ` "$HOME"/${upload}/${shq(f.name)}`;
    if (f.executable) scripts += path;
    else others += path;
  }
  const install = [`${sudo}mkdir -p -m 0700 ${REMOTE_STAGING_DIR}`, `${sudo}rm -rf ${staged}`, `${sudo}install -d -o root -g root -m 0700 ${staged}`];
  if (scripts !== '') install.push(`${sudo}install -o root -g root -m 0700 -t ${staged}${scripts}`);
  if (others !== '') install.push(`${sudo}install -o root -g root -m 0600 -t ${staged}${others}`);
  install.push(`rm -rf "$HOME"/${upload}`);
  return {
    beforeUpload: [`rm -rf "$HOME"/${upload}`, `mkdir -p -m 0700 "$HOME"/${UPLOAD_DIR}`, `mkdir -m 0700 "$HOME"/${upload}`],
    uploadDir: upload,
    install,
    run: bundle.run && `${sudo}bash ${staged}/${bundle.run}`,
  };
}

/** Where a host's bundles are pushed: its SSH endpoint, at `address`. */
export function sshTarget(host: HostAccess, address: string): SshTarget {
  return { hostName: host.name, address, user: host.sshUser, sudoPrefix: host.sudoPrefix, hostKey: hostKeyOf(host.hostKey) };
}

/** "type base64" of a public key line: the comment is not part of the key (and may name a person). */
export function hostKeyOf(line: string): string {
  return line.split(' ').slice(0, 2).join(' ');
}
