import { INSTALL_IF_CHANGED, shellBody, shellScript } from '../formats/shell';
import { OsProfile } from '../os-profiles';
import { KubernetesSpec, Topology } from '../topology';
import { ADMIN_KUBECONFIG } from './kubeadm';
import { kubeadmVersionParams, kubernetesMinor, kubernetesPatch } from './kubernetes-repo';
import { isReady, nodesOf } from './node-list';

/**
 * An orchestrated `kubeadm upgrade` of the cluster to the topology's `kubernetes.version`, one minor at a
 * time, as the kubeadm upgrade guide orders it: the control-plane node first (`kubeadm upgrade apply`),
 * then each worker in turn (`kubeadm upgrade node`, drained while its kubelet moves). The plan is read
 * from the cluster every time (the API server's version, each Node's kubelet), never remembered, so a
 * run stopped half-way is resumed by running it again: a node already at the target is only made
 * schedulable again if it was left cordoned.
 */

/** A version as the cluster reports it, `v1.36.2`. */
interface Version { readonly minor: number; readonly patch: number; readonly text: string }

function parseVersion(text: string): Version | undefined {
  const match = /^v?1\.(\d+)\.(\d+)$/.exec(text.trim());
  return match ? { minor: Number(match[1]), patch: Number(match[2]), text: `v1.${match[1]}.${match[2]}` } : undefined;
}

/** One Node as `kubectl get nodes -o json` describes it. */
export interface ClusterNode {
  readonly name: string;
  /** status.nodeInfo.kubeletVersion, `v1.35.4`. */
  readonly kubelet: string;
  readonly ready: boolean;
  readonly unschedulable: boolean;
}

/** What the cluster runs now: the API server's version (`/version`'s gitVersion) and its Nodes. */
export interface ClusterState {
  readonly server: string;
  readonly nodes: readonly ClusterNode[];
}

/** A node's part of the plan: what is done on it, in this order. */
export interface NodeStep {
  readonly node: string;
  readonly role: 'first-control-plane' | 'node';
  readonly kubelet: string;
  /** upgrade: every phase; uncordon: already at the target but left cordoned by a stopped run; none: done. */
  readonly action: 'upgrade' | 'uncordon' | 'none';
}

export type UpgradePlan =
  | { readonly ok: true; readonly from: string; readonly to: string; readonly steps: readonly NodeStep[] }
  | { readonly ok: false; readonly field: string; readonly reason: string };

/** The Nodes of `kubectl get nodes -o json` as the plan reads them; undefined when it is not a list of Nodes. */
export function parseNodeList(json: string): ClusterNode[] | undefined {
  return nodesOf(json)?.map((node) => ({
    name: node.metadata.name,
    kubelet: node.status?.nodeInfo?.kubeletVersion ?? '',
    ready: isReady(node),
    unschedulable: node.spec?.unschedulable === true,
  }));
}

/** The API server's version from `kubectl get --raw /version`. */
export function parseServerVersion(json: string): string | undefined {
  try {
    const version = (JSON.parse(json) as { gitVersion?: unknown }).gitVersion;
    return typeof version === 'string' && parseVersion(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plan from what the cluster runs to `t.kubernetes.version`, or why there is none. The target's
 * patch is the topology's when it pins one, else the API server's once it runs the target minor (the
 * control-plane node moves to the newest patch of the minor and the workers follow it).
 */
export function planUpgrade(t: Topology, cluster: ClusterState): UpgradePlan {
  const spec = t.kubernetes;
  const field = 'kubernetes.version';
  const server = parseVersion(cluster.server);
  if (!server) return { ok: false, field: 'cluster', reason: `the API server reports version "${cluster.server}", expected v1.<minor>.<patch>` };
  const targetMinor = Number(kubernetesMinor(spec).split('.')[1]);
  const pinned = kubernetesPatch(spec);
  const pinnedPatch = pinned === undefined ? undefined : Number(pinned.split('.')[2]);
  const running = `the cluster runs ${server.text}`;
  if (targetMinor < server.minor || (targetMinor === server.minor && pinnedPatch !== undefined && pinnedPatch < server.patch)) {
    return { ok: false, field, reason: `got ${spec.version}, but ${running}; expected ${server.text} or later (kubeadm does not downgrade a cluster)` };
  }
  if (targetMinor > server.minor + 1) {
    const steps = Array.from({ length: targetMinor - server.minor }, (_, i) => `1.${server.minor + i + 1}`);
    return {
      ok: false, field,
      reason: `got ${spec.version}, but ${running}; expected 1.${server.minor}.x or 1.${server.minor + 1} (kubeadm moves one minor at a time: set ${steps.map((s) => `kubernetes.version ${s}`).join(', then ')}, each followed by npm run synth and npm run upgrade)`,
    };
  }
  const topologyNodes = [{ name: t.controlPlane.name, role: 'first-control-plane' as const }, ...t.workers.map((w) => ({ name: w.name, role: 'node' as const }))];
  const known = new Set(topologyNodes.map((n) => n.name));
  const strangers = cluster.nodes.filter((n) => !known.has(n.name)).map((n) => n.name);
  if (strangers.length > 0) {
    return { ok: false, field: 'workers', reason: `the cluster has Nodes the topology lacks (${strangers.join(', ')}); expected only ${[...known].join(', ')}: remove them from the cluster, or add them to the topology, first` };
  }
  const byName = new Map(cluster.nodes.map((n) => [n.name, n]));
  const missing = topologyNodes.filter((n) => !byName.has(n.name)).map((n) => n.name);
  if (missing.length > 0) {
    return { ok: false, field: 'workers', reason: `${missing.join(', ')} of the topology ${missing.length === 1 ? 'is' : 'are'} not a Node of the cluster; expected every node joined: npm run apply first` };
  }
  // At the target: the pinned patch; without one, the target minor at the API server's version (which moves first).
  const target = pinned !== undefined ? `v${pinned}` : targetMinor === server.minor ? server.text : `v1.${targetMinor}.x`;
  const serverDone = pinned !== undefined ? server.text === target : server.minor === targetMinor;
  const steps = topologyNodes.map(({ name, role }): NodeStep => {
    const node = byName.get(name)!;
    const kubelet = parseVersion(node.kubelet);
    const kubeletDone = kubelet !== undefined && serverDone && kubelet.text === server.text;
    const done = kubeletDone && (role !== 'first-control-plane' || serverDone);
    return { node: name, role, kubelet: node.kubelet, action: !done ? 'upgrade' : node.unschedulable ? 'uncordon' : 'none' };
  });
  return { ok: true, from: server.text, to: target, steps };
}

/** How long one worker's drain may take before the upgrade stops there (PodDisruptionBudgets respected). */
export const UPGRADE_DRAIN_TIMEOUT_SECONDS = 300;
/** How long a node has, after its kubelet restarted and it was uncordoned, to be Ready at the target. */
export const UPGRADE_READY_TIMEOUT_SECONDS = 300;

/**
 * upgrade-node.sh for one family: the node's own part of the upgrade, run as root over SSH with
 * `PHASE ROLE [VERSION]` (see the script). The repository is the target minor's, as prepare-node.sh
 * writes it for the same topology, so the next `npm run apply` finds nothing to change.
 */
export function renderUpgradeNode(spec: KubernetesSpec, profile: OsProfile): string {
  const { KUBERNETES_VERSION, KUBEADM_VERSION_REGEX } = kubeadmVersionParams(spec);
  return shellScript(
    `One node's part of npm run upgrade (${profile.family}): kubeadm, then kubelet and kubectl, to Kubernetes ${spec.version}.`,
    INSTALL_IF_CHANGED,
    profile.kubernetes.repository(spec),
    profile.kubernetes.move,
    shellBody('kubernetes/upgrade-node.sh', { KUBERNETES_VERSION, KUBEADM_VERSION_REGEX, ADMIN_KUBECONFIG }),
  );
}
