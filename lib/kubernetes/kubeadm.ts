import { stringify } from 'yaml';
import { CLUSTER_DNS_DOMAIN, DEFAULT_NAMESPACE, InternalHost, podName, Topology } from '../topology';
import { kubernetesMinor, kubernetesPatch } from './kubernetes-repo';
import { lines, scriptHeader, shq } from '../formats/shell';
import { hostKeyOf } from '../plan/bundle';

/** kubeadm's config API: v1beta4 is the one kubeadm 1.31 and later accept without deprecation warnings. */
const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock';
/** Where kubeadm writes the kubelet's credentials: present once a node has joined or been initialised. */
const KUBELET_KUBECONFIG = '/etc/kubernetes/kubelet.conf';
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';

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
  return lines(
    scriptHeader(`Initialises the control plane on ${t.controlPlane.name}.`),
    'cd "$(dirname "$0")"',
    `if [ ! -f ${ADMIN_KUBECONFIG} ]; then`,
    '  kubeadm_version=$(kubeadm version -o short)',
    "  if ! [[ $kubeadm_version =~ ^v[0-9]+\\.[0-9]+\\.[0-9]+$ ]]; then",
    '    echo "init-master.sh: unexpected kubeadm version \\"$kubeadm_version\\"" >&2',
    '    exit 1',
    '  fi',
    `  sed "s/${KUBEADM_VERSION_PLACEHOLDER}/$kubeadm_version/" kubeadm-config.yaml > ${APPLIED_KUBEADM_CONFIG}`,
    `  grep -qx "kubernetesVersion: \\"$kubeadm_version\\"" ${APPLIED_KUBEADM_CONFIG}`,
    '  # --skip-token-print: the join token is created per worker at apply time, never logged here.',
    `  kubeadm init --config ${APPLIED_KUBEADM_CONFIG} --skip-token-print`,
    'else',
    '  # The cluster exists: kubeadm init would not run again, so a changed setting would "succeed" unmade.',
    '  bash ./check-cluster.sh',
    'fi',
    `export KUBECONFIG=${ADMIN_KUBECONFIG}`,
    'install -d -m 0700 /root/.kube',
    `install -m 0600 ${ADMIN_KUBECONFIG} /root/.kube/config`,
    sshUser !== 'root' && lines(
      `install -d -m 0700 -o ${shq(sshUser)} ${shq(`/home/${sshUser}/.kube`)}`,
      `install -m 0600 -o ${shq(sshUser)} ${ADMIN_KUBECONFIG} ${shq(`/home/${sshUser}/.kube/config`)}`,
    ),
  );
}

/** What to do about a setting of a running cluster that kubeadm does not change. */
const REMEDY = {
  version: 'kubeadm does not upgrade a running cluster: upgrade it with kubeadm upgrade plan / kubeadm upgrade apply on the control plane (one minor at a time, packages first), then kubeadm upgrade node and the packages on every other node; or set kubernetes.version back.',
  cidr: 'The network of a running cluster cannot be changed in place (every node\'s podCIDR, flannel\'s network and the Service IPs hang on it): rebuild the cluster (kubeadm reset on every node, then apply), or set it back.',
  endpoint: 'The API server certificates and every kubeconfig name the endpoint: rebuild the cluster, or follow kubeadm\'s guide to reconfiguring a cluster (new API server certificate, kubeconfigs, kubeadm-config), or set it back.',
  mode: 'kubeadm writes the kube-proxy ConfigMap only at init: kubectl -n kube-system edit configmap kube-proxy (mode), kubectl -n kube-system rollout restart daemonset kube-proxy, then reboot every node (or run kube-proxy --cleanup there) to drop the old mode\'s rules; or set it back.',
} as const;

/**
 * check-cluster.sh, run on the master when the cluster exists: compares what the topology wants
 * with what runs (the kubeadm-config and kube-proxy ConfigMaps, every node's podCIDR) and fails,
 * naming each field and its remedy, on any setting that applying would silently leave unchanged.
 */
export function renderCheckCluster(t: Topology): string {
  const k = t.kubernetes;
  const patch = kubernetesPatch(k);
  const wantedVersion = patch ? `v${patch}` : `v${kubernetesMinor(k)}.x`;
  const versionPattern = patch ? `v${patch}` : `v${kubernetesMinor(k)}.[0-9]*`;
  return lines(
    scriptHeader(`Fails when the running cluster differs from the topology in a setting kubeadm only reads at init.`),
    `export KUBECONFIG=${ADMIN_KUBECONFIG}`,
    'problems=0',
    '# drift FIELD WANTED RUNNING REMEDY',
    'drift() {',
    '  echo "check-cluster.sh: $1: the topology wants $2, the running cluster has ${3:-nothing}. $4" >&2',
    '  problems=$((problems + 1))',
    '}',
    '# expect_value FIELD WANTED RUNNING REMEDY: a drift unless RUNNING is WANTED.',
    'expect_value() {',
    '  if [ "$3" != "$2" ]; then drift "$@"; fi',
    '}',
    '# top_value TEXT KEY / nested_value TEXT KEY: a scalar of a YAML mapping, unquoted.',
    'top_value() {',
    '  printf \'%s\\n\' "$1" | sed -nE "s/^$2:[[:space:]]*\\"?([^\\"]*)\\"?[[:space:]]*$/\\1/p" | head -n 1',
    '}',
    'nested_value() {',
    '  printf \'%s\\n\' "$1" | sed -nE "s/^[[:space:]]+$2:[[:space:]]*\\"?([^\\"]*)\\"?[[:space:]]*$/\\1/p" | head -n 1',
    '}',
    'ip_to_int() {',
    '  local IFS=. a b c d',
    '  read -r a b c d <<<"$1"',
    '  echo $(((a << 24) | (b << 16) | (c << 8) | d))',
    '}',
    '# cidr_within INNER OUTER: INNER (a.b.c.d/n) lies inside OUTER.',
    'cidr_within() {',
    '  local inner_len=${1#*/} outer_len=${2#*/} mask',
    '  [ "$inner_len" -ge "$outer_len" ] || return 1',
    '  mask=$(((0xFFFFFFFF << (32 - outer_len)) & 0xFFFFFFFF))',
    '  [ $(($(ip_to_int "${1%/*}") & mask)) -eq $(($(ip_to_int "${2%/*}") & mask)) ]',
    '}',
    '',
    "cluster_config=$(kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')",
    'running=$(top_value "$cluster_config" kubernetesVersion)',
    'case "$running" in',
    `  ${versionPattern}) ;;`,
    `  *) drift kubernetes.version ${shq(`${k.version} (${wantedVersion})`)} "$running" ${shq(REMEDY.version)} ;;`,
    'esac',
    ...([
      ['kubernetes.controlPlaneEndpoint', controlPlaneEndpoint(t), 'top_value', 'controlPlaneEndpoint', REMEDY.endpoint],
      ['kubernetes.podCidr', k.podCidr, 'nested_value', 'podSubnet', REMEDY.cidr],
      ['kubernetes.serviceCidr', k.serviceCidr, 'nested_value', 'serviceSubnet', REMEDY.cidr],
    ] as const).map(([field, wanted, reader, key, remedy]) =>
      `expect_value ${field} ${shq(wanted)} "$(${reader} "$cluster_config" ${key})" ${shq(remedy)}`),
    '# Every node\'s Pod range is carved from the pod CIDR at join: one outside it means flannel and the node disagree.',
    "nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{\" \"}{.spec.podCIDR}{\"\\n\"}{end}')",
    'while read -r node node_cidr; do',
    '  if [ -n "$node_cidr" ] && ! cidr_within "$node_cidr" ' + shq(k.podCidr) + '; then',
    `    drift kubernetes.podCidr ${shq(`${k.podCidr} (node podCIDRs inside it)`)} "$node_cidr on node $node" ${shq(REMEDY.cidr)}`,
    '  fi',
    'done <<<"$nodes"',
    "proxy_config=$(kubectl -n kube-system get configmap kube-proxy -o jsonpath='{.data.config\\.conf}')",
    '# An empty mode is kube-proxy\'s default on Linux: iptables.',
    'running=$(top_value "$proxy_config" mode)',
    `expect_value kubernetes.kubeProxyMode ${shq(k.kubeProxyMode)} "\${running:-iptables}" ${shq(REMEDY.mode)}`,
    'if [ "$problems" -gt 0 ]; then',
    '  echo "check-cluster.sh: $problems setting(s) of the topology differ from the running cluster and were NOT applied; nothing was changed." >&2',
    '  exit 1',
    'fi',
    "echo 'check-cluster.sh: the running cluster matches the topology'",
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
  /** Strict checking against the bundle's known_hosts when the topology has the host's key; else trust on first use. */
  const hostKeyOptions = (host: InternalHost) => (host.hostKey !== ''
    ? '-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known_hosts" -o GlobalKnownHostsFile=/dev/null'
    : '-o StrictHostKeyChecking=accept-new');
  return lines(
    scriptHeader(`Joins ${worker.name} using a fresh token from ${master.name}. Runs on the operator's machine.`),
    ': "${SSH_PRIVATE_KEY_PATH:?set SSH_PRIVATE_KEY_PATH to the private key for the hosts}"',
    (master.hostKey !== '' || worker.hostKey !== '') && `known_hosts="$(cd "$(dirname "$0")" && pwd)/${KNOWN_HOSTS_FILE}"`,
    'ssh_to() {',
    '  ssh -i "$SSH_PRIVATE_KEY_PATH" -o BatchMode=yes -o ConnectTimeout=10 "$@"',
    '}',
    `to_worker() { ssh_to ${hostKeyOptions(worker)} ${shq(`${worker.sshUser}@${worker.address}`)} "$@"; }`,
    `to_master() { ssh_to ${hostKeyOptions(master)} ${shq(`${master.sshUser}@${master.address}`)} "$@"; }`,
    `if to_worker test -f ${KUBELET_KUBECONFIG}; then`,
    `  echo ${shq(`${worker.name} has already joined`)}`,
    '  exit 0',
    'fi',
    `to_master ${shq(`${master.sudoPrefix}kubeadm token create --ttl ${t.kubernetes.joinTokenTtl} --print-join-command`)} \\`,
    `  | to_worker ${shq(`${worker.sudoPrefix}bash ${workerScript}`)}`,
  );
}

/** The known_hosts file beside join-from-master.sh: the host keys the topology gives for the master and the worker. */
export const KNOWN_HOSTS_FILE = 'known_hosts';

/** known_hosts lines ("address type base64") of the master and the worker, or undefined when neither has a key. */
export function renderJoinKnownHosts(t: Topology, worker: InternalHost): string | undefined {
  const known = [t.controlPlane, worker].filter((h) => h.hostKey !== '').map((h) => `${h.address} ${hostKeyOf(h.hostKey)}`);
  return known.length > 0 ? lines(...known) : undefined;
}
