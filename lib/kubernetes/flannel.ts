import { createHash } from 'node:crypto';
import { BUNDLED_FLANNEL_VERSION, FlannelManifestSource, flannelManifestUrlOf, Topology } from '../topology';
import { lines, shellBody, shellScript } from '../formats/shell';
import { KUBE_FLANNEL_V0_28_9 } from './kube-flannel-v0.28.9';
import { ADMIN_KUBECONFIG } from './kubeadm';

/**
 * Where the bundled manifest comes from, as recorded when it was vendored: flannel's own
 * `Documentation/kube-flannel.yml` at the release tag. (The release asset of the same name is built
 * at release time by `kubectl kustomize` from another copy, so no digest of it can be computed from
 * the repository; this file is the one the tag's commit itself carries.)
 */
export const BUNDLED_FLANNEL_MANIFEST = {
  version: BUNDLED_FLANNEL_VERSION,
  repository: 'https://github.com/flannel-io/flannel',
  commit: '5cd0d52648e891d73a6dcb9bb2c67d7c365cf7aa',
  path: 'Documentation/kube-flannel.yml',
  /** `git rev-parse v0.28.9:Documentation/kube-flannel.yml` in flannel's repository. */
  gitBlob: 'a28b4f4700327c8aeb03a7057228d19c88e65c8e',
  sha256: 'e875824be2f552b45711dbda91af81b17eb961d00025d914d9fef18fad8f09c0',
  text: KUBE_FLANNEL_V0_28_9,
} as const;

/** The file name on the master, and what sha256sum -c reads. */
export const FLANNEL_MANIFEST_FILE = 'kube-flannel.yml';
export const FLANNEL_CHECKSUM_FILE = 'kube-flannel.sha256';

/** flannel's manifests carry this network in net-conf.json; it becomes the pod CIDR. */
const FLANNEL_DEFAULT_NETWORK = '10.244.0.0/16';
const networkSetting = (cidr: string) => `"Network": "${cidr}"`;

/** The manifest with `from`'s one network setting changed to the pod CIDR; throws if it has not exactly one. */
function withPodNetwork(manifest: string, podCidr: string): string {
  const from = networkSetting(FLANNEL_DEFAULT_NETWORK);
  const count = manifest.split(from).length - 1;
  if (count !== 1) throw new Error(`flannel manifest: expected ${from} once in net-conf.json, found it ${count} times`);
  return manifest.replace(from, networkSetting(podCidr));
}

/** kube-flannel.yml as shipped in the master's bundle: the vendored release with its network set to the pod CIDR. */
export function renderBundledFlannelManifest(t: Topology): string {
  return withPodNetwork(BUNDLED_FLANNEL_MANIFEST.text, t.kubernetes.podCidr);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The one line `sha256sum -c` reads on the master: for a bundled manifest the digest of the file
 * synth wrote (the copy that arrives is the copy that was reviewed), for a download the pinned digest
 * of the release asset.
 */
export function renderFlannelChecksum(t: Topology): string {
  const digest = t.kubernetes.flannelManifestSource === FlannelManifestSource.BUNDLED
    ? sha256(renderBundledFlannelManifest(t))
    : t.kubernetes.flannelManifestSha256;
  return lines(`${digest}  ${FLANNEL_MANIFEST_FILE}`);
}

/**
 * apply-flannel.sh: applies flannel once the control plane runs (lib/kubernetes/apply-flannel.sh).
 * Nothing is applied unless its sha256 matches; a downloaded release asset gets its network set to the
 * pod CIDR after the check. `kubectl apply` is idempotent: a second run changes nothing.
 */
export function renderApplyFlannel(t: Topology): string {
  const k = t.kubernetes;
  const bundled = k.flannelManifestSource === FlannelManifestSource.BUNDLED;
  const url = flannelManifestUrlOf(k.flannelVersion);
  return shellScript(
    `Applies flannel ${k.flannelVersion} (${bundled ? 'the manifest shipped in this bundle' : `downloaded from ${url}`}) with the pod network ${k.podCidr}.`,
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/apply-flannel.sh', {
      ADMIN_KUBECONFIG,
      FLANNEL_VERSION: k.flannelVersion,
      FLANNEL_MANIFEST_URL: bundled ? '' : url,
      FLANNEL_DEFAULT_NETWORK,
      POD_CIDR: k.podCidr,
    }),
  );
}
