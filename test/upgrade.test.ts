/**
 * npm run upgrade. Real kubeadm, kubelet and an API server cannot run here, so: the plan is asked as a
 * model (planUpgrade, from what the cluster reports); the node's script (upgrade-node.sh) and the
 * families' `move` run under bash with stand-in kubeadm, kubectl, apt-get, dnf and systemctl that
 * record their calls; and the command runs as a user runs it, under `unshare -n`, against an `ssh`
 * stand-in that plays the cluster (the API server's version and each Node's kubelet in files it updates
 * as the steps report), so the order of the steps, the stop at a failure and the resume are the
 * command's own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { shellBody, shellScript } from '../lib/formats/shell';
import { ADMIN_KUBECONFIG } from '../lib/kubernetes/kubeadm';
import { kubeadmVersionParams } from '../lib/kubernetes/kubernetes-repo';
import { ClusterNode, ClusterState, parseNodeList, parseServerVersion, planUpgrade, renderUpgradeNode } from '../lib/kubernetes/upgrade';
import { DEBIAN_PROFILE } from '../lib/os-profiles/debian';
import { RHEL_PROFILE } from '../lib/os-profiles/rhel';
import { loadTopology, Topology } from '../lib/topology';
import { fakeBin } from './support/fake-bin';
import { scratchDir } from './support/scratch';
import { operatorSite, synthSite } from './support/synth-site';

const repo = resolve(__dirname, '..');
const at = (version: string) => loadTopology({ overrides: { kubernetes: { version } } });
const node = (name: string, kubelet: string, more: Partial<ClusterNode> = {}): ClusterNode => ({ name, kubelet, ready: true, unschedulable: false, ...more });
const cluster = (server: string, kubelets: Record<string, string>, more: Record<string, Partial<ClusterNode>> = {}): ClusterState =>
  ({ server, nodes: Object.entries(kubelets).map(([name, kubelet]) => node(name, kubelet, more[name])) });
const allAt = (version: string) => cluster(version, { master: version, node01: version, node02: version });

describe('the plan, from what the cluster reports', () => {
  test('one minor up: the control-plane node first, then each worker, in the topology\'s order; the patch is the newest of the minor', () => {
    const plan = planUpgrade(at('1.36'), allAt('v1.35.4'));
    expect(plan).toEqual({
      ok: true, from: 'v1.35.4', to: 'v1.36.x',
      steps: [
        { node: 'master', role: 'first-control-plane', kubelet: 'v1.35.4', action: 'upgrade' },
        { node: 'node01', role: 'node', kubelet: 'v1.35.4', action: 'upgrade' },
        { node: 'node02', role: 'node', kubelet: 'v1.35.4', action: 'upgrade' },
      ],
    });
  });

  test('a skipped minor is refused, naming the versions to go through; so is a downgrade, also of a pinned patch', () => {
    const skip = planUpgrade(at('1.37'), allAt('v1.35.4'));
    expect(skip).toMatchObject({ ok: false, field: 'kubernetes.version' });
    expect(!skip.ok && skip.reason).toContain('got 1.37, but the cluster runs v1.35.4; expected 1.35.x or 1.36');
    expect(!skip.ok && skip.reason).toContain('set kubernetes.version 1.36, then kubernetes.version 1.37, each followed by npm run synth and npm run upgrade');
    expect(planUpgrade(at('1.35'), allAt('v1.36.4'))).toMatchObject({ ok: false, field: 'kubernetes.version', reason: expect.stringContaining('got 1.35, but the cluster runs v1.36.4; expected v1.36.4 or later (kubeadm does not downgrade a cluster)') });
    expect(planUpgrade(at('1.35.2'), allAt('v1.35.4'))).toMatchObject({ ok: false, field: 'kubernetes.version', reason: expect.stringContaining('does not downgrade') });
  });

  test('resumed after a stop: what the cluster already runs is left; a node at the target but cordoned is only uncordoned', () => {
    const half = cluster('v1.36.2', { master: 'v1.36.2', node01: 'v1.36.2', node02: 'v1.35.4' }, { node01: { unschedulable: true } });
    const plan = planUpgrade(at('1.36'), half);
    expect(plan.ok && plan.to).toBe('v1.36.2');
    expect(plan.ok && plan.steps.map((s) => `${s.node}:${s.action}`)).toEqual(['master:none', 'node01:uncordon', 'node02:upgrade']);
    // Stopped between kubeadm upgrade apply and the control-plane node's kubelet: that node again (its apply is then skipped).
    const applied = planUpgrade(at('1.36'), cluster('v1.36.2', { master: 'v1.35.4', node01: 'v1.35.4', node02: 'v1.35.4' }));
    expect(applied.ok && applied.steps.map((s) => s.action)).toEqual(['upgrade', 'upgrade', 'upgrade']);
    expect(planUpgrade(at('1.36'), allAt('v1.36.2'))).toMatchObject({ ok: true, steps: [{ action: 'none' }, { action: 'none' }, { action: 'none' }] });
  });

  test('a pinned patch moves a cluster of the same minor; at it, nothing is left to do', () => {
    expect(planUpgrade(at('1.36.3'), allAt('v1.36.1'))).toMatchObject({ ok: true, to: 'v1.36.3', steps: [{ action: 'upgrade' }, { action: 'upgrade' }, { action: 'upgrade' }] });
    expect(planUpgrade(at('1.36.3'), allAt('v1.36.3'))).toMatchObject({ ok: true, steps: [{ action: 'none' }, { action: 'none' }, { action: 'none' }] });
  });

  test('a cluster whose Nodes are not the topology\'s is refused: a Node the topology lacks, a node not joined', () => {
    const stranger = planUpgrade(at('1.36'), cluster('v1.35.4', { master: 'v1.35.4', node01: 'v1.35.4', node02: 'v1.35.4', node09: 'v1.35.4' }));
    expect(stranger).toMatchObject({ ok: false, field: 'workers', reason: expect.stringContaining('Nodes the topology lacks (node09)') });
    const missing = planUpgrade(at('1.36'), cluster('v1.35.4', { master: 'v1.35.4', node01: 'v1.35.4' }));
    expect(missing).toMatchObject({ ok: false, field: 'workers', reason: expect.stringContaining('node02 of the topology is not a Node of the cluster') });
    expect(planUpgrade(at('1.36'), allAt('1.35'))).toMatchObject({ ok: false, field: 'cluster' });
  });

  test('reads kubectl get nodes -o json and /version', () => {
    const list = JSON.stringify({
      kind: 'NodeList',
      items: [
        { metadata: { name: 'master' }, spec: {}, status: { nodeInfo: { kubeletVersion: 'v1.35.4' }, conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] } },
        { metadata: { name: 'node01' }, spec: { unschedulable: true }, status: { nodeInfo: { kubeletVersion: 'v1.35.4' }, conditions: [{ type: 'Ready', status: 'Unknown' }] } },
      ],
    });
    expect(parseNodeList(list)).toEqual([node('master', 'v1.35.4'), node('node01', 'v1.35.4', { ready: false, unschedulable: true })]);
    expect(parseNodeList('{"kind":"Status"}')).toBeUndefined();
    expect(parseNodeList('Unable to connect to the server')).toBeUndefined();
    expect(parseServerVersion('{\n  "major": "1",\n  "gitVersion": "v1.35.4",\n  "platform": "linux/amd64"\n}')).toBe('v1.35.4');
    expect(parseServerVersion('{"gitVersion":"unknown"}')).toBeUndefined();
  });
});

/** upgrade-node.sh with a stand-in `move` (what the families do is tested below), kubeadm, kubectl, systemctl and kubelet. */
function runNodeScript(t: Topology, args: string[], env: { server?: string; repositoryHas?: string } = {}) {
  const state = scratchDir('k8s-ha-edge-upgrade-node-');
  writeFileSync(join(state, 'kubeadm'), 'v1.35.4\n');
  const { bin, log } = fakeBin(state, {
    kubeadm: `echo "kubeadm $*" >> "$LOG"; if [ "$1 $2" = "version -o" ]; then cat ${state}/kubeadm; fi`,
    kubectl: `echo "kubectl $*" >> "$LOG"; printf '{\\n  "major": "1",\\n  "gitVersion": "%s"\\n}\\n' "${env.server ?? 'v1.35.4'}"`,
    systemctl: 'echo "systemctl $*" >> "$LOG"',
    kubelet: `echo "Kubernetes $(cat ${state}/kubelet 2>/dev/null || echo v1.35.4)"`,
  });
  // move: what the repository has, or VERSION when pinned.
  const move = `move() { echo "move VERSION=$VERSION $*" >> ${log}; local v="\${VERSION:-${env.repositoryHas ?? '1.36.3'}}"; for p in "$@"; do echo "v$v" > ${state}/$p; done; }`;
  const script = shellScript('test', move, shellBody('kubernetes/upgrade-node.sh', { ...kubeadmVersionParamsOf(t), ADMIN_KUBECONFIG }));
  const run = spawnSync('bash', ['-c', script, 'upgrade-node', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}

function kubeadmVersionParamsOf(t: Topology) {
  const { KUBERNETES_VERSION, KUBEADM_VERSION_REGEX } = kubeadmVersionParams(t.kubernetes);
  return { KUBERNETES_VERSION, KUBEADM_VERSION_REGEX };
}

describe('upgrade-node.sh (bash; stand-ins for move, kubeadm, kubectl, systemctl)', () => {
  test('kubeadm on the control-plane node: kubeadm to the newest of the minor, then plan and apply of that version; says it', () => {
    const run = runNodeScript(at('1.36'), ['kubeadm', 'first-control-plane', '']);
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => !c.startsWith('kubeadm version'))).toEqual([
      'move VERSION= kubeadm',
      `kubectl --kubeconfig ${ADMIN_KUBECONFIG} get --raw /version`,
      'kubeadm upgrade plan v1.36.3',
      'kubeadm upgrade apply -y v1.36.3',
    ]);
    expect(run.stdout.trim().split('\n').pop()).toBe('kubeadm=v1.36.3');
  });

  test('run again after the apply (the API server at that version): no second apply', () => {
    const run = runNodeScript(at('1.36'), ['kubeadm', 'first-control-plane', ''], { server: 'v1.36.3' });
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => c.startsWith('kubeadm upgrade'))).toEqual([]);
  });

  test('kubeadm on any other node: pinned to the control plane\'s version, then kubeadm upgrade node', () => {
    const run = runNodeScript(at('1.36'), ['kubeadm', 'node', '1.36.3']);
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => !c.startsWith('kubeadm version'))).toEqual(['move VERSION=1.36.3 kubeadm', 'kubeadm upgrade node']);
  });

  test('kubelet: kubelet and kubectl to the version, the kubelet restarted, its version said', () => {
    const run = runNodeScript(at('1.36'), ['kubelet', 'node', '1.36.3']);
    expect(run.code).toBe(0);
    expect(run.calls).toEqual(['move VERSION=1.36.3 kubelet kubectl', 'systemctl daemon-reload', 'systemctl restart kubelet']);
    expect(run.stdout.trim().split('\n').pop()).toBe('kubelet=v1.36.3');
  });

  test('a repository without the target minor: stops after the move, before any kubeadm upgrade', () => {
    const run = runNodeScript(at('1.36'), ['kubeadm', 'first-control-plane', ''], { repositoryHas: '1.35.9' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('kubeadm v1.35.9 is installed after the move, but kubernetes.version is 1.36');
    expect(run.calls.filter((c) => c.startsWith('kubeadm upgrade'))).toEqual([]);
  });

  test('bad arguments: exit 2, nothing moved', () => {
    for (const args of [['frobnicate', 'node'], ['kubeadm', 'worker'], ['kubelet', 'node', ''], ['kubeadm', 'node', '1.36']]) {
      const run = runNodeScript(at('1.36'), args);
      expect(run.code).toBe(2);
      expect(run.calls).toEqual([]);
    }
  });
});

describe('move, per family (bash; stand-ins for apt-get, apt-mark and dnf)', () => {
  const family = (profile: typeof DEBIAN_PROFILE, version: string) => {
    const { bin, log } = fakeBin(scratchDir('k8s-ha-edge-move-'), { 'apt-get': 'echo "apt-get $*" >> "$LOG"', 'apt-mark': 'echo "apt-mark $*" >> "$LOG"', dnf: 'echo "dnf $*" >> "$LOG"' });
    const run = spawnSync('bash', ['-c', `${profile.kubernetes.move}\nVERSION=${version}\nmove kubelet kubectl`], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    return readFileSync(log, 'utf8').trim().split('\n');
  };

  test('Debian: pinned to any revision of the version, past the hold, held again; unpinned: the newest', () => {
    expect(family(DEBIAN_PROFILE, '1.36.3')).toEqual(['apt-get update -q', 'apt-get install -y -q --allow-change-held-packages kubelet=1.36.3-* kubectl=1.36.3-*', 'apt-mark hold kubelet kubectl']);
    expect(family(DEBIAN_PROFILE, '')).toEqual(['apt-get update -q', 'apt-get install -y -q --allow-change-held-packages kubelet kubectl', 'apt-mark hold kubelet kubectl']);
  });

  test('RHEL: past the repository\'s exclude (which holds them again), installed at the version or upgraded to the newest', () => {
    expect(family(RHEL_PROFILE, '1.36.3')).toEqual(['dnf install -y -q --disableexcludes=kubernetes kubelet-1.36.3 kubectl-1.36.3']);
    expect(family(RHEL_PROFILE, '')).toEqual(['dnf upgrade -y -q --disableexcludes=kubernetes kubelet kubectl']);
  });
});

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
(hasShellcheck ? test : test.skip)('the rendered upgrade-node scripts of both families pass shellcheck', () => {
  for (const profile of [DEBIAN_PROFILE, RHEL_PROFILE]) {
    const run = spawnSync('shellcheck', ['-S', 'warning', '-s', 'bash', '-'], { input: renderUpgradeNode(at('1.36').kubernetes, profile), encoding: 'utf8' });
    expect(run.stdout).toBe('');
    expect(run.status).toBe(0);
  }
});

describe('npm run upgrade (under unshare -n; an ssh stand-in plays the cluster)', () => {
  const testSite = operatorSite('k8s-ha-edge-upgrade-site-', 'kubernetes: { version: "1.36" }\n');
  const { site, cdktfOut, key, home, bin } = testSite;
  // The cluster in files: server (the API server's version), kubelet-<node>, cordoned-<node>. FAIL_AT: "<node> <step>".
  writeFileSync(join(bin, 'ssh'), `#!/usr/bin/env bash
for last; do :; done
case "$*" in *' -O exit '*) exit 0 ;; esac
host=$(for a; do case "$a" in *@*) echo "\${a#*@}" ;; esac; done | head -1)
case "$host" in 192.168.10.10) name=master ;; 192.168.10.20) name=node01 ;; 192.168.10.30) name=node02 ;; esac
S=$CLUSTER
fail() { if [ "\${FAIL_AT:-}" = "$1" ]; then echo "$2" >&2; exit 1; fi; }
node_json() { printf '{"metadata":{"name":"%s"},"spec":{"unschedulable":%s},"status":{"nodeInfo":{"kubeletVersion":"%s"},"conditions":[{"type":"Ready","status":"True"}]}}' "$1" "$([ -e "$S/cordoned-$1" ] && echo true || echo false)" "$(cat "$S/kubelet-$1")"; }
kubectl_prefix="kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=30s "
case "$last" in
  "$kubectl_prefix"*)
    args=\${last#"$kubectl_prefix"}
    echo "$name: kubectl $args" >> "$SSH_LOG"
    case "$args" in
      'get --raw /version') printf '{"gitVersion": "%s"}\\n' "$(cat "$S/server")" ;;
      'get nodes -o json') printf '{"kind":"NodeList","items":[%s,%s,%s]}' "$(node_json master)" "$(node_json node01)" "$(node_json node02)" ;;
      'get node '*) node_json "$(echo "$args" | awk '{print $3}')" ;;
      'drain '*) n=$(echo "$args" | awk '{print $2}'); touch "$S/cordoned-$n"; fail "$n drain" "error: Cannot evict pod as it would violate the pod's disruption budget." ;;
      'uncordon '*) rm -f "$S/cordoned-$(echo "$args" | awk '{print $2}')" ;;
      *) echo "unexpected kubectl $args" >&2; exit 99 ;;
    esac ;;
  'bash -c '*'containerd_version='*)
    echo "$name: containerd check" >> "$SSH_LOG"; fail "$name containerd" "prepare-node.sh: containerd 1.6.9 is installed; Kubernetes 1.36 needs containerd 2.0.0 or later" ;;
  'bash -c '*'upgrade-node '*)
    set -- \${last##*upgrade-node }
    echo "$name: upgrade-node $1 $2 $3" >> "$SSH_LOG"
    fail "$name $1" "E: Unable to locate package kubeadm"
    version=\${3//\\'/}; [ -n "$version" ] || version=1.36.3
    if [ "$1" = kubeadm ]; then
      if [ "$2" = first-control-plane ]; then echo "v$version" > "$S/server"; fi
      echo "kubeadm=v$version"
    else
      echo "v$version" > "$S/kubelet-$name"; echo "kubelet=v$version"
    fi ;;
  *) echo "unexpected command: \${last:0:80}" >&2; exit 99 ;;
esac
`, { mode: 0o755 });

  beforeAll(() => {
    synthSite(testSite);
  });

  let runs = 0;
  const fresh = (server: string, kubelets: string) => {
    const state = join(site, `cluster-${runs++}`);
    mkdirSync(state);
    writeFileSync(join(state, 'server'), `${server}\n`);
    for (const n of ['master', 'node01', 'node02']) writeFileSync(join(state, `kubelet-${n}`), `${kubelets}\n`);
    return state;
  };
  function upgrade(state: string, args: readonly string[] = [], env: Record<string, string> = {}) {
    const log = join(state, `ssh-${runs++}.log`);
    const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'upgrade.ts'), '--ssh-key', key, '--cdktf-out', cdktfOut, ...args], {
      cwd: repo, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, HOME: home, INIT_CWD: site, PATH: `${bin}:${process.env.PATH}`, SSH_LOG: log, CLUSTER: state, ...env },
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls };
  }
  const steps = (calls: string[]) => calls.filter((c) => !/kubectl get (--raw|nodes|node )/.test(c));
  const kubelets = (state: string) => ['master', 'node01', 'node02'].map((n) => readFileSync(join(state, `kubelet-${n}`), 'utf8').trim());

  test('GIVEN a cluster one minor behind THEN containerd is checked everywhere, then the control plane, then each worker: kubeadm, drain, kubelet, uncordon', () => {
    const state = fresh('v1.35.4', 'v1.35.4');
    const run = upgrade(state);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const drain = (n: string) => `master: kubectl drain ${n} --ignore-daemonsets --delete-emptydir-data --timeout=300s --pod-selector='app!=mcl-nginx'`;
    expect(steps(run.calls)).toEqual([
      'master: containerd check', 'node01: containerd check', 'node02: containerd check',
      "master: upgrade-node kubeadm first-control-plane ''", drain('master'), 'master: upgrade-node kubelet first-control-plane 1.36.3', 'master: kubectl uncordon master',
      'node01: upgrade-node kubeadm node 1.36.3', drain('node01'), 'node01: upgrade-node kubelet node 1.36.3', 'master: kubectl uncordon node01',
      'node02: upgrade-node kubeadm node 1.36.3', drain('node02'), 'node02: upgrade-node kubelet node 1.36.3', 'master: kubectl uncordon node02',
    ]);
    expect(kubelets(state)).toEqual(['v1.36.3', 'v1.36.3', 'v1.36.3']);
    expect(run.stdout).toContain('cluster at v1.36.3; npm run apply next');
  });

  test('--plan reads the cluster and changes nothing', () => {
    const state = fresh('v1.35.4', 'v1.35.4');
    const run = upgrade(state, ['--plan']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('cluster at v1.35.4; target v1.36.x');
    expect(run.stdout).toContain('1. master (kubelet v1.35.4): kubeadm, kubeadm upgrade apply, drain, kubelet and kubectl, uncordon, Ready');
    expect(steps(run.calls)).toEqual([]);
  });

  test('a drain that a PodDisruptionBudget blocks stops there (node02 untouched); run again once it allows, it resumes at node01', () => {
    const state = fresh('v1.35.4', 'v1.35.4');
    const stopped = upgrade(state, [], { FAIL_AT: 'node01 drain' });
    expect(stopped.status).toBe(1);
    expect(stopped.stdout).toContain('node01: drain failed (it stays cordoned): error: Cannot evict pod');
    expect(stopped.stdout).toContain('stopped at node01; node02 untouched');
    expect(stopped.calls.some((c) => c.startsWith('node02: upgrade-node'))).toBe(false);
    expect(kubelets(state)).toEqual(['v1.36.3', 'v1.35.4', 'v1.35.4']);
    expect(existsSync(join(state, 'cordoned-node01'))).toBe(true);

    const resumed = upgrade(state);
    expect(resumed.status).toBe(0);
    expect(steps(resumed.calls).filter((c) => c.includes('upgrade-node'))).toEqual([
      'node01: upgrade-node kubeadm node 1.36.3', 'node01: upgrade-node kubelet node 1.36.3', 'node02: upgrade-node kubeadm node 1.36.3', 'node02: upgrade-node kubelet node 1.36.3',
    ]);
    expect(resumed.stdout).toContain('master: at v1.36.3: nothing to do');
    expect(kubelets(state)).toEqual(['v1.36.3', 'v1.36.3', 'v1.36.3']);
  });

  test('a containerd too old for the target on one node: nothing is changed anywhere', () => {
    const state = fresh('v1.35.4', 'v1.35.4');
    const run = upgrade(state, [], { FAIL_AT: 'node02 containerd' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('node02: containerd check: prepare-node.sh: containerd 1.6.9 is installed; Kubernetes 1.36 needs containerd 2.0.0 or later; nothing was changed');
    expect(run.calls.some((c) => c.includes('upgrade-node') || c.includes('drain'))).toBe(false);
  });

  test('a cluster two minors behind: exit 2 naming kubernetes.version and the way through; nothing is changed', () => {
    const state = fresh('v1.34.2', 'v1.34.2');
    const run = upgrade(state);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('error: kubernetes.version: got 1.36, but the cluster runs v1.34.2; expected 1.34.x or 1.35');
    expect(steps(run.calls)).toEqual([]);
  });

  test('at the target already: nothing to do, exit 0', () => {
    const state = fresh('v1.36.3', 'v1.36.3');
    const run = upgrade(state);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('every node is at the target: nothing to do');
    expect(steps(run.calls)).toEqual([]);
  });

  test('bad flags: exit 2 with the flag named', () => {
    const state = fresh('v1.35.4', 'v1.35.4');
    const run = upgrade(state, ['--frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--frobnicate');
    expect(run.calls).toEqual([]);
  });
});
