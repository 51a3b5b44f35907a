import { HostAccess, InternalHost, SudoPrefix, Topology } from '../topology';
import { renderClientCheck } from './client-check';
import { renderFirewallRules, renderSetupGateway } from './firewall';
import { renderCheckNginx, renderKeepalivedConf } from './keepalived';
import { renderApplyWorkload, renderInitMaster, renderJoinFromMaster, renderJoinWorker, renderKubeadmConfig } from './kubeadm';
import { renderSetupLb } from './lb-setup';
import { renderNginxConf } from './nginx';
import { osProfile } from './os-profiles';
import { renderModulesLoad, renderPrepareNode, renderSysctl } from './node-prep';
import { renderPage, renderPushPage } from './pages';

/** Where bundles are uploaded on every host, one directory per bundle. */
export const REMOTE_STAGING_DIR = '/var/tmp/k8s-ha-edge';

/** The stacks a bundle can belong to; each is applied on its own, in parallel. */
export enum StackName {
  K8S = 'k8s',
  LB = 'lb',
  GATEWAY = 'gateway',
  CLIENT = 'client',
}

export interface BundleFile {
  /** File name inside the bundle. */
  readonly name: string;
  readonly content: string;
  readonly executable: boolean;
}

/** Where a bundle is pushed: the host's SSH endpoint. */
export interface SshTarget {
  readonly hostName: string;
  readonly address: string;
  readonly user: string;
  /** How a root command is run there: '' for root, `sudo -n ` for any other user. */
  readonly sudoPrefix: SudoPrefix;
}

/**
 * Files pushed to one host together and the script run there: one Terraform resource.
 * Its id is part of the public contract (it names the resource in Terraform state).
 */
export interface Bundle {
  readonly id: string;
  readonly stack: StackName;
  readonly target: SshTarget;
  readonly files: readonly BundleFile[];
  /** File in the bundle run on the host (as root) after the upload; undefined: upload only. */
  readonly run?: string;
  /** File in the bundle run where terraform runs, after `run` (for the worker join). */
  readonly runLocally?: string;
  /** Ids of bundles in the same stack that must be applied first. */
  readonly dependsOn: readonly string[];
  /** Why the bundle exists, for the resource's description and the README. */
  readonly description: string;
}

/** Directory of a bundle inside dist/ and on the host (under REMOTE_STAGING_DIR). */
export function bundleDir(bundle: Bundle): string {
  return `${bundle.target.hostName}/${bundle.id}`;
}

export function remoteBundleDir(bundle: Bundle): string {
  return `${REMOTE_STAGING_DIR}/${bundle.id}`;
}

const file = (name: string, content: string): BundleFile => ({ name, content, executable: name.endsWith('.sh') });

/** What every Kubernetes node gets before kubeadm: the same three files on the master and the workers. */
function nodePreparation(t: Topology, host: InternalHost): BundleFile[] {
  return [
    file('modules-load.conf', renderModulesLoad(t.kubernetes)),
    file('sysctl.conf', renderSysctl()),
    file('prepare-node.sh', renderPrepareNode(t.kubernetes, osProfile(host), host.name)),
  ];
}

function target(host: HostAccess, address: string): SshTarget {
  return { hostName: host.name, address, user: host.sshUser, sudoPrefix: host.sudoPrefix };
}

/**
 * The whole provisioning plan: every file every host gets, grouped into bundles.
 * A pure function of the topology; the constructs only turn it into resources.
 */
export function planBundles(t: Topology, workloadManifest: { name: string; content: string }): Bundle[] {
  const master = t.controlPlane;
  const masterTarget = target(master, master.address);
  const bundles: Bundle[] = [];

  bundles.push({
    id: master.name,
    stack: StackName.K8S,
    target: masterTarget,
    description: 'control plane: node preparation, kubeadm init, flannel',
    files: [
      ...nodePreparation(t, master),
      file('kubeadm-config.yaml', renderKubeadmConfig(t)),
      file('init-master.sh', renderInitMaster(t, master.sshUser)),
      file('setup.sh', sequence('prepare-node.sh', 'init-master.sh')),
    ],
    run: 'setup.sh',
    dependsOn: [],
  });

  for (const worker of t.workers) {
    const id = worker.name;
    bundles.push({
      id,
      stack: StackName.K8S,
      target: target(worker, worker.address),
      description: 'worker: node preparation, then a join with a token created at apply time',
      files: [
        ...nodePreparation(t, worker),
        file('join-worker.sh', renderJoinWorker(worker)),
        file('join-from-master.sh', renderJoinFromMaster(t, worker, `${REMOTE_STAGING_DIR}/${id}/join-worker.sh`)),
      ],
      run: 'prepare-node.sh',
      runLocally: 'join-from-master.sh',
      dependsOn: [master.name],
    });
    bundles.push({
      id: `${worker.name}-page`,
      stack: StackName.K8S,
      target: target(worker, worker.address),
      description: `test page served by the Pod on ${worker.name}`,
      files: [file('index.html', renderPage(worker)), file('push-page.sh', renderPushPage(t, worker))],
      run: 'push-page.sh',
      dependsOn: [],
    });
  }

  bundles.push({
    id: 'workload',
    stack: StackName.K8S,
    target: masterTarget,
    description: 'the nginx Pods and their NodePort Service, applied on the control plane',
    files: [file(workloadManifest.name, workloadManifest.content), file('apply-workload.sh', renderApplyWorkload(t, workloadManifest.name))],
    run: 'apply-workload.sh',
    dependsOn: t.workers.flatMap((w) => [w.name, `${w.name}-page`]),
  });

  for (const lb of t.loadBalancer.hosts) {
    bundles.push({
      id: lb.name,
      stack: StackName.LB,
      target: target(lb, lb.address),
      description: 'load balancer: nginx stream proxy and keepalived',
      files: [
        file('nginx.conf', renderNginxConf(t, osProfile(lb).nginx)),
        file('keepalived.conf', renderKeepalivedConf(t, lb)),
        file('check_nginx.sh', renderCheckNginx(t)),
        file('setup-lb.sh', renderSetupLb(t, lb)),
      ],
      run: 'setup-lb.sh',
      dependsOn: [],
    });
  }

  const gateway = t.gateway;
  bundles.push({
    id: gateway.name,
    stack: StackName.GATEWAY,
    target: target(gateway, gateway.inside.address),
    description: 'gateway: forwarding, SNAT and DNAT, filtering',
    files: [file('firewall.rules', renderFirewallRules(t)), file('setup-gateway.sh', renderSetupGateway(t))],
    run: 'setup-gateway.sh',
    dependsOn: [],
  });

  bundles.push({
    id: t.client.name,
    stack: StackName.CLIENT,
    target: target(t.client, t.client.address),
    description: 'client: a script that checks the service through the gateway',
    files: [file('check-service.sh', renderClientCheck(t))],
    dependsOn: [],
  });

  return bundles;
}

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
