import { KubernetesSpec } from '../topology';

/** "1.36" or "1.36.2" → the minor "1.36" that names the pkgs.k8s.io repository. */
export function kubernetesMinor(spec: KubernetesSpec): string {
  return spec.version.split('.').slice(0, 2).join('.');
}

/** The exact patch release when the topology pins one, else undefined (the repository's newest). */
export function kubernetesPatch(spec: KubernetesSpec): string | undefined {
  return spec.version.split('.').length === 3 ? spec.version : undefined;
}

/**
 * What prepare-node.sh and check-cluster.sh compare a kubeadm version (`v1.36.2`) with: the
 * topology's version as written, the kubeadm version it means (`v1.36.x` or `v1.36.2`), and a
 * regex matching exactly those versions (any patch of the minor, or the pinned patch).
 */
export function kubeadmVersionParams(spec: KubernetesSpec): { KUBERNETES_VERSION: string; KUBEADM_WANTED: string; KUBEADM_VERSION_REGEX: string } {
  const patch = kubernetesPatch(spec);
  const minor = kubernetesMinor(spec);
  const escaped = (version: string) => version.replace(/\./g, '\\.');
  return {
    KUBERNETES_VERSION: spec.version,
    KUBEADM_WANTED: patch ? `v${patch}` : `v${minor}.x`,
    KUBEADM_VERSION_REGEX: patch ? `^v${escaped(patch)}$` : `^v${escaped(minor)}\\.[0-9]`,
  };
}

/** The community-owned package repository; the old apt.kubernetes.io and yum repos are gone. */
export function kubernetesRepoUrl(spec: KubernetesSpec, format: 'deb' | 'rpm'): string {
  return `https://pkgs.k8s.io/core:/stable:/v${kubernetesMinor(spec)}/${format}/`;
}

/** The kube tools every node installs from pkgs.k8s.io, held at the chosen minor. */
export const KUBE_PACKAGES: readonly string[] = ['kubelet', 'kubeadm', 'kubectl'];
