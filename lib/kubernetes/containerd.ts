import { KubernetesSpec } from '../topology';
import { OsProfile } from '../os-profiles';
import { lines, shellBody, ShellPart } from '../formats/shell';
import { kubernetesMinor } from './kubernetes-repo';

/**
 * The oldest containerd each Kubernetes minor may run on: containerd's RELEASES.md, "Kubernetes
 * Support" (read at containerd commit 301026e5, August 2026): 1.35 → 2.2.0+, 2.1.5+, 1.7.28+;
 * 1.36 → 2.3.0+, 2.2.0+. Two choices of ours on top of it:
 * - 1.35 needs 2.1.5, not 1.7.28: the drop-in below is config version 3, which only containerd 2.x reads.
 * - 1.37 is not in that table yet; it gets 1.36's floor, 2.2.0 (an assumption, said in docs/proofs.md).
 */
const CONTAINERD_MINIMUM: Readonly<Record<string, string>> = {
  '1.35': '2.1.5',
  '1.36': '2.2.0',
  '1.37': '2.2.0',
};

function containerdMinimum(spec: KubernetesSpec): string {
  const minimum = CONTAINERD_MINIMUM[kubernetesMinor(spec)];
  if (minimum === undefined) throw new Error(`kubernetes.version: got ${spec.version}, expected a minor with a known containerd floor`);
  return minimum;
}

/** containerd's main config and the drop-in directory it imports (containerd 2.2+ imports it by default, too). */
const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
const CONTAINERD_DROP_IN_DIR = '/etc/containerd/conf.d';
/** The one containerd file k8s-ha-edge owns: every run rewrites it, and only it. */
const CONTAINERD_DROP_IN = `${CONTAINERD_DROP_IN_DIR}/k8s-ha-edge.toml`;
/** In the bundle's drop-in, replaced at apply time by the pause image the installed kubeadm expects. */
const SANDBOX_IMAGE_PLACEHOLDER = '@SANDBOX_IMAGE@';

/**
 * containerd-k8s.toml: what Kubernetes needs from containerd, as a config-version-3 drop-in.
 * The sandbox (pause) image is left as a placeholder: prepare-node.sh puts in the one that
 * `kubeadm config images list` names for the installed kubeadm.
 */
export function renderContainerdDropIn(): string {
  return lines(
    `# ${CONTAINERD_DROP_IN}, written by k8s-ha-edge's prepare-node.sh on every run: edit the topology, not this file.`,
    `# Local settings belong in ${CONTAINERD_CONFIG} or another file in ${CONTAINERD_DROP_IN_DIR}; they are kept.`,
    'version = 3',
    '',
    '# The pause image of the installed kubeadm (kubeadm config images list), so kubelet and containerd agree.',
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = '${SANDBOX_IMAGE_PLACEHOLDER}'`,
    '',
    '# The kubelet uses the systemd cgroup driver; containerd must agree or pods restart in a loop.',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    '  SystemdCgroup = true',
  );
}

/**
 * containerd-config.toml: the main config written only where there is none, or where it is the
 * package's stock file (Docker's containerd.io ships one that disables the CRI plugin).
 */
export function renderContainerdMainConfig(): string {
  return lines(
    `# ${CONTAINERD_CONFIG}, written by k8s-ha-edge because it was absent or the package's stock file`,
    '# (which disables the CRI plugin Kubernetes needs). Local settings may be added: later runs keep this',
    `# file as it is and write only ${CONTAINERD_DROP_IN}.`,
    'version = 3',
    `imports = ['${CONTAINERD_DROP_IN_DIR}/*.toml']`,
  );
}

/**
 * Shell: containerd.io installed, at least the version containerd's release table supports for
 * the chosen Kubernetes, stopping with what to do when it is older.
 */
export function containerdVersionCheck(spec: KubernetesSpec, profile: OsProfile): ShellPart {
  return shellBody('kubernetes/containerd-version-check.sh', {
    KUBERNETES_MINOR: kubernetesMinor(spec),
    CONTAINERD_MINIMUM: containerdMinimum(spec),
    CONTAINERD_UPGRADE: profile.packageManager.upgrade('containerd.io'),
  });
}

/**
 * Shell: the main config kept (or written when absent or stock), checked to import the drop-in,
 * speak version 3 or later and not disable CRI; the drop-in written with the kubeadm's pause
 * image; containerd restarted only when one of the two changed. Expects $kubeadm_version.
 */
export function containerdConfigure(): ShellPart {
  return shellBody('kubernetes/containerd-configure.sh', {
    CONTAINERD_CONFIG,
    CONTAINERD_DROP_IN_DIR,
    CONTAINERD_DROP_IN,
    SANDBOX_IMAGE_PLACEHOLDER,
  });
}
