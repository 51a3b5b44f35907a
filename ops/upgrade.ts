/**
 * npm run upgrade -- [--plan] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE] [--connect-timeout N]
 *
 * Moves the cluster to the topology's kubernetes.version (set it, npm run synth, then this; npm run apply
 * after), one minor at a time, in the order of the kubeadm upgrade guide (lib/kubernetes/upgrade.ts):
 * containerd checked on every node against the target's needs first; then the control-plane node
 * (kubeadm moved, `kubeadm upgrade plan` and `apply`, drained, kubelet and kubectl moved, uncordoned,
 * Ready at the new version), then each worker in turn (kubeadm moved, `kubeadm upgrade node`, drained
 * with PodDisruptionBudgets respected and a timeout, kubelet and kubectl moved, uncordoned, Ready). The
 * site's own page Pods are pinned to their worker (they could run nowhere else): the drain leaves them,
 * and they keep running while the kubelet restarts. It stops at the first failure, naming the node and
 * the step, and leaves the nodes after it untouched; running it again resumes, because each node's state
 * is read from the cluster (the API server's version, each Node's kubelet), never remembered.
 * Exit codes: 0 done (or, with --plan, the plan printed and nothing changed), 1 a node or the cluster
 * failed (stopped there), 2 bad flags, or a kubernetes.version the cluster cannot move to (a skipped
 * minor, a downgrade), or a topology whose nodes are not the cluster's.
 */
import { rmSync } from 'node:fs';
import { APP_LABEL_KEY } from '../constructs/k8s/nginx-pages-chart';
import { shq, shellScript } from '../lib/formats/shell';
import { containerdVersionCheck } from '../lib/kubernetes/containerd';
import { ADMIN_KUBECONFIG } from '../lib/kubernetes/kubeadm';
import {
  ClusterState, NodeStep, parseNodeList, parseServerVersion, planUpgrade, renderUpgradeNode, UPGRADE_DRAIN_TIMEOUT_SECONDS, UPGRADE_READY_TIMEOUT_SECONDS, UpgradePlan,
} from '../lib/kubernetes/upgrade';
import { osProfile } from '../lib/os-profiles';
import { Topology } from '../lib/topology';
import { parseFlags, usageExit } from './args';
import { SITE_FLAGS_USAGE, siteOfFlags } from './site';
import { closeShared, ssh, SshOptions, sshOptionsOf, SshResult } from './ssh';

const USAGE = `usage: npm run upgrade -- [--plan] [--config FILE] [--cdktf-out DIR] [--ssh-key PATH] [--known-hosts FILE]
                         [--connect-timeout SECONDS]

  Moves the cluster to kubernetes.version of the site's topology (set it, npm run synth, then this; npm run
  apply after), one minor at a time: the control-plane node, then each worker (drained, its kubelet moved,
  uncordoned, Ready). Stops at the first failure; run it again to resume.

  --plan                 read the cluster and print what would be done; change nothing
${SITE_FLAGS_USAGE}
  --connect-timeout N    seconds to wait for each SSH connection (default 10)`;

/** How long one node's kubeadm step may take (`kubeadm upgrade apply` pulls images and restarts the control plane). */
const KUBEADM_STEP_MS = 1_800_000;
const KUBELET_STEP_MS = 900_000;
const KUBECTL_REQUEST_SECONDS = 30;
const READY_POLL_MS = 5_000;

interface Job {
  readonly t: Topology;
  readonly options: SshOptions;
  readonly planOnly: boolean;
}

type Say = (line: string) => void;

/** A host of the topology by Node name: the control plane or a worker. */
function hostOf(t: Topology, name: string) {
  return [t.controlPlane, ...t.workers].find((h) => h.name === name)!;
}

function lastLine(result: SshResult): string {
  return result.stderr.trim().split('\n').pop() || result.stdout.trim().split('\n').pop() || `exit ${result.code}`;
}

/** kubectl on the control-plane node, as root, with the admin kubeconfig. */
function kubectl(job: Job, args: string, timeoutMs = 60_000): Promise<SshResult> {
  const cp = job.t.controlPlane;
  return ssh(job.options, cp.sshUser, cp.address, `${cp.sudoPrefix}kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=${KUBECTL_REQUEST_SECONDS}s ${args}`, timeoutMs);
}

async function readCluster(job: Job): Promise<ClusterState | string> {
  const version = await kubectl(job, 'get --raw /version');
  const server = version.code === 0 ? parseServerVersion(version.stdout) : undefined;
  if (!server) return `the API server's version: ${version.code === 0 ? 'not a version document' : lastLine(version)}`;
  const list = await kubectl(job, 'get nodes -o json');
  const nodes = list.code === 0 ? parseNodeList(list.stdout) : undefined;
  if (!nodes) return `the cluster's Nodes: ${list.code === 0 ? 'not a NodeList' : lastLine(list)}`;
  return { server, nodes };
}

function describe(plan: Extract<UpgradePlan, { ok: true }>, say: Say): void {
  say(`cluster at ${plan.from}; target ${plan.to}`);
  plan.steps.forEach((step, i) => {
    const what = step.action === 'upgrade'
      ? (step.role === 'first-control-plane' ? 'kubeadm, kubeadm upgrade apply, drain, kubelet and kubectl, uncordon, Ready' : 'kubeadm, kubeadm upgrade node, drain, kubelet and kubectl, uncordon, Ready')
      : step.action === 'uncordon' ? 'at the target but cordoned: uncordon, Ready' : 'at the target: nothing to do';
    say(`  ${i + 1}. ${step.node} (kubelet ${step.kubelet}): ${what}`);
  });
}

/** Runs the node's script (upgrade-node.sh) with its arguments, as root; returns the version of its last line. */
async function onNode(job: Job, step: NodeStep, phase: 'kubeadm' | 'kubelet', version: string, timeoutMs: number): Promise<{ version?: string; error?: string }> {
  const host = hostOf(job.t, step.node);
  const script = renderUpgradeNode(job.t.kubernetes, osProfile(host));
  const result = await ssh(job.options, host.sshUser, host.address, `${host.sudoPrefix}bash -c ${shq(script)} upgrade-node ${phase} ${step.role} ${shq(version)}`, timeoutMs);
  const said = new RegExp(`^${phase}=v(\\d+\\.\\d+\\.\\d+)$`).exec(result.stdout.trim().split('\n').pop() ?? '');
  if (result.code !== 0 || !said) return { error: result.code === 0 ? `no "${phase}=v…" line at the end of its output` : lastLine(result) };
  return { version: said[1] };
}

/** Polls (bounded) until the Node is Ready with its kubelet at `version`. */
async function readyAt(job: Job, node: string, version: string): Promise<string | undefined> {
  const deadline = Date.now() + UPGRADE_READY_TIMEOUT_SECONDS * 1000;
  let last = 'not asked yet';
  for (let i = 0; i < UPGRADE_READY_TIMEOUT_SECONDS * 1000 / READY_POLL_MS + 1 && Date.now() <= deadline; i++) {
    const got = await kubectl(job, `get node ${shq(node)} -o json`);
    const [state] = got.code === 0 ? parseNodeList(`{"items":[${got.stdout}]}`) ?? [] : [];
    if (state?.ready && state.kubelet === `v${version}`) return undefined;
    last = state ? `${state.ready ? 'Ready' : 'not Ready'}, kubelet ${state.kubelet}` : lastLine(got);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  return `not Ready at v${version} within ${UPGRADE_READY_TIMEOUT_SECONDS}s (${last})`;
}

async function upgrade(job: Job, say: Say): Promise<number> {
  const { t } = job;
  const cluster = await readCluster(job);
  if (typeof cluster === 'string') {
    say(`${t.controlPlane.name}: cannot read ${cluster}`);
    return 1;
  }
  const plan = planUpgrade(t, cluster);
  if (!plan.ok) {
    console.error(`error: ${plan.field}: ${plan.reason}`);
    return 2;
  }
  describe(plan, say);
  if (job.planOnly) return 0;
  if (plan.steps.every((s) => s.action === 'none')) {
    say('every node is at the target: nothing to do');
    return 0;
  }

  // containerd first, on every node to upgrade: a runtime too old for the target stops the run before anything moved.
  const toUpgrade = plan.steps.filter((s) => s.action === 'upgrade');
  for (const step of toUpgrade) {
    const host = hostOf(t, step.node);
    const check = shellScript(`containerd against Kubernetes ${t.kubernetes.version}`, containerdVersionCheck(t.kubernetes, osProfile(host)));
    const checked = await ssh(job.options, host.sshUser, host.address, `${host.sudoPrefix}bash -c ${shq(check)}`, 60_000);
    if (checked.code !== 0) {
      say(`${step.node}: containerd check: ${lastLine(checked)}; nothing was changed`);
      return 1;
    }
  }
  say(`containerd: fit for ${t.kubernetes.version} on ${toUpgrade.map((s) => s.node).join(', ') || 'no node'}`);

  // The exact version the workers follow: the topology's patch, or the API server's once it runs the target minor.
  let version = plan.to.endsWith('.x') ? '' : plan.to.slice(1);
  for (const [i, step] of plan.steps.entries()) {
    const rest = plan.steps.slice(i + 1).map((s) => s.node);
    const stop = (what: string) => {
      say(`${step.node}: ${what}`);
      say(`stopped at ${step.node}; ${rest.length > 0 ? `${rest.join(', ')} untouched` : 'no node after it'}. Run npm run upgrade again to resume from the cluster's state.`);
      return 1;
    };
    if (step.action === 'none') {
      say(`${step.node}: at ${plan.to}: nothing to do`);
      continue;
    }
    if (step.action === 'upgrade') {
      say(`${step.node}: kubeadm to ${version ? `v${version}` : plan.to}, then ${step.role === 'first-control-plane' ? 'kubeadm upgrade apply' : 'kubeadm upgrade node'}`);
      const kubeadm = await onNode(job, step, 'kubeadm', version, KUBEADM_STEP_MS);
      if (kubeadm.error) return stop(`kubeadm step failed: ${kubeadm.error}`);
      version ||= kubeadm.version!;
      say(`${step.node}: drain (PodDisruptionBudgets respected, at most ${UPGRADE_DRAIN_TIMEOUT_SECONDS}s; the site's pinned page Pods stay)`);
      const drained = await kubectl(job, `drain ${shq(step.node)} --ignore-daemonsets --delete-emptydir-data --timeout=${UPGRADE_DRAIN_TIMEOUT_SECONDS}s `
        + `--pod-selector=${shq(`${APP_LABEL_KEY}!=${t.workload.appLabel}`)}`, (UPGRADE_DRAIN_TIMEOUT_SECONDS + 60) * 1000);
      if (drained.code !== 0) return stop(`drain failed (it stays cordoned): ${lastLine(drained)}`);
      say(`${step.node}: kubelet and kubectl to v${version}, kubelet restarted`);
      const kubelet = await onNode(job, step, 'kubelet', version, KUBELET_STEP_MS);
      if (kubelet.error) return stop(`kubelet step failed (it stays cordoned): ${kubelet.error}`);
    }
    const uncordoned = await kubectl(job, `uncordon ${shq(step.node)}`);
    if (uncordoned.code !== 0) return stop(`uncordon failed: ${lastLine(uncordoned)}`);
    const target = version || plan.to.slice(1);
    const notReady = await readyAt(job, step.node, target);
    if (notReady) return stop(notReady);
    say(`${step.node}: Ready at v${target}`);
  }
  say(`cluster at v${version || plan.to.slice(1)}; npm run apply next (it finds the packages at kubernetes.version)`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let job: Job;
  let controlDir: string | undefined;
  try {
    const flags = parseFlags(argv, { values: ['--config', '--cdktf-out', '--ssh-key', '--known-hosts', '--connect-timeout'], switches: ['--plan'] });
    if (flags.switches.has('--help')) {
      console.log(USAGE);
      return 0;
    }
    const { topology: t } = siteOfFlags(flags);
    const options = sshOptionsOf(flags);
    controlDir = options.controlDir;
    job = { t, options, planOnly: flags.switches.has('--plan') };
  } catch (error) {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
    return usageExit(error);
  }
  try {
    return await upgrade(job, (line) => console.log(line));
  } finally {
    await Promise.all([job.t.controlPlane, ...job.t.workers].map((h) => closeShared(job.options, h.sshUser, h.address)));
    rmSync(controlDir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
