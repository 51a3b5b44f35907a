import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { hostResources } from '../constructs/tf/host-provisioner';
import { REMOVE_WORKER_SCRIPT } from '../lib/kubernetes/teardown';
import { ProvisionerResource } from '../lib/topology';
import { renderFixture } from './render-fixture';

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
