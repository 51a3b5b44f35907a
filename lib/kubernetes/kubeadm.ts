import { stringify } from 'yaml';
import { CLUSTER_DNS_DOMAIN, DEFAULT_NAMESPACE, InternalHost, podName, Topology } from '../topology';
import { kubernetesMinor, kubernetesPatch } from './kubernetes-repo';
import { lines, scriptHeader, shq } from '../formats/shell';

/** kubeadm's config API: v1beta4 is the one kubeadm 1.31 and later accept without deprecation warnings. */
export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
export const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock';
/** Where kubeadm writes the kubelet's credentials: present once a node has joined or been initialised. */
export const KUBELET_KUBECONFIG = '/etc/kubernetes/kubelet.conf';
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';

/**
 * The kubeadm configuration for `kubeadm init`. Its bootstrap token has no value:
 * kubeadm generates a random one on the master, and it expires after the join TTL.
 */
export function renderKubeadmConfig(t: Topology): string {
  const k = t.kubernetes;
  const master = t.controlPlane;
  const patch = kubernetesPatch(k);
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
      // Without a patch, kubeadm resolves the newest patch of the minor (or uses its own version offline).
      kubernetesVersion: patch ? `v${patch}` : `stable-${kubernetesMinor(k)}`,
      controlPlaneEndpoint: `${master.address}:${k.apiServerPort}`,
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
  return documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

export function flannelManifestUrl(t: Topology): string {
  return `https://github.com/flannel-io/flannel/releases/download/${t.kubernetes.flannelVersion}/kube-flannel.yml`;
}

/** Flannel's manifest ships this network in net-conf.json; the init script replaces it with the pod CIDR. */
const FLANNEL_DEFAULT_NETWORK = '10.244.0.0/16';

/**
 * init-master.sh: kubeadm init (only when the cluster does not exist yet), the admin
 * kubeconfig, and flannel from a pinned release with its network set to the pod CIDR.
 */
export function renderInitMaster(t: Topology, sshUser: string): string {
  const k = t.kubernetes;
  return lines(
    scriptHeader(`Initialises the control plane on ${t.controlPlane.name} and installs flannel ${k.flannelVersion}.`),
    'cd "$(dirname "$0")"',
    `if [ ! -f ${ADMIN_KUBECONFIG} ]; then`,
    '  # --skip-token-print: the join token is created per worker at apply time, never logged here.',
    '  kubeadm init --config kubeadm-config.yaml --skip-token-print',
    'fi',
    `export KUBECONFIG=${ADMIN_KUBECONFIG}`,
    'install -d -m 0700 /root/.kube',
    `install -m 0600 ${ADMIN_KUBECONFIG} /root/.kube/config`,
    sshUser !== 'root' && lines(
      `install -d -m 0700 -o ${shq(sshUser)} ${shq(`/home/${sshUser}/.kube`)}`,
      `install -m 0600 -o ${shq(sshUser)} ${ADMIN_KUBECONFIG} ${shq(`/home/${sshUser}/.kube/config`)}`,
    ),
    '',
    `curl -fsSL --retry 5 ${shq(flannelManifestUrl(t))} -o kube-flannel.yml`,
    `sed -i ${shq(`s#"Network": "${FLANNEL_DEFAULT_NETWORK}"#"Network": "${k.podCidr}"#`)} kube-flannel.yml`,
    `grep -qF ${shq(`"Network": "${k.podCidr}"`)} kube-flannel.yml`,
    'kubectl apply -f kube-flannel.yml',
  );
}

/**
 * apply-workload.sh: waits (bounded) for every worker to be Ready, then applies the Pods
 * and the Service. Pods are immutable, so a changed Pod is replaced.
 */
export function renderApplyWorkload(t: Topology, manifest: string): string {
  return lines(
    scriptHeader('Applies the nginx Pods and their NodePort Service once every worker is Ready.'),
    'cd "$(dirname "$0")"',
    `export KUBECONFIG=${ADMIN_KUBECONFIG}`,
    '# A node object appears only once its kubelet registers; `kubectl wait` fails at once on a missing one.',
    `for node in ${t.workers.map((w) => shq(w.name)).join(' ')}; do`,
    '  for attempt in $(seq 1 60); do',
    '    if kubectl get "node/$node" >/dev/null 2>&1; then break; fi',
    '    echo "waiting for node $node to register ($attempt/60)"',
    '    sleep 5',
    '  done',
    '  kubectl wait --for=condition=Ready "node/$node" --timeout=600s',
    'done',
    ...applyOrReplace(t, manifest),
  );
}

/**
 * Applies the manifest; when that fails (a Pod changed, and Pods are immutable) the Pods are
 * replaced. In `default` that is `kubectl replace --force` of the file. A manifest that creates its
 * namespace must not be force-replaced (deleting the Namespace deletes everything in it and stays
 * Terminating for a while): the Pods are deleted by name and the file applied again.
 */
function applyOrReplace(t: Topology, manifest: string): string[] {
  const namespace = t.workload.namespace;
  const fallback = namespace === DEFAULT_NAMESPACE
    ? [`  kubectl replace --force -f ${shq(manifest)}`]
    : [
      `  kubectl delete pod --namespace ${shq(namespace)} --ignore-not-found --wait ${t.workers.map((w) => shq(podName(t.workload, w.name))).join(' ')}`,
      `  kubectl apply -f ${shq(manifest)}`,
    ];
  return [`if ! kubectl apply -f ${shq(manifest)}; then`, ...fallback, 'fi'];
}

/**
 * join-worker.sh, run on the worker: reads a join command on stdin (created on the master
 * a moment before, never stored), checks that it verifies the CA, and joins — unless
 * the node has joined already.
 */
export function renderJoinWorker(worker: InternalHost): string {
  return lines(
    scriptHeader(`Joins ${worker.name} to the cluster with a join command read from stdin.`),
    `if [ -f ${KUBELET_KUBECONFIG} ]; then`,
    `  echo ${shq(`${worker.name} has already joined`)}`,
    '  exit 0',
    'fi',
    'IFS= read -r join_command',
    "pattern='^kubeadm join [^ ]+ --token [a-z0-9]{6}\\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} *$'",
    'if ! [[ $join_command =~ $pattern ]]; then',
    "  echo 'join-worker.sh: expected a join command that verifies the CA hash on stdin' >&2",
    '  exit 1',
    'fi',
    'read -r -a join_args <<<"$join_command"',
    `"\${join_args[@]}" --node-name ${shq(worker.name)}`,
  );
}

/**
 * join-from-master.sh, run where terraform runs: creates a short-lived token on the
 * master and pipes the join command straight to the worker, so the token exists only
 * in the pipe and in the cluster, and expires after the TTL.
 */
export function renderJoinFromMaster(t: Topology, worker: InternalHost, workerScript: string): string {
  const master = t.controlPlane;
  return lines(
    scriptHeader(`Joins ${worker.name} using a fresh token from ${master.name}. Runs on the operator's machine.`),
    ': "${SSH_PRIVATE_KEY_PATH:?set SSH_PRIVATE_KEY_PATH to the private key for the hosts}"',
    'ssh_to() {',
    '  ssh -i "$SSH_PRIVATE_KEY_PATH" -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 "$@"',
    '}',
    `worker=${shq(`${worker.sshUser}@${worker.address}`)}`,
    `master=${shq(`${master.sshUser}@${master.address}`)}`,
    `if ssh_to "$worker" test -f ${KUBELET_KUBECONFIG}; then`,
    `  echo ${shq(`${worker.name} has already joined`)}`,
    '  exit 0',
    'fi',
    `ssh_to "$master" ${shq(`${master.sudoPrefix}kubeadm token create --ttl ${t.kubernetes.joinTokenTtl} --print-join-command`)} \\`,
    `  | ssh_to "$worker" ${shq(`${worker.sudoPrefix}bash ${workerScript}`)}`,
  );
}
