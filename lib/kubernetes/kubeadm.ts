import { stringify } from 'yaml';
import { CLUSTER_DNS_DOMAIN, InternalHost, podName, Topology } from '../topology';
import { kubeadmVersionParams } from './kubernetes-repo';
import { lines, shellBody, shellScript, shq } from '../formats/shell';
import { hostKeyOf } from '../plan/bundle';

/** kubeadm's config API: v1beta4 is the one kubeadm 1.31 and later accept without deprecation warnings. */
const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock';
/** Where kubeadm writes the kubelet's credentials: present once a node has joined or been initialised. */
const KUBELET_KUBECONFIG = '/etc/kubernetes/kubelet.conf';
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
/** kubeadm's static Pod manifests: a file here means an init ran (or is running) on this host. */
const MANIFESTS_DIR = '/etc/kubernetes/manifests';
/** Written by init-master.sh once kubeadm init has finished: that control plane is never reset by a re-apply. */
export const INIT_MARKER = '/etc/kubernetes/k8s-ha-edge-initialized';
/** Written by init-master.sh just before kubeadm init: leftovers of an init it started may be reset; any other leftovers are not. */
export const INIT_STARTED_MARKER = '/etc/kubernetes/k8s-ha-edge-init-started';
/** How long (x 5 s) init-master.sh lets a starting API server (after a reboot) answer /readyz before it calls an init unfinished. */
const READYZ_ATTEMPTS = 24;
/** Where kubeadm join puts the cluster's CA: present after a join that got that far. */
const JOIN_CA_FILE = '/etc/kubernetes/pki/ca.crt';
/** The kubelet's config, written by kubeadm join (kubelet then runs and holds port 10250). */
const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';

/**
 * In the bundle's kubeadm-config.yaml, replaced at apply time by `kubeadm version -o short` of the
 * installed kubeadm: `stable-1.N` would be resolved online at init, independent of that kubeadm.
 */
const KUBEADM_VERSION_PLACEHOLDER = '@KUBEADM_VERSION@';
/** The config kubeadm init reads: kubeadm-config.yaml with the installed version filled in. */
const APPLIED_KUBEADM_CONFIG = 'kubeadm-config.applied.yaml';

/** host:port of the API server as kubeconfigs and joining nodes reach it. */
export function controlPlaneEndpoint(t: Topology): string {
  return `${t.kubernetes.controlPlaneEndpoint}:${t.kubernetes.apiServerPort}`;
}

/**
 * Extra names of the API server's certificate (ClusterConfiguration apiServer.certSANs): the load
 * balancers' VIP, where the API is proxied, and the endpoint's own name when it is another one (a
 * DNS name), in that order. kubeadm adds the endpoint's host itself too; naming the VIP as well means
 * a site can switch between the VIP and a name resolving to it, and grow to more control-plane
 * nodes, without a new certificate.
 */
export function apiServerCertSans(t: Topology): string[] {
  return [...new Set([t.loadBalancer.vip, t.kubernetes.controlPlaneEndpoint])];
}

/**
 * The kubeadm configuration for `kubeadm init`. Its bootstrap token has no value:
 * kubeadm generates a random one on the master, and it expires after the join TTL.
 */
export function renderKubeadmConfig(t: Topology): string {
  const k = t.kubernetes;
  const master = t.controlPlane;
  const documents = [
    {
      apiVersion: KUBEADM_API_VERSION,
      kind: 'InitConfiguration',
      bootstrapTokens: [{
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
        ttl: k.joinTokenTtl,
        usages: ['signing', 'authentication'],
      }],
      localAPIEndpoint: { advertiseAddress: master.address, bindPort: k.apiServerPort },
      nodeRegistration: { name: master.name, criSocket: CONTAINERD_SOCKET },
    },
    {
      apiVersion: KUBEADM_API_VERSION,
      kind: 'ClusterConfiguration',
      // Filled in by init-master.sh with the installed kubeadm's own version (prepare-node.sh checked it
      // against kubernetes.version), so nothing is resolved online and kubeadm and cluster agree.
      kubernetesVersion: KUBEADM_VERSION_PLACEHOLDER,
      controlPlaneEndpoint: controlPlaneEndpoint(t),
      apiServer: { certSANs: apiServerCertSans(t) },
      networking: { podSubnet: k.podCidr, serviceSubnet: k.serviceCidr, dnsDomain: CLUSTER_DNS_DOMAIN },
    },
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
    },
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: k.kubeProxyMode,
    },
  ];
  const header = `# kubernetesVersion is set at apply time to the installed kubeadm's version (init-master.sh writes ${APPLIED_KUBEADM_CONFIG}).\n`;
  return header + documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/**
 * init-master.sh: kubeadm init from kubeadm-config.yaml with the installed kubeadm's version
 * (only when the cluster does not exist yet; when it does, check-cluster.sh fails on every
 * setting kubeadm would silently leave as it is) and the admin kubeconfig; flannel follows in
 * apply-flannel.sh.
 */
export function renderInitMaster(t: Topology, sshUser: string): string {
  return shellScript(
    `Initialises the control plane on ${t.controlPlane.name}.`,
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/init-master.sh', {
      ADMIN_KUBECONFIG,
      KUBEADM_VERSION_PLACEHOLDER,
      APPLIED_KUBEADM_CONFIG,
      SSH_USER: sshUser,
      API_SERVER_PORT: t.kubernetes.apiServerPort,
      MANIFESTS_DIR,
      INIT_MARKER,
      INIT_STARTED_MARKER,
      READYZ_ATTEMPTS,
    }),
  );
}

/**
 * check-cluster.sh, run on the master when the cluster exists: compares what the topology wants
 * with what runs (the kubeadm-config and kube-proxy ConfigMaps, every node's podCIDR) and fails,
 * naming each field and its remedy, on any setting that applying would silently leave unchanged.
 */
export function renderCheckCluster(t: Topology): string {
  const k = t.kubernetes;
  return shellScript(
    'Fails when the running cluster differs from the topology in a setting kubeadm only reads at init.',
    shellBody('kubernetes/check-cluster.sh', {
      ADMIN_KUBECONFIG,
      ...kubeadmVersionParams(k),
      CONTROL_PLANE_ENDPOINT: controlPlaneEndpoint(t),
      POD_CIDR: k.podCidr,
      SERVICE_CIDR: k.serviceCidr,
      KUBE_PROXY_MODE: k.kubeProxyMode,
    }),
  );
}

/**
 * apply-workload.sh: waits (bounded) for every worker to be Ready, then applies the Pods
 * and the Service. Pods are immutable, so a changed Pod is replaced.
 */
export function renderApplyWorkload(t: Topology, manifest: string): string {
  return shellScript(
    'Applies the nginx Pods and their NodePort Service once every worker is Ready.',
    'cd "$(dirname "$0")"',
    shellBody('kubernetes/apply-workload.sh', {
      ADMIN_KUBECONFIG,
      WORKER_NODES: t.workers.map((w) => w.name),
      WORKLOAD_MANIFEST: manifest,
      WORKLOAD_NAMESPACE: t.workload.namespace,
      WORKLOAD_PODS: t.workers.map((w) => podName(t.workload, w.name)),
    }),
  );
}

/**
 * join-worker.sh, run on a worker, the same on every worker: reads a join command on stdin (created
 * on the master a moment before, never stored), checks that it verifies the CA, and joins under the
 * node name given as its argument, unless the node has joined already; a join command through any
 * other address than the control-plane endpoint is refused.
 */
export function renderJoinWorker(t: Topology): string {
  return shellScript(
    'Joins this worker to the cluster under the node name given as argument, with a join command read from stdin.',
    shellBody('kubernetes/join-worker.sh', { KUBELET_KUBECONFIG, JOIN_CA_FILE, KUBELET_CONFIG, CONTROL_PLANE_ENDPOINT: controlPlaneEndpoint(t) }),
  );
}

/** Strict checking against the worker's known_hosts when the topology has the host's key; else trust on first use. */
function hostKeyMode(host: InternalHost): 'known' | 'unknown' {
  return host.hostKey !== '' ? 'known' : 'unknown';
}

/**
 * join-from-master.sh, run where terraform runs, the same for every worker: creates a short-lived
 * token on the master and pipes the join command straight to the worker, so the token exists only
 * in the pipe and in the cluster, and expires after the TTL. Which worker: its environment
 * (`joinEnvironment`, set by the worker's resource).
 */
export function renderJoinFromMaster(t: Topology): string {
  const master = t.controlPlane;
  return shellScript(
    `Joins a worker (WORKER_NAME, from the environment) using a fresh token from ${master.name}. Runs on the operator's machine.`,
    shellBody('kubernetes/join-from-master.sh', {
      MASTER_SSH: `${master.sshUser}@${master.address}`,
      MASTER_HOST_KEY: hostKeyMode(master),
      MASTER_COMMAND: `${master.sudoPrefix}kubeadm token create --ttl ${t.kubernetes.joinTokenTtl} --print-join-command`,
    }),
  );
}

/**
 * What join-from-master.sh needs of one worker, as its environment: the worker's name, SSH target and
 * host key mode, the command that runs its join-worker.sh (staged at `workerScript`), and, when a
 * host key is known, the worker's known_hosts (a file of its bundle, given by name).
 */
export function joinEnvironment(worker: InternalHost, workerScript: string, knownHosts: boolean): Record<string, string | { file: string }> {
  return {
    WORKER_NAME: worker.name,
    WORKER_SSH: `${worker.sshUser}@${worker.address}`,
    WORKER_HOST_KEY: hostKeyMode(worker),
    WORKER_COMMAND: `${worker.sudoPrefix}bash ${workerScript} ${shq(worker.name)}`,
    ...(knownHosts ? { KNOWN_HOSTS_FILE: { file: KNOWN_HOSTS_FILE } } : {}),
  };
}

/** A worker's known_hosts (its bundle's own file, read by join-from-master.sh): the host keys the topology gives for the master and the worker. */
export const KNOWN_HOSTS_FILE = 'known_hosts';

/** known_hosts lines ("address type base64") of the master and the worker, or undefined when neither has a key. */
export function renderJoinKnownHosts(t: Topology, worker: InternalHost): string | undefined {
  const known = [t.controlPlane, worker].filter((h) => h.hostKey !== '').map((h) => `${h.address} ${hostKeyOf(h.hostKey)}`);
  return known.length > 0 ? lines(...known) : undefined;
}
