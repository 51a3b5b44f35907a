import { Bundle, BundleFile, bundleFile as file, inSharedSet, REMOTE_STAGING_DIR, sshTarget, StackName } from '../plan/bundle';
import { osProfile } from '../os-profiles';
import { FlannelManifestSource, InternalHost, pageBundleId, Topology, WORKLOAD_BUNDLE_ID } from '../topology';
import {
  joinEnvironment, KNOWN_HOSTS_FILE, renderApplyWorkload, renderCheckCluster, renderInitMaster, renderJoinFromMaster, renderJoinKnownHosts,
  renderJoinWorker, renderKubeadmConfig,
} from './kubeadm';
import { FLANNEL_CHECKSUM_FILE, FLANNEL_MANIFEST_FILE, renderApplyFlannel, renderBundledFlannelManifest, renderFlannelChecksum } from './flannel';
import { renderModulesLoad, renderPrepareNode, renderSysctl } from './node-prep';
import { renderContainerdDropIn, renderContainerdMainConfig } from './containerd';
import { renderChronyConf } from './time-sync';
import { renderPage, renderPushPage } from './pages';
import { REMOVE_WORKER_SCRIPT, renderRemoveWorker, renderTeardownNode, renderTeardownPage, renderTeardownWorkload } from './teardown';
import {
  ETCD_BACKUP_UNIT, renderEtcdBackupService, renderEtcdBackupTimer, renderEtcdRestore, renderEtcdSnapshot, renderSetupEtcdBackup, renderTeardownEtcdBackup,
} from './etcd-backup';

/**
 * The shared set of what every Kubernetes node of one OS family gets, byte for byte the same on the
 * master and the workers: written once per synth, however many workers there are.
 */
function nodeSet(host: InternalHost): string {
  return `node-${host.osFamily}`;
}

/**
 * The files of the shared sets, rendered once per synth (per OS family for the node set): every
 * bundle that uses a set holds the very same file objects.
 */
class SharedFiles {
  private readonly nodeFiles = new Map<string, { preparation: BundleFile[]; teardown: BundleFile }>();
  private pageFiles?: BundleFile[];
  private joinFiles?: BundleFile[];

  constructor(private readonly t: Topology) {}

  /** What every Kubernetes node gets before kubeadm: the same files on the master and the workers. */
  nodePreparation(host: InternalHost): BundleFile[] {
    return this.node(host).preparation;
  }

  /** What undoes the node preparation at destroy, in the node's shared set too. */
  nodeTeardown(host: InternalHost): BundleFile {
    return this.node(host).teardown;
  }

  /** The page scripts, the same for every worker (the page itself is the worker's own). */
  pageScripts(): BundleFile[] {
    this.pageFiles ??= inSharedSet(PAGE_SET, [file('push-page.sh', renderPushPage(this.t)), file('teardown-page.sh', renderTeardownPage(this.t))]);
    return this.pageFiles;
  }

  /**
   * The join scripts, the same for every worker: what is a worker's own (its name, SSH target, host
   * key mode) comes from its resource, in the environment of join-from-master.sh.
   */
  joinScripts(): BundleFile[] {
    this.joinFiles ??= inSharedSet(JOIN_SET, [file('join-worker.sh', renderJoinWorker(this.t)), file('join-from-master.sh', renderJoinFromMaster(this.t))]);
    return this.joinFiles;
  }

  private node(host: InternalHost): { preparation: BundleFile[]; teardown: BundleFile } {
    const set = nodeSet(host);
    let files = this.nodeFiles.get(set);
    if (!files) {
      const t = this.t;
      files = {
        preparation: inSharedSet(set, [
          file('modules-load.conf', renderModulesLoad(t.kubernetes)),
          file('sysctl.conf', renderSysctl()),
          file('containerd-config.toml', renderContainerdMainConfig()),
          file('containerd-k8s.toml', renderContainerdDropIn()),
          ...[renderChronyConf(t.timeSync, osProfile(host))].filter((c) => c !== undefined).map((c) => file('chrony.conf', c)),
          file('prepare-node.sh', renderPrepareNode(t.kubernetes, osProfile(host), t.timeSync)),
        ]),
        teardown: { ...file('teardown-node.sh', renderTeardownNode()), shared: set },
      };
      this.nodeFiles.set(set, files);
    }
    return files;
  }
}

/** The shared set of the page scripts. */
const PAGE_SET = 'page';

/** The shared set of the join scripts. */
const JOIN_SET = 'join';

/** A script that runs other scripts of the bundle in order. */
function sequence(...scripts: string[]): string {
  return [
    '#!/usr/bin/env bash',
    '# Runs the bundle\'s steps in order; each is idempotent.',
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    ...scripts.map((s) => `bash ./${s}`),
    '',
  ].join('\n');
}

/**
 * The k8s stack's bundles, in apply order: the control plane, each worker (join) and its
 * page, then the workload once every worker and page is in place.
 */
export function kubernetesBundles(t: Topology, workloadManifest: { name: string; content: string }): Bundle[] {
  const master = t.controlPlane;
  const masterTarget = sshTarget(master, master.address);
  const bundles: Bundle[] = [];
  const shared = new SharedFiles(t);

  bundles.push({
    id: master.name,
    stack: StackName.K8S,
    target: masterTarget,
    description: 'control plane: node preparation, kubeadm init, flannel, the etcd backup timer',
    files: [
      ...shared.nodePreparation(master),
      file('kubeadm-config.yaml', renderKubeadmConfig(t)),
      file('check-cluster.sh', renderCheckCluster(t)),
      file('init-master.sh', renderInitMaster(t, master.sshUser)),
      ...(t.kubernetes.flannelManifestSource === FlannelManifestSource.BUNDLED ? [file(FLANNEL_MANIFEST_FILE, renderBundledFlannelManifest(t))] : []),
      file(FLANNEL_CHECKSUM_FILE, renderFlannelChecksum(t)),
      file('apply-flannel.sh', renderApplyFlannel(t)),
      // The timer's files are in the bundle also when it is off: setup-etcd-backup.sh then removes them from the node.
      ...(t.kubernetes.etcdBackup.enabled ? [
        file('etcd-snapshot.sh', renderEtcdSnapshot(), { runsFromStaging: false }),
        file(`${ETCD_BACKUP_UNIT}.service`, renderEtcdBackupService(t)),
        file(`${ETCD_BACKUP_UNIT}.timer`, renderEtcdBackupTimer(t)),
      ] : []),
      file('setup-etcd-backup.sh', renderSetupEtcdBackup(t)),
      // For an operator to run by hand (docs/runbook.md), also copied from dist/ to a rebuilt node: no staging guard.
      file('etcd-restore.sh', renderEtcdRestore(), { runsFromStaging: false }),
      file('setup.sh', sequence('prepare-node.sh', 'init-master.sh', 'apply-flannel.sh', 'setup-etcd-backup.sh')),
      // Run by each worker's teardown (beforeTeardown below), here because kubectl has the admin credentials here.
      file(REMOVE_WORKER_SCRIPT, renderRemoveWorker()),
      // Run by teardown-node.sh, which every node shares, when it finds it beside itself.
      file('teardown-etcd-backup.sh', renderTeardownEtcdBackup()),
      shared.nodeTeardown(master),
    ],
    run: 'setup.sh',
    teardown: 'teardown-node.sh',
    dependsOn: [],
  });

  for (const worker of t.workers) {
    const id = worker.name;
    const knownHosts = renderJoinKnownHosts(t, worker);
    bundles.push({
      id,
      stack: StackName.K8S,
      target: sshTarget(worker, worker.address),
      description: 'worker: node preparation, then a join with a token created at apply time',
      files: [
        ...shared.nodePreparation(worker),
        ...shared.joinScripts(),
        ...(knownHosts !== undefined ? [file(KNOWN_HOSTS_FILE, knownHosts)] : []),
        shared.nodeTeardown(worker),
      ],
      run: 'prepare-node.sh',
      ...workerTeardown(t, worker),
      runLocally: 'join-from-master.sh',
      localEnvironment: joinEnvironment(worker, `${REMOTE_STAGING_DIR}/${id}/join-worker.sh`, knownHosts !== undefined),
      dependsOn: [master.name],
    });
    bundles.push({
      id: pageBundleId(worker.name),
      stack: StackName.K8S,
      target: sshTarget(worker, worker.address),
      description: `test page served by the Pod on ${worker.name}`,
      // The page is the worker's own and small: carried in its resource, not a file and a directory in cdktf.out.
      files: [file('index.html', renderPage(worker), { inline: true }), ...shared.pageScripts()],
      run: 'push-page.sh',
      teardown: PAGE_TEARDOWN_SCRIPT,
      dependsOn: [],
    });
  }

  bundles.push({
    id: WORKLOAD_BUNDLE_ID,
    stack: StackName.K8S,
    target: masterTarget,
    description: 'the nginx Pods and their NodePort Service, applied on the control plane',
    files: [
      file(workloadManifest.name, workloadManifest.content), file('apply-workload.sh', renderApplyWorkload(t, workloadManifest.name)),
      file('teardown-workload.sh', renderTeardownWorkload(workloadManifest.name)),
    ],
    run: 'apply-workload.sh',
    teardown: 'teardown-workload.sh',
    dependsOn: t.workers.flatMap((w) => [w.name, pageBundleId(w.name)]),
  });
  return bundles;
}

/** The file the worker's page bundle runs at destroy. */
const PAGE_TEARDOWN_SCRIPT = 'teardown-page.sh';

/**
 * What a worker's own bundle does at destroy: the Node cordoned, drained and deleted on the
 * control plane, then the worker's kubeadm reset.
 */
function workerTeardown(t: Topology, worker: InternalHost): Pick<Bundle, 'teardown' | 'beforeTeardown'> {
  const master = t.controlPlane;
  return {
    teardown: 'teardown-node.sh',
    beforeTeardown: { bundle: master.name, target: sshTarget(master, master.address), script: REMOVE_WORKER_SCRIPT, args: [worker.name] },
  };
}

/**
 * The teardowns of a worker that the site had and the topology `t` no longer has: its bundle's
 * (the drain on t's control plane, then its reset) and its page's, as kubernetesBundles plans them,
 * with no file and nothing to run (the files are on the worker already; only their teardown is
 * left). `worker` is the host as the topology that had it resolved it.
 */
export function removedWorkerBundles(t: Topology, worker: InternalHost): Bundle[] {
  const target = sshTarget(worker, worker.address);
  return [
    { id: worker.name, stack: StackName.K8S, target, description: `removed worker ${worker.name}: its teardown`, files: [], dependsOn: [], ...workerTeardown(t, worker) },
    { id: pageBundleId(worker.name), stack: StackName.K8S, target, description: `removed worker ${worker.name}: its page's teardown`, files: [], teardown: PAGE_TEARDOWN_SCRIPT, dependsOn: [] },
  ];
}
