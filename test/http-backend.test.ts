import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildStacksApp } from '../constructs/tf/stacks-app';
import { renderFixture } from './render-fixture';
import { HttpStateServer } from './support/http-state-server';
import { scratchDir } from './support/scratch';

/**
 * provisioning.backend: http, for real: terraform's own http backend against a state server this
 * test starts on 127.0.0.1, with the `terraform` block exactly as synth emits it. The resource is a
 * provider-free terraform_data whose local-exec sleeps, so two applies overlap.
 */
const hasTerraform = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
const describeWithTerraform = hasTerraform ? describe : describe.skip;

const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
delete env.TF_CLI_CONFIG_FILE;

interface Done { code: number | null; out: string; ms: number }

function terraform(dir: string, args: string[]): Promise<Done> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn('terraform', [`-chdir=${dir}`, ...args, '-no-color'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, ms: Date.now() - start }); });
  });
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describeWithTerraform('GIVEN provisioning.backend http and a state server', () => {
  const server = new HttpStateServer();
  let base = '';
  const dirs: string[] = [];

  beforeAll(async () => {
    base = await server.start();
    // The terraform block of the gateway stack, as synth writes it for this backend.
    const fixture = renderFixture({ overrides: { provisioning: { backend: 'http', httpAddress: `${base}/teams/edge`, resource: 'terraform_data' } } });
    const outdir = scratchDir('k8s-ha-edge-http-');
    buildStacksApp(fixture.plan, outdir).synth();
    const terraformBlock = JSON.parse(readFileSync(join(outdir, 'stacks', 'gateway', 'cdk.tf.json'), 'utf8')).terraform;
    for (const name of ['a', 'b']) {
      const dir = join(outdir, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({
        terraform: terraformBlock,
        variable: { run: { type: 'string', default: '1' } },
        resource: { terraform_data: { slow: { triggers_replace: '${var.run}', provisioner: [{ 'local-exec': { command: 'sleep 3' } }] } } },
      }));
      dirs.push(dir);
    }
  }, 60_000);
  afterAll(() => server.stop());

  test('WHEN applied THEN the state lives on the server at <httpAddress>/<stack>, and nothing local', async () => {
    for (const dir of dirs) expect((await terraform(dir, ['init', '-input=false'])).code).toBe(0);
    const applied = await terraform(dirs[0], ['apply', '-auto-approve', '-input=false']);
    expect(applied.code).toBe(0);
    const state = JSON.parse(server.slots.get('/teams/edge/gateway')?.state ?? '{}');
    expect(state.resources.map((r: any) => `${r.type}.${r.name}`)).toEqual(['terraform_data.slow']);
    expect(server.log).toEqual(expect.arrayContaining(['LOCK /teams/edge/gateway 200', 'POST /teams/edge/gateway 200', 'UNLOCK /teams/edge/gateway 200']));
    expect(server.slots.get('/teams/edge/gateway')?.lock).toBeUndefined();
  }, 60_000);

  test('WHEN two applies run at once THEN the second fails cleanly on the lock, or waits for it with -lock-timeout', async () => {
    const slot = () => server.slots.get('/teams/edge/gateway');
    const first = terraform(dirs[0], ['apply', '-auto-approve', '-input=false', '-var', 'run=2']);
    expect(await until(() => slot()?.lock !== undefined, 20_000)).toBe(true);
    const refused = await terraform(dirs[1], ['apply', '-auto-approve', '-input=false', '-var', 'run=3', '-lock-timeout=0s']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Error acquiring the state lock');
    expect(server.log).toContain('LOCK /teams/edge/gateway 423');
    // The holder is not disturbed, and releases the lock when it is done.
    expect((await first).code).toBe(0);
    expect(slot()?.lock).toBeUndefined();

    const holder = terraform(dirs[0], ['apply', '-auto-approve', '-input=false', '-var', 'run=4']);
    expect(await until(() => slot()?.lock !== undefined, 20_000)).toBe(true);
    const waiter = await terraform(dirs[1], ['apply', '-auto-approve', '-input=false', '-var', 'run=5', '-lock-timeout=60s']);
    const held = await holder;
    expect(held.code).toBe(0);
    expect(waiter.code).toBe(0);
    // Both applies made it into the one state, one after the other.
    const state = JSON.parse(slot()?.state ?? '{}');
    expect(state.resources[0].instances[0].attributes.triggers_replace).toEqual({ value: '5', type: 'string' });
    expect(state.serial).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
