import { KubernetesSpec } from '../topology';
import { OsProfile } from '../os-profiles';
import { lines } from '../formats/shell';
import { kubernetesMinor } from './kubernetes-repo';

/**
 * The oldest containerd each Kubernetes minor may run on: containerd's RELEASES.md, "Kubernetes
 * Support" (read at containerd commit 301026e5, August 2026): 1.35 → 2.2.0+, 2.1.5+, 1.7.28+;
 * 1.36 → 2.3.0+, 2.2.0+. Two choices of ours on top of it:
 * - 1.35 needs 2.1.5, not 1.7.28: the drop-in below is config version 3, which only containerd 2.x reads.
 * - 1.37 is not in that table yet; it gets 1.36's floor, 2.2.0 (an assumption, said in the README).
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
    "# The pause image of the installed kubeadm (kubeadm config images list), so kubelet and containerd agree.",
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
export function containerdVersionCheck(spec: KubernetesSpec, profile: OsProfile): string {
  const minimum = containerdMinimum(spec);
  return lines(
    `# containerd's release table: Kubernetes ${kubernetesMinor(spec)} needs containerd ${minimum} or later. An older one already`,
    '# on the host is not upgraded by the install above (it only installs what is missing): stop here, not deep in kubeadm.',
    "containerd_version=$(containerd --version | awk '{print $3}')",
    'containerd_version=${containerd_version#v}',
    'containerd_version=${containerd_version%%[~+-]*}',
    `containerd_minimum=${minimum}`,
    "if ! [[ $containerd_version =~ ^[0-9]+\\.[0-9]+\\.[0-9]+$ ]]; then",
    '  echo "prepare-node.sh: cannot read the containerd version from \\"$(containerd --version)\\"" >&2',
    '  exit 1',
    'fi',
    `if [ "$(printf '%s\\n' "$containerd_minimum" "$containerd_version" | sort -V | head -n 1)" != "$containerd_minimum" ]; then`,
    `  echo "prepare-node.sh: containerd $containerd_version is installed; Kubernetes ${kubernetesMinor(spec)} needs containerd $containerd_minimum or later (containerd's RELEASES.md, Kubernetes Support). Upgrade it (${profile.packageManager.upgrade('containerd.io')}), restart containerd, and run again." >&2`,
    '  exit 1',
    'fi',
  );
}

/**
 * Shell: the main config kept (or written when absent or stock), checked to import the drop-in,
 * speak version 3 or later and not disable CRI; the drop-in written with the kubeadm's pause
 * image; containerd restarted only when one of the two changed. Expects $kubeadm_version.
 */
export function containerdConfigure(): string {
  const config = CONTAINERD_CONFIG;
  const fail = (what: string, indent = '    ') => `${indent}echo "prepare-node.sh: ${config} ${what}" >&2\n${indent}exit 1`;
  return lines(
    '# The pause image this kubeadm pulls and expects; asked with the installed version, so nothing is looked up online.',
    'sandbox_image=$(kubeadm config images list --kubernetes-version "$kubeadm_version" | grep \'/pause:\' || true)',
    "if ! [[ $sandbox_image =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*/pause:[A-Za-z0-9._-]+$ ]]; then",
    '  echo "prepare-node.sh: expected one pause image from kubeadm config images list, got \\"$sandbox_image\\"" >&2',
    '  exit 1',
    'fi',
    'containerd_changed=0',
    `install -d -m 0755 ${CONTAINERD_DROP_IN_DIR}`,
    `# Only the stock file (nothing but comments and disabled_plugins = ["cri"]) or no file is replaced; any other is kept.`,
    `if [ ! -s ${config} ] || ! grep -Eqv '^[[:space:]]*(#.*)?$|^[[:space:]]*disabled_plugins[[:space:]]*=[[:space:]]*\\[[[:space:]]*"cri"[[:space:]]*\\][[:space:]]*$' ${config}; then`,
    `  if install_if_changed containerd-config.toml ${config} 0644; then containerd_changed=1; fi`,
    'else',
    `  if grep -Eq '^[[:space:]]*disabled_plugins[[:space:]]*=.*["'"'"']cri["'"'"']' ${config}; then`,
    fail('disables the CRI plugin, which Kubernetes needs: remove \\"cri\\" from disabled_plugins and run again.'),
    '  fi',
    `  config_version=$(sed -nE 's/^[[:space:]]*version[[:space:]]*=[[:space:]]*([0-9]+).*/\\1/p' ${config} | head -n 1)`,
    '  if [ "${config_version:-1}" -lt 3 ]; then',
    fail(`is config version \${config_version:-1}; the drop-in ${CONTAINERD_DROP_IN} is version 3, which containerd does not import into an older file: migrate it (containerd config migrate > ${config}.new, review, move into place) and run again.`),
    '  fi',
    `  if grep -Eq '^[[:space:]]*imports[[:space:]]*=' ${config}; then`,
    `    if ! grep -q '${CONTAINERD_DROP_IN_DIR}/' ${config}; then`,
    fail(`has its own imports without ${CONTAINERD_DROP_IN_DIR}/*.toml: add it to that list and run again.`, '      '),
    '    fi',
    '  else',
    '    # A top-level key: before the first table, so the first line is always a valid place for it.',
    `    cp -p ${config} ${config}.k8s-ha-edge.bak`,
    `    sed -i "1i imports = ['${CONTAINERD_DROP_IN_DIR}/*.toml']" ${config}`,
    '    containerd_changed=1',
    '  fi',
    'fi',
    `sed "s|${SANDBOX_IMAGE_PLACEHOLDER}|$sandbox_image|" containerd-k8s.toml > containerd-k8s.toml.new`,
    `if install_if_changed containerd-k8s.toml.new ${CONTAINERD_DROP_IN} 0644; then containerd_changed=1; fi`,
    'rm -f containerd-k8s.toml.new',
    'systemctl enable --now containerd',
    'if [ "$containerd_changed" = 1 ]; then',
    '  systemctl restart containerd',
    'fi',
  );
}
