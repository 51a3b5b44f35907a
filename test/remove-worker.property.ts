import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { hostResources } from '../constructs/tf/host-provisioner';
import { REMOVE_WORKER_SCRIPT } from '../lib/kubernetes/teardown';
import { REMOTE_STAGING_DIR } from '../lib/plan/bundle';
import { ProvisionerResource } from '../lib/topology';
import { renderFixture } from './render-fixture';
import { SYNTH_PROGRAM } from './synth-program';

/**
 * The order of the destroy-time steps, asked of the real terraform: the default site's k8s resources
 * as synth writes them (terraform_data), applied with their setup provisioners left out, and every
 * destroy-time remote-exec replaced by a local-exec that only writes which host it would run on and
 * what (there are no hosts here). Then a destroy of one worker's teardown resource (the runbook's
 * removal of a worker), then the whole destroy. Run by `npm run test:teardown`, beside the plan
 * property (it needs terraform, and takes seconds).
 */

const TERRAFORM = process.env.TERRAFORM ?? 'terraform';
const HAS_TERRAFORM = spawnSync(TERRAFORM, ['version']).status === 0;
type Obj = Record<string, any>;

function terraform(dir: string, ...args: string[]): string {
  const run = spawnSync(TERRAFORM, [...args, '-no-color', '-input=false', '-var', `${SSH_KEY_VARIABLE}=/nonexistent/key`], {
    cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
  });
  if (run.status !== 0) throw new Error(`terraform ${args[0]} exited ${run.status}: ${run.stderr}${run.stdout.slice(-2000)}`);
  return run.stdout;
}

/** The site's resources, each destroy-time step writing `<host> <what>` into `log` instead of connecting. */
function recordingResources(log: string): Obj {
  const { bundles } = renderFixture();
  const resources: Obj = {};
  for (const bundle of bundles) {
    const generated = hostResources({ stack: bundle.stack, bundle, resource: ProvisionerResource.TERRAFORM_DATA, sshKeyVariable: SSH_KEY_VARIABLE, dependsOn: bundle.dependsOn });
    for (const [id, body] of Object.entries(generated) as Array<[string, Obj]>) {
      const { '//': _m, connection: _c, provisioner, ...kept } = body;
      const steps = ((provisioner ?? []) as Obj[]).filter((p) => p['remote-exec']?.when === 'destroy').map((p) => {
        const host = p['remote-exec'].connection.host as string;
        const inline = (p['remote-exec'].inline as string[]).join(' ');
        const what = inline.includes(REMOVE_WORKER_SCRIPT) ? `remove-worker ${/remove-worker\.sh (\S+);/.exec(inline)![1]}` : `teardown ${bundle.id}`;
        return { 'local-exec': { command: `echo "${host} ${what}" >> ${log}`, when: 'destroy' } };
      });
      resources[id] = steps.length > 0 ? { ...kept, provisioner: steps } : kept;
    }
  }
  return resources;
}

(HAS_TERRAFORM ? describe : describe.skip)('GIVEN the k8s stack applied (terraform_data) WHEN terraform destroys', () => {
  test('THEN one worker\'s teardown runs the removal on the control plane, then the worker\'s reset, and nothing else; a whole destroy drains every worker before the control plane is reset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-remove-worker-'));
    try {
      const log = join(dir, 'steps.log');
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ variable: { [SSH_KEY_VARIABLE]: { type: 'string' } }, resource: { terraform_data: recordingResources(log) } }));
      terraform(dir, 'apply', '-auto-approve');
      const steps = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');

      // The runbook's removal of node02: its teardown resource alone.
      terraform(dir, 'destroy', '-auto-approve', '-target=terraform_data.node02-teardown');
      expect(steps()).toEqual(['192.168.10.10 remove-worker node02', '192.168.10.30 teardown node02']);

      rmSync(log);
      terraform(dir, 'destroy', '-auto-approve');
      const all = steps();
      const at = (line: string) => all.indexOf(line);
      expect(at('192.168.10.10 remove-worker node01')).toBeGreaterThanOrEqual(0);
      expect(at('192.168.10.10 remove-worker node01')).toBeLessThan(at('192.168.10.20 teardown node01'));
      expect(at('192.168.10.20 teardown node01')).toBeLessThan(at('192.168.10.10 teardown master'));
      // node02's teardown ran already: it does not run again.
      expect(all.filter((l) => l.includes('node02') && !l.includes('page'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A destroy-time remote-exec as a local-exec that writes `<host> <what>` into `log`: what runs the
 * drain names its worker, any other names the bundle directory it removes. The host may be an
 * expression of `self` (a teardown's own connection): terraform fills it in.
 */
function recorderOf(step: Obj, log: string): Obj {
  const host = step['remote-exec'].connection.host as string;
  const inline = (step['remote-exec'].inline as string[]).join(' ');
  const drained = /remove-worker\.sh (\S+);/.exec(inline);
  const bundle = new RegExp(`${REMOTE_STAGING_DIR}/([^/\\s]+)`).exec(inline)![1];
  return { 'local-exec': { command: `echo "${host} ${drained ? `remove-worker ${drained[1]}` : `teardown ${bundle}`}" >> ${log}`, when: 'destroy' } };
}

/**
 * The k8s stack synth wrote into `cdktfOut`, made runnable here: no backend (the state stays in the
 * working directory), no setup provisioner and no connection (there are no hosts), and every
 * destroy-time step, of a resource or of a removed block, a recorder (recorderOf).
 */
function recordingStack(cdktfOut: string, log: string): Obj {
  const stack = JSON.parse(readFileSync(join(cdktfOut, 'stacks', 'k8s', 'cdk.tf.json'), 'utf8')) as Obj;
  delete stack.terraform.backend;
  const recorded = (provisioner: Obj[] | undefined) => (provisioner ?? []).filter((p) => p['remote-exec']?.when === 'destroy').map((p) => recorderOf(p, log));
  for (const [id, body] of Object.entries(stack.resource.terraform_data as Obj)) {
    const { connection: _c, provisioner, ...kept } = body as Obj;
    const steps = recorded(provisioner);
    stack.resource.terraform_data[id] = steps.length > 0 ? { ...kept, provisioner: steps } : kept;
  }
  for (const block of (stack.removed ?? []) as Obj[]) block.provisioner = recorded(block.provisioner);
  return stack;
}

(HAS_TERRAFORM ? describe : describe.skip)('GIVEN a site of node01 and node02 applied (terraform_data) WHEN node02 is removed from the topology, synthesized and applied', () => {
  const twoWorkers = 'workers:\n  - {name: node01, address: 192.168.10.20}\n  - {name: node02, address: 192.168.10.30}\n';
  const oneWorker = 'workers:\n  - {name: node01, address: 192.168.10.20}\n';
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-removed-worker-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const log = () => join(dir, 'steps.log');
  const steps = () => readFileSync(log(), 'utf8').split('\n').filter((l) => l !== '');
  function synth(config: string): Obj {
    writeFileSync(join(dir, 'site.yaml'), config);
    const run = spawnSync(SYNTH_PROGRAM[0], [...SYNTH_PROGRAM.slice(1), '--config', 'site.yaml', '--resource', 'terraform_data', '--only', 'tf'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`synth exited ${run.status}: ${run.stderr}`);
    const stack = recordingStack(join(dir, 'cdktf.out'), log());
    mkdirSync(join(dir, 'tf'), { recursive: true });
    writeFileSync(join(dir, 'tf', 'main.tf.json'), JSON.stringify(stack));
    return stack;
  }
  function appliedTwoWorkers(): void {
    synth(twoWorkers);
    terraform(join(dir, 'tf'), 'init');
    terraform(join(dir, 'tf'), 'apply', '-auto-approve');
  }

  test('THEN the apply drains node02 on the control plane, then resets node02 (and removes its page), and touches nothing of node01; a second apply does nothing', () => {
    appliedTwoWorkers();
    const stack = synth(oneWorker);
    expect(stack.terraform.required_version).toBe('>= 1.9');
    terraform(join(dir, 'tf'), 'apply', '-auto-approve');
    const ran = steps();
    expect([...ran].sort()).toEqual(['192.168.10.10 remove-worker node02', '192.168.10.30 teardown node02', '192.168.10.30 teardown node02-page']);
    expect(ran.indexOf('192.168.10.10 remove-worker node02')).toBeLessThan(ran.indexOf('192.168.10.30 teardown node02'));
    const state = (JSON.parse(readFileSync(join(dir, 'tf', 'terraform.tfstate'), 'utf8')).resources as Obj[]).map((r) => r.name as string);
    expect(state).toEqual(expect.arrayContaining(['node01', 'node01-teardown', 'node01-page-teardown', 'master-teardown']));
    expect(state.filter((name) => name.includes('node02'))).toEqual([]);

    // The removed blocks stay (their resources are gone from state): the next synth and apply change nothing.
    rmSync(log());
    expect(synth(oneWorker).removed).toHaveLength(2);
    expect(terraform(join(dir, 'tf'), 'apply', '-auto-approve')).toContain('0 added, 0 changed, 0 destroyed');
    expect(existsSync(log())).toBe(false);
  });

  test('THEN a second synth before the apply still carries the removal: the apply runs the same steps', () => {
    appliedTwoWorkers();
    synth(oneWorker);
    synth(oneWorker);
    terraform(join(dir, 'tf'), 'apply', '-auto-approve');
    expect(steps()).toContain('192.168.10.10 remove-worker node02');
    expect([...steps()].sort()).toEqual(['192.168.10.10 remove-worker node02', '192.168.10.30 teardown node02', '192.168.10.30 teardown node02-page']);
  });

  test('THEN node02 added back before the apply synthesizes no removed block (terraform 1.4 suffices) and the apply removes nothing', () => {
    appliedTwoWorkers();
    synth(oneWorker);
    const stack = synth(twoWorkers);
    expect(stack.removed).toBeUndefined();
    expect(stack.terraform.required_version).toBe('>= 1.4');
    expect(terraform(join(dir, 'tf'), 'apply', '-auto-approve')).toContain('0 destroyed');
    expect(existsSync(log())).toBe(false);
  });
});
