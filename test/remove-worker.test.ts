/**
 * Removing a worker: what its teardown resource runs at destroy, run by bash as terraform would run it.
 * The provisioners' commands are taken from the generated resource, in their order (the control
 * plane's step, then the worker's own), with the staging directory and every path under /etc moved
 * into scratch directories. kubectl and kubeadm are stand-ins (there is no cluster here) that log
 * their calls and answer as the real ones do in each case: the Node present, already gone, the API
 * server unreachable, a drain blocked by a PodDisruptionBudget until its timeout.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { hostResources } from '../constructs/tf/host-provisioner';
import { DRAIN_TIMEOUT_SECONDS, REMOVE_WORKER_SCRIPT } from '../lib/kubernetes/teardown';
import { Bundle, REMOTE_STAGING_DIR, STAGING_GUARD } from '../lib/plan/bundle';
import { ProvisionerResource } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';

const dir = scratchDir('k8s-ha-edge-remove-worker-');
let count = 0;

const fixture = renderFixture();
const bundleOf = (id: string) => fixture.bundles.find((b) => b.id === id)!;
const master = bundleOf('master');
const worker = bundleOf('node02');

type Provisioner = { 'remote-exec': { connection: { host: string; user: string }; inline: string[]; when: string } };

/** node02's teardown resource as synth writes it. */
function teardownOf(bundle: Bundle, resource: ProvisionerResource) {
  const resources = hostResources({ stack: bundle.stack, bundle, resource, sshKeyVariable: SSH_KEY_VARIABLE, dependsOn: bundle.dependsOn });
  return resources[`${bundle.id}-teardown`] as unknown as { depends_on: string[]; provisioner: Provisioner[] };
}

/** Stand-ins: every call logged; kubectl answers from the state files in `cluster`. */
function standIns(cluster: string): { bin: string; log: string } {
  const bin = join(dir, `bin-${count++}`);
  mkdirSync(bin);
  const log = join(bin, 'calls.log');
  const commands: Record<string, string> = {
    kubectl: [
      'echo "kubectl $*" >> "$LOG"',
      'if [ -f "$C/api-down" ]; then echo "The connection to the server 192.168.10.100:6443 was refused - did you specify the right host or port?" >&2; exit 1; fi',
      'args=" $* "',
      'case "$args" in',
      '  *" get node "*) if [ -f "$C/node" ]; then echo node/node02; else echo \'Error from server (NotFound): nodes "node02" not found\' >&2; exit 1; fi ;;',
      '  *" cordon "*) touch "$C/cordoned"; echo "node/node02 cordoned" ;;',
      '  *" drain "*) if [ -f "$C/pdb-blocks" ]; then',
      '      echo \'error when evicting pods/"web-0" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod\'"\'"\'s disruption budget.\' >&2',
      '      echo "error: unable to drain node \\"node02\\" due to error: [error when evicting pods/\\"web-0\\" -n \\"default\\": global timeout reached: 300s], continuing command..." >&2; exit 1',
      '    fi; touch "$C/drained"; echo "node/node02 drained" ;;',
      '  *" delete node "*) rm -f "$C/node"; echo \'node "node02" deleted\' ;;',
      'esac',
    ].join('\n'),
    kubeadm: 'echo "kubeadm $*" >> "$LOG"',
  };
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\nC=${cluster}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { bin, log };
}

/**
 * A site to tear node02 down in: the master's and the worker's staging directories holding their
 * bundles' scripts (as staged, with every /etc path under `etc`), and the cluster's state files.
 */
function site(...state: string[]) {
  const root = join(dir, `site-${count++}`);
  const staging = join(root, 'staging');
  const etc = join(root, 'etc');
  const cluster = join(root, 'cluster');
  for (const d of [etc, join(etc, 'kubernetes'), cluster, join(root, 'home')]) mkdirSync(d, { recursive: true });
  const moved = (text: string) => text.split(REMOTE_STAGING_DIR).join(staging).split('/etc/').join(`${etc}/`);
  for (const bundle of [master, worker]) {
    // As the staging guard of every staged script requires: root's, mode 0700 (the tests run as root, or skip).
    mkdirSync(join(staging, bundle.id), { recursive: true, mode: 0o700 });
    chmodSync(staging, 0o700);
    for (const f of bundle.files) writeFileSync(join(staging, bundle.id, f.name), moved(f.content));
  }
  // The control plane's admin credentials, as kubeadm init leaves them.
  writeFileSync(join(etc, 'kubernetes', 'admin.conf'), '');
  for (const s of state) writeFileSync(join(cluster, s), '');
  const { bin, log } = standIns(cluster);
  const steps = teardownOf(worker, ProvisionerResource.TERRAFORM_DATA).provisioner.map((p) => ({
    host: p['remote-exec'].connection.host,
    script: moved(p['remote-exec'].inline.join('\n')),
  }));
  /**
   * The resource's provisioners in order; like terraform, the first that fails stops the destroy.
   * `unreachable`: a host SSH cannot reach (its step fails as terraform's connection does, running nothing).
   */
  const destroy = (unreachable?: string) => {
    if (existsSync(log)) writeFileSync(log, '');
    const outputs: Array<{ host: string; code: number | null; stdout: string; stderr: string }> = [];
    for (const step of steps) {
      if (step.host === unreachable) {
        outputs.push({ host: step.host, code: 255, stdout: '', stderr: 'dial tcp: connect: no route to host' });
        break;
      }
      const result = spawnSync('bash', ['-c', step.script], {
        encoding: 'utf8', timeout: 20_000, env: { ...process.env, LOG: log, HOME: join(root, 'home'), PATH: `${bin}:${process.env.PATH}` },
      });
      outputs.push({ host: step.host, code: result.status, stdout: result.stdout, stderr: result.stderr });
      if (result.status !== 0) break;
    }
    const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
    return { outputs, calls, code: outputs.at(-1)!.code };
  };
  return { root, staging, etc, cluster, destroy };
}

/** The calls as verbs: what was asked of the cluster and of the worker, in order. */
const verbs = (calls: readonly string[]) => calls.map((c) => {
  const words = c.replace(/ --(kubeconfig|request-timeout)[= ]\S+/g, '').split(' ');
  return words.slice(0, 3).join(' ');
});

describe('GIVEN a worker removed WHEN its teardown resource is destroyed', () => {
  test('THEN its provisioners are, in order: the removal on the control plane, then the worker\'s own teardown', () => {
    for (const resource of [ProvisionerResource.TERRAFORM_DATA, ProvisionerResource.NULL_RESOURCE]) {
      const teardown = teardownOf(worker, resource);
      expect(teardown.provisioner.map((p) => p['remote-exec'].connection.host)).toEqual([master.target.address, '${self.' + (resource === ProvisionerResource.TERRAFORM_DATA ? 'input' : 'triggers') + '.address}']);
      expect(teardown.provisioner.every((p) => p['remote-exec'].when === 'destroy')).toBe(true);
      expect(teardown.provisioner[0]['remote-exec'].inline.join('\n')).toContain(`${REMOTE_STAGING_DIR}/master/${REMOVE_WORKER_SCRIPT} node02`);
      // Destroyed before the control plane's own teardown: in a whole destroy the API is still there.
      expect(teardown.depends_on).toEqual([`${resource}.node02`, `${resource}.master-teardown`]);
    }
    // The control plane has no step before its own teardown.
    expect(teardownOf(master, ProvisionerResource.TERRAFORM_DATA).provisioner).toHaveLength(1);
    expect(master.files.map((f) => f.name)).toContain(REMOVE_WORKER_SCRIPT);
  });

  test('THEN the Node is cordoned, drained (bounded, PodDisruptionBudgets respected) and deleted on the control plane, and only then is the worker reset', () => {
    const { cluster, etc, destroy } = site('node');
    const result = destroy();
    expect(result.outputs.map((o) => o.code)).toEqual([0, 0]);
    expect(verbs(result.calls)).toEqual(['kubectl get node', 'kubectl cordon node02', 'kubectl drain node02', 'kubectl delete node', 'kubeadm reset -f']);
    const drain = result.calls.find((c) => c.includes(' drain '))!;
    expect(drain).toContain('--ignore-daemonsets');
    expect(drain).toContain('--delete-emptydir-data');
    expect(drain).toContain(`--timeout=${DRAIN_TIMEOUT_SECONDS}s`);
    expect(drain).not.toContain('--disable-eviction');
    expect(result.calls.every((c) => !c.startsWith('kubectl') || c.includes(`--kubeconfig ${etc}/kubernetes/admin.conf`))).toBe(true);
    expect(result.outputs[0].stdout).toContain('Node node02 cordoned, drained and deleted');
    expect(existsSync(join(cluster, 'node'))).toBe(false);
  });

  test('THEN a re-run after a destroy that failed at the worker (the Node deleted already) passes: nothing to drain, the worker reset (idempotent)', () => {
    const { destroy } = site('node');
    const failed = destroy('${self.input.address}');
    expect(failed.outputs.map((o) => o.code)).toEqual([0, 255]);
    expect(failed.code).toBe(255);
    const again = destroy();
    expect(again.outputs.map((o) => o.code)).toEqual([0, 0]);
    expect(verbs(again.calls)).toEqual(['kubectl get node', 'kubeadm reset -f']);
    expect(again.outputs[0].stdout).toContain('Node node02 is not in the cluster (deleted already): nothing to drain');
  });

  test('THEN with the control plane torn down already (no admin.conf, or its bundle gone) it passes without asking a cluster', () => {
    const reset = site('node');
    // What kubeadm reset on the control plane leaves: no admin credentials.
    spawnSync('rm', [join(reset.etc, 'kubernetes', 'admin.conf')]);
    const noCluster = reset.destroy();
    expect(noCluster.code).toBe(0);
    expect(verbs(noCluster.calls)).toEqual(['kubeadm reset -f']);
    expect(noCluster.outputs[0].stdout).toContain('no cluster on this control plane');

    const gone = site('node');
    spawnSync('rm', ['-r', join(gone.staging, 'master')]);
    const noBundle = gone.destroy();
    expect(noBundle.code).toBe(0);
    expect(verbs(noBundle.calls)).toEqual(['kubeadm reset -f']);
    expect(noBundle.outputs[0].stdout).toContain('(torn down already): nothing to do there');
  });

  test('THEN an API server that does not answer fails the destroy: nothing drained, the worker not reset', () => {
    const { destroy } = site('node', 'api-down');
    const result = destroy();
    expect(result.code).toBe(1);
    expect(result.outputs).toHaveLength(1);
    expect(verbs(result.calls)).toEqual(['kubectl get node']);
    expect(result.outputs[0].stderr).toContain('cannot ask the API server about Node node02');
    expect(result.outputs[0].stdout).not.toContain('deleted');
  });

  test('THEN a drain a PodDisruptionBudget blocks until the timeout fails: the Node stays cordoned and is not deleted, the worker not reset; once the budget allows it, a re-run finishes', () => {
    const { cluster, destroy } = site('node', 'pdb-blocks');
    const blocked = destroy();
    expect(blocked.code).toBe(1);
    expect(blocked.outputs).toHaveLength(1);
    expect(verbs(blocked.calls)).toEqual(['kubectl get node', 'kubectl cordon node02', 'kubectl drain node02']);
    expect(blocked.outputs[0].stderr).toContain(`Node node02 was not drained within ${DRAIN_TIMEOUT_SECONDS}s`);
    expect(existsSync(join(cluster, 'cordoned'))).toBe(true);
    expect(existsSync(join(cluster, 'node'))).toBe(true);

    spawnSync('rm', [join(cluster, 'pdb-blocks')]);
    const retried = destroy();
    expect(retried.code).toBe(0);
    expect(verbs(retried.calls)).toEqual(['kubectl get node', 'kubectl cordon node02', 'kubectl drain node02', 'kubectl delete node', 'kubeadm reset -f']);
  });

  test('THEN a node name that is not a DNS label is refused before any kubectl call', () => {
    const { staging, etc } = site('node');
    const { bin, log } = standIns(join(etc, 'nowhere'));
    const result = spawnSync('bash', [join(staging, 'master', REMOVE_WORKER_SCRIPT), 'node02;id'], { encoding: 'utf8', env: { ...process.env, LOG: log, PATH: `${bin}:${process.env.PATH}` } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("got node name 'node02;id', expected a lowercase RFC 1123 label");
    expect(existsSync(log)).toBe(false);
  });
});

test('remove-worker.sh, as staged on the control plane, refuses to run from a directory root does not own with mode 0700', () => {
  expect(master.files.find((f) => f.name === REMOVE_WORKER_SCRIPT)!.content).toContain(STAGING_GUARD);
});
