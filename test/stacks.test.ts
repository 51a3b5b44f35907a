import 'cdktf/lib/testing/adapters/jest';
import { resource as nullResource, provider as nullProvider } from '@cdktf/provider-null';
import { DataResource, Testing } from 'cdktf';
import { BundleStack, SSH_KEY_VARIABLE } from '../constructs/tf/bundle-stack';
import { buildStacksApp, stackBackend } from '../constructs/tf/stacks-app';
import { stableJson } from '../constructs/tf/stable-json';
import { hostResources } from '../constructs/tf/host-provisioner';
import { REMOTE_STAGING_DIR, sharedSets, StackName } from '../lib/plan/bundle';
import { listFiles } from '../lib/kernel/files';
import { renderPage } from '../lib/kubernetes/pages';
import { bundleResourceIds, ProvisionerResource } from '../lib/topology';
import { bundleIdsOf } from '../lib/topology/validate';
import { CUSTOM_CONFIG, fileOf, paramsOf, renderFixture } from './render-fixture';
import { hostKeyLine, HAS_SSH_KEYGEN } from './host-keys';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './support/scratch';

type Fixture = ReturnType<typeof renderFixture>;

function stackFor(fixture: Fixture, name: StackName, resource = ProvisionerResource.NULL_RESOURCE) {
  const stack = new BundleStack(Testing.app({ outdir: scratchDir('k8s-ha-edge-cdktf-app-') }), name, {
    bundles: fixture.bundles.filter((b) => b.stack === name),
    resource,
    backend: stackBackend(fixture.topology.provisioning, name),
  });
  return { stack, synthesized: Testing.synth(stack), json: JSON.parse(Testing.synth(stack)) };
}

const seed = renderFixture();

describe('the stacks', () => {
  test('k8s, lb, gateway and client are separate stacks, each with its own state in its own directory', () => {
    const app = buildStacksApp(seed.plan, scratchDir('k8s-ha-edge-stacks-'));
    const stacks = app.node.children.filter((c) => c instanceof BundleStack).map((c) => c.node.id);
    expect(stacks).toEqual(['k8s', 'lb', 'gateway', 'client']);
    for (const name of stacks) {
      const json = JSON.parse(Testing.synth(app.node.findChild(name) as BundleStack));
      // The state lives outside the generated tree: cdktf.out/stacks/<stack>/../../../state/<stack>.tfstate.
      expect(json.terraform.backend).toEqual({ local: { path: `../../../state/${name}.tfstate`, workspace_dir: `../../../state/${name}.tfstate.d` } });
      expect(json.terraform.required_version).toBe('>= 1.4');
      expect(json.variable[SSH_KEY_VARIABLE].type).toBe('string');
    }
  });

  test('GIVEN the stacks WHEN synthesized THEN manifest.json says the gateway comes first, the others depend on it, the cluster also on the load balancers', () => {
    const outdir = scratchDir('k8s-ha-edge-manifest-');
    buildStacksApp(seed.plan, outdir).synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    const dependencies = Object.fromEntries(Object.entries(manifest.stacks).map(([name, stack]: [string, any]) => [name, stack.dependencies]));
    expect(dependencies).toEqual({ gateway: [], lb: ['gateway'], k8s: ['gateway', 'lb'], client: ['gateway'] });
  });

  test('GIVEN provisioning.backend http THEN every stack keeps its state at <httpAddress>/<stack>, locked there', () => {
    const fixture = renderFixture({ overrides: { provisioning: { backend: 'http', httpAddress: 'https://state.example.org/k8s-ha-edge/' } } });
    const app = buildStacksApp(fixture.plan, scratchDir('k8s-ha-edge-stacks-'));
    const json = JSON.parse(Testing.synth(app.node.findChild('lb') as BundleStack));
    const address = 'https://state.example.org/k8s-ha-edge/lb';
    expect(json.terraform.backend).toEqual({ http: { address, lock_address: address, unlock_address: address, lock_method: 'LOCK', unlock_method: 'UNLOCK' } });
  });

  test('GIVEN provisioning.stateDir THEN the local state path follows it', () => {
    const fixture = renderFixture({ overrides: { provisioning: { stateDir: 'ops/tfstate' } } });
    const app = buildStacksApp(fixture.plan, scratchDir('k8s-ha-edge-stacks-'));
    const json = JSON.parse(Testing.synth(app.node.findChild('k8s') as BundleStack));
    expect(json.terraform.backend.local.path).toBe('../../../ops/tfstate/k8s.tfstate');
  });

  test('every resource connects over SSH to its host with the key from the variable', () => {
    const { synthesized, json } = stackFor(seed, StackName.LB);
    expect(synthesized).toHaveProvider(nullProvider.NullProvider);
    for (const [name, address] of [['lb01', '192.168.10.40'], ['lb02', '192.168.10.50']]) {
      expect(json.resource.null_resource[name].connection).toEqual({
        type: 'ssh', host: address, user: 'root', private_key: `\${file(var.${SSH_KEY_VARIABLE})}`, timeout: '2m',
      });
    }
  });

  test('bundles are staged in a root-owned 0700 directory, never under world-writable /var/tmp', () => {
    expect(REMOTE_STAGING_DIR).toBe('/var/lib/k8s-ha-edge');
    const json = JSON.stringify(stackFor(seed, StackName.LB).json);
    expect(json).not.toContain('/var/tmp');
    expect(json).not.toContain('/tmp/');
  });

  test('each LB resource uploads its bundle into the SSH user\'s home, root installs it into the staging directory, then runs setup-lb.sh', () => {
    const { synthesized } = stackFor(seed, StackName.LB);
    expect(synthesized).toHaveResourceWithProperties(nullResource.Resource, {
      provisioner: [
        { 'remote-exec': { inline: ['rm -rf "$HOME"/.k8s-ha-edge-upload/lb01', 'mkdir -p -m 0700 "$HOME"/.k8s-ha-edge-upload', 'mkdir -m 0700 "$HOME"/.k8s-ha-edge-upload/lb01'] } },
        { file: { destination: '.k8s-ha-edge-upload/lb01', source: 'assets/lb01/' } },
        { 'remote-exec': { inline: [
          'mkdir -p -m 0700 /var/lib/k8s-ha-edge',
          'rm -rf /var/lib/k8s-ha-edge/lb01',
          'install -d -o root -g root -m 0700 /var/lib/k8s-ha-edge/lb01',
          'install -o root -g root -m 0700 -t /var/lib/k8s-ha-edge/lb01 "$HOME"/.k8s-ha-edge-upload/lb01/check_nginx.sh "$HOME"/.k8s-ha-edge-upload/lb01/nginx-stopping.sh "$HOME"/.k8s-ha-edge-upload/lb01/in-flight.sh "$HOME"/.k8s-ha-edge-upload/lb01/setup-lb.sh "$HOME"/.k8s-ha-edge-upload/lb01/teardown-lb.sh',
          'install -o root -g root -m 0600 -t /var/lib/k8s-ha-edge/lb01 "$HOME"/.k8s-ha-edge-upload/lb01/nginx.conf "$HOME"/.k8s-ha-edge-upload/lb01/keepalived.conf "$HOME"/.k8s-ha-edge-upload/lb01/k8s-ha-edge-nginx-state.service "$HOME"/.k8s-ha-edge-upload/lb01/lb-sysctl.conf "$HOME"/.k8s-ha-edge-upload/lb01/in-flight.rules "$HOME"/.k8s-ha-edge-upload/lb01/k8s-ha-edge-in-flight.service "$HOME"/.k8s-ha-edge-upload/lb01/k8s-ha-edge-in-flight-rearm.service',
          'rm -rf "$HOME"/.k8s-ha-edge-upload/lb01',
        ] } },
        { 'remote-exec': { inline: [`bash ${REMOTE_STAGING_DIR}/lb01/setup-lb.sh`] } },
      ],
    });
  });

  test('the gateway stack has the gateway, reached on its inside address', () => {
    const { synthesized } = stackFor(seed, StackName.GATEWAY);
    expect(synthesized).toHaveResourceWithProperties(nullResource.Resource, {
      connection: expect.objectContaining({ host: '192.168.10.1' }),
      provisioner: expect.arrayContaining([{ 'remote-exec': { inline: [`bash ${REMOTE_STAGING_DIR}/gateway/setup-gateway.sh`] } }]),
    });
  });

  test('the client stack pushes the check script and runs nothing', () => {
    const { synthesized, json } = stackFor(seed, StackName.CLIENT);
    expect(synthesized).toHaveResourceWithProperties(nullResource.Resource, {
      connection: expect.objectContaining({ host: '12.0.0.12' }),
      provisioner: [
        { 'remote-exec': { inline: expect.arrayContaining(['mkdir -m 0700 "$HOME"/.k8s-ha-edge-upload/client']) } },
        { file: { destination: '.k8s-ha-edge-upload/client', source: 'assets/client/' } },
        { 'remote-exec': { inline: expect.arrayContaining(['install -o root -g root -m 0700 -t /var/lib/k8s-ha-edge/client "$HOME"/.k8s-ha-edge-upload/client/check-service.sh']) } },
      ],
    });
    expect(json.resource.null_resource.client.provisioner).toHaveLength(3);
  });

  test('workers depend on the master and join from where terraform runs; the workload waits for all workers', () => {
    const { synthesized, json } = stackFor(seed, StackName.K8S);
    const resources = json.resource.null_resource;
    const setup = Object.keys(resources).filter((id) => !id.endsWith('-teardown')).sort();
    expect(setup).toEqual(['master', 'node01', 'node01-page', 'node02', 'node02-page', 'workload']);
    expect(Object.keys(resources).filter((id) => id.endsWith('-teardown')).sort()).toEqual(setup.map((id) => `${id}-teardown`).sort());
    expect(resources.master.depends_on).toBeUndefined();
    expect(resources.node01.depends_on).toEqual(['null_resource.master']);
    expect(resources.workload.depends_on).toEqual(['null_resource.node01', 'null_resource.node01-page', 'null_resource.node02', 'null_resource.node02-page']);
    // One join script for every worker (a shared set); what is the worker's own is in the environment.
    expect(synthesized).toHaveResourceWithProperties(nullResource.Resource, {
      provisioner: expect.arrayContaining([{
        'local-exec': {
          command: 'bash assets/_shared/join/join-from-master.sh',
          environment: {
            SSH_PRIVATE_KEY_PATH: `\${var.${SSH_KEY_VARIABLE}}`,
            WORKER_NAME: 'node01',
            WORKER_SSH: 'root@192.168.10.20',
            WORKER_HOST_KEY: 'unknown',
            WORKER_COMMAND: `bash ${REMOTE_STAGING_DIR}/node01/join-worker.sh node01`,
          },
        },
      }]),
    });
  });

  test('GIVEN several workers THEN identical files are written once, and nothing in assets/ is a worker\'s own: shared sets, the page inline', () => {
    const custom = renderFixture({ configPath: CUSTOM_CONFIG });
    const outdir = scratchDir('k8s-ha-edge-shared-');
    buildStacksApp(custom.plan, outdir).synth();
    const stackDir = join(outdir, 'stacks', 'k8s');
    const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
    const resourceOf = (id: string) => json.resource.null_resource[id];
    const uploads = (id: string) => resourceOf(id).provisioner.filter((p: any) => p.file).map((p: any) => p.file);
    for (const worker of ['w1', 'w2', 'w3']) {
      expect(uploads(worker)).toEqual([
        { source: 'assets/_shared/node-debian/', destination: `.k8s-ha-edge-upload/${worker}` },
        { source: 'assets/_shared/join/', destination: `.k8s-ha-edge-upload/${worker}` },
      ]);
      expect(uploads(`${worker}-page`)).toEqual([
        { source: 'assets/_shared/page/', destination: `.k8s-ha-edge-upload/${worker}-page` },
        { content: renderPage(custom.topology.workers.find((w) => w.name === worker)!), destination: `.k8s-ha-edge-upload/${worker}-page/index.html` },
      ]);
    }
    expect(uploads('cp1')[0]).toEqual({ source: 'assets/_shared/node-debian/', destination: '.k8s-ha-edge-upload/cp1' });
    expect(readdirSync(join(stackDir, 'assets')).sort()).toEqual(['_shared', 'cp1', 'workload']);
    // No two files of the stack have the same name and bytes.
    const files = listFiles(join(stackDir, 'assets'));
    const seen = new Map<string, string>();
    for (const file of files) {
      const key = `${file.split('/').at(-1)}\0${readFileSync(join(stackDir, 'assets', file), 'utf8')}`;
      expect({ file, sameAs: seen.get(key) }).toEqual({ file, sameAs: undefined });
      seen.set(key, file);
    }
    // What each host gets (the directories it uploads and the files it carries, together) is exactly its
    // bundle's files, with their modes (a carried file's: as root installs it).
    for (const bundle of custom.bundles.filter((b) => b.stack === StackName.K8S)) {
      const installed = resourceOf(bundle.id).provisioner.flatMap((p: any) => p['remote-exec']?.inline ?? []).join('\n');
      const got = uploads(bundle.id).flatMap((u: { source?: string; content?: string; destination: string }) => {
        if (u.content !== undefined) {
          const name = u.destination.split('/').at(-1)!;
          return [{ name, content: u.content, executable: new RegExp(`-m 0700 .*/${name}\\b`).test(installed) }];
        }
        return readdirSync(join(stackDir, u.source!)).map((name) => {
          const path = join(stackDir, u.source!, name);
          return { name, content: readFileSync(path, 'utf8'), executable: (statSync(path).mode & 0o111) !== 0 };
        });
      });
      const want = bundle.files.map((f) => ({ name: f.name, content: f.content, executable: f.executable }));
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect({ id: bundle.id, files: got.sort(byName) }).toEqual({ id: bundle.id, files: want.sort(byName) });
    }
  });

  test('GIVEN bundles that name the same shared set with other files THEN the plan refuses (a host would get another\'s files)', () => {
    const [a, b] = seed.bundles.filter((x) => x.id === 'node01' || x.id === 'node02');
    const tampered = { ...b, files: b.files.map((f) => (f.name === 'prepare-node.sh' ? { ...f, content: `${f.content}# changed\n` } : f)) };
    expect(() => sharedSets([a, tampered])).toThrow('shared set node-debian: bundle node02 has other files in it than bundle node01');
    expect(sharedSets([a, b]).map((s) => s.set)).toEqual(['node-debian', 'join']);
  });

  test('cdk.tf.json is the text cdktf\'s json-stable-stringify gives (stableJson writes it faster)', () => {
    // cdktf's own dependency, as cdktf's StackSynthesizer calls it.
    const stringify = require(require.resolve('json-stable-stringify', { paths: [require.resolve('cdktf')] }));
    const custom = renderFixture({ configPath: CUSTOM_CONFIG, overrides: { provisioning: { resource: 'terraform_data' } } });
    for (const fixture of [seed, custom]) {
      const app = buildStacksApp(fixture.plan, scratchDir('k8s-ha-edge-json-'));
      for (const stack of app.node.children.filter((c): c is BundleStack => c instanceof BundleStack)) {
        expect(stableJson(stack.toTerraform())).toBe(stringify(stack.toTerraform(), { space: 2 }));
      }
    }
    // The printer's edge cases, each in the fast form (JSON.stringify) and in the part-by-part one.
    const nested = { b: [], a: {}, c: [undefined, null, 1.5, 'x"\n', '\\u0000{}', { z: undefined, y: [{}], f: () => 1 }], 'é': true, B: false, d: { g: () => 1 }, e: { toJSON: () => ({ q: [] }) } };
    // Values already in sort order are printed without a copy, unless something deep in them needs one.
    const shared = { a: 1, b: [1, { c: 'x' }] };
    const inOrder = {
      a: { b: { c: { d: [1, 2, { e: [] }] } } }, b: [shared, shared, 'y', undefined], c: { d: undefined, e: 1 }, d: { e: undefined }, e: { f: () => 1 },
      f: [{ a: 1 }, { toJSON: () => ({ toJSON: () => 'not called', b: 2, a: 1 }) }], g: { toJSON: () => [{ b: 1, a: {} }] }, h: shared, i: { j: { k: 'z' } },
    };
    for (const value of [nested, { ...nested, 10: 'ten', 9: 'nine' }, { ...nested, nul: 'a\u0000b' }, [], {}, [[], {}], 'x', 7, null, inOrder, shared, [shared, [shared]]]) {
      expect(stableJson(value)).toBe(stringify(value, { space: 2 }));
    }
  });

  test('the bundles\' resources are built with every key in sort order, so stableJson prints them without a copy', () => {
    const unsorted: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`));
      else if (value !== null && typeof value === 'object') {
        const keys = Object.keys(value);
        if (keys.join('\n') !== [...keys].sort().join('\n')) unsorted.push(`${path}: ${keys.join(', ')}`);
        for (const key of keys) walk((value as Record<string, unknown>)[key], `${path}.${key}`);
      }
    };
    const fixtures = [seed, renderFixture({ configPath: CUSTOM_CONFIG })];
    // With host keys: a host_key in every connection, a known_hosts of the worker's own in its local run's environment.
    if (HAS_SSH_KEYGEN) fixtures.push(renderFixture({ overrides: { controlPlane: { hostKey: hostKeyLine('root@master') }, workers: [{ name: 'node01', address: '192.168.10.20', hostKey: hostKeyLine('root@node01') }] } }));
    for (const fixture of fixtures) {
      for (const resource of [ProvisionerResource.NULL_RESOURCE, ProvisionerResource.TERRAFORM_DATA]) {
        for (const bundle of fixture.bundles) {
          walk(hostResources({ stack: bundle.stack, bundle, resource, sshKeyVariable: SSH_KEY_VARIABLE, dependsOn: bundle.dependsOn }), `${resource} ${bundle.id}`);
        }
      }
    }
    expect(unsorted).toEqual([]);
  });

  test('the resource ids the validation derives are exactly the ones the stacks hold, and unique', () => {
    for (const fixture of [seed, renderFixture({ configPath: CUSTOM_CONFIG })]) {
      // The plan's bundles are the ones the validation knows, by id.
      expect(fixture.bundles.map((b) => b.id).sort()).toEqual(bundleIdsOf(fixture.topology).map((b) => b.id).sort());
      for (const resource of [ProvisionerResource.NULL_RESOURCE, ProvisionerResource.TERRAFORM_DATA]) {
        const held = Object.values(StackName).flatMap((name) => (fixture.bundles.some((b) => b.stack === name)
          ? Object.keys(stackFor(fixture, name, resource).json.resource[resource]) : []));
        const derived = bundleIdsOf(fixture.topology).flatMap((b) => Object.values(bundleResourceIds(b.id)));
        expect(new Set(held).size).toBe(held.length);
        // Every id a stack holds is one the validation checked (null_resource has no address resources).
        expect(held.filter((id) => !derived.includes(id))).toEqual([]);
      }
    }
  });

  test('GIVEN a bundle WHEN destroyed THEN its teardown resource undoes the setup, connecting from what it stored', () => {
    for (const resource of [ProvisionerResource.NULL_RESOURCE, ProvisionerResource.TERRAFORM_DATA]) {
      const { json } = stackFor(seed, StackName.LB, resource);
      const teardown = json.resource[resource]['lb01-teardown'];
      const stored = resource === ProvisionerResource.TERRAFORM_DATA ? 'self.input' : 'self.triggers';
      // Destroyed before the bundle's resource (while its files are on the host), and never replaced by a file change.
      expect(teardown.depends_on).toEqual([`${resource}.lb01`]);
      expect(teardown.provisioner).toEqual([{
        'remote-exec': {
          when: 'destroy',
          connection: { type: 'ssh', host: `\${${stored}.address}`, user: `\${${stored}.user}`, private_key: `\${file(${stored}.ssh_private_key_path)}`, timeout: '2m' },
          inline: [`bash ${REMOTE_STAGING_DIR}/lb01/teardown-lb.sh`, `rm -rf ${REMOTE_STAGING_DIR}/lb01`],
        },
      }]);
      const where = { address: '192.168.10.40', user: 'root', ssh_private_key_path: `\${var.${SSH_KEY_VARIABLE}}` };
      if (resource === ProvisionerResource.TERRAFORM_DATA) {
        // Everything it connects with is updated in place; only the address resource replaces it.
        expect(teardown.input).toEqual(where);
        expect(teardown.triggers_replace).toBeUndefined();
        expect(teardown.lifecycle).toEqual({ ignore_changes: ['triggers_replace'], replace_triggered_by: [`${resource}.lb01-address`] });
        expect(json.resource[resource]['lb01-address'].input).toBe('192.168.10.40');
      } else {
        // Every trigger replaces it but those ignored: only the address is not ignored.
        expect(teardown.triggers).toEqual(where);
        expect(teardown.lifecycle).toEqual({ ignore_changes: ['triggers["host_key"]', 'triggers["ssh_private_key_path"]', 'triggers["user"]'] });
        expect(json.resource[resource]['lb01-address']).toBeUndefined();
      }
    }
  });

  test('a non-root user tears down with sudo -n; a bundle without a teardown script only loses its files', () => {
    const custom = renderFixture({ configPath: CUSTOM_CONFIG });
    const lb = stackFor(custom, StackName.LB).json.resource.null_resource['edge-a-teardown'];
    expect(lb.provisioner[0]['remote-exec'].inline).toEqual([`sudo -n bash ${REMOTE_STAGING_DIR}/edge-a/teardown-lb.sh`, `sudo -n rm -rf ${REMOTE_STAGING_DIR}/edge-a`]);
    const client = stackFor(seed, StackName.CLIENT).json.resource.null_resource['client-teardown'];
    expect(client.provisioner[0]['remote-exec'].inline).toEqual([`rm -rf ${REMOTE_STAGING_DIR}/client`]);
  });

  test('triggers are content hashes: changing one page changes only that resource\'s trigger (and the page it carries)', () => {
    const other = renderFixture({ overrides: { workers: [{ name: 'node01', address: '192.168.10.20', page: 'new page' }, { name: 'node02', address: '192.168.10.30' }] } });
    const before = stackFor(seed, StackName.K8S).json.resource.null_resource;
    const after = stackFor(other, StackName.K8S).json.resource.null_resource;
    const changed = Object.keys(before).filter((id) => JSON.stringify(before[id].triggers) !== JSON.stringify(after[id].triggers));
    expect(changed).toEqual(['node01-page']);
    expect(before['node01-page'].triggers.files).toMatch(/^[0-9A-F]{32}$/);
    // Nothing else of any resource differs but the page that resource carries.
    const differs = Object.keys(before).filter((id) => JSON.stringify(before[id]) !== JSON.stringify(after[id]));
    expect(differs).toEqual(['node01-page']);
    expect(after['node01-page'].provisioner.find((p: any) => p.file?.content !== undefined).file.content).toBe('new page\n');
    // Workers whose files are all shared hash the same files alike; their trigger still names their host.
    expect(before.node01.triggers.files).toBe(before.node02.triggers.files);
    expect(before.node01.triggers.host).not.toBe(before.node02.triggers.host);
  });

  test('a page is carried as it is: Terraform\'s template sequences in it are escaped, never interpolated', () => {
    const page = 'costs ${x} and %{if true}y%{endif}, keeps $${z} and 100% {w}';
    const fixture = renderFixture({ overrides: { workers: [{ name: 'node01', address: '192.168.10.20', page }, { name: 'node02', address: '192.168.10.30' }] } });
    const content = stackFor(fixture, StackName.K8S).json.resource.null_resource['node01-page'].provisioner.find((p: any) => p.file?.content !== undefined).file.content;
    expect(content).toBe('costs $${x} and %%{if true}y%%{endif}, keeps $$${z} and 100% {w}\n');
    if (spawnSync('terraform', ['version']).error !== undefined) return;
    // Terraform itself reads the string back as the page.
    const dir = scratchDir('k8s-ha-edge-literal-');
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ locals: { page: content } }));
    const read = spawnSync('terraform', ['console'], { cwd: dir, input: 'base64encode(local.page)\n', encoding: 'utf8' });
    expect(Buffer.from(JSON.parse(read.stdout.trim()), 'base64').toString('utf8')).toBe(`${page}\n`);
  });

  test('terraform_data variant: the same provisioners, triggers_replace, and no provider at all', () => {
    const { synthesized, json } = stackFor(seed, StackName.LB, ProvisionerResource.TERRAFORM_DATA);
    expect(json.provider).toBeUndefined();
    expect(json.terraform.required_providers).toBeUndefined();
    expect(synthesized).toHaveResourceWithProperties(DataResource, {
      triggers_replace: { files: expect.stringMatching(/^[0-9A-F]{32}$/), host: 'root@192.168.10.40' },
      provisioner: expect.arrayContaining([{ 'remote-exec': { inline: [`bash ${REMOTE_STAGING_DIR}/lb01/setup-lb.sh`] } }]),
    });
  });

  test('a non-root SSH user runs the scripts with sudo', () => {
    const custom = renderFixture({ configPath: CUSTOM_CONFIG });
    const { json } = stackFor(custom, StackName.LB);
    expect(json.resource.null_resource['edge-a'].connection.user).toBe('ops');
    const [before, upload, install, run] = json.resource.null_resource['edge-a'].provisioner;
    // Uploaded as the user into its own home; installed and run as root.
    expect(before['remote-exec'].inline.every((c: string) => !c.startsWith('sudo'))).toBe(true);
    expect(upload.file.destination).toBe('.k8s-ha-edge-upload/edge-a');
    expect(install['remote-exec'].inline.slice(0, -1).every((c: string) => c.startsWith('sudo -n '))).toBe(true);
    expect(install['remote-exec'].inline.at(-1)).toBe('rm -rf "$HOME"/.k8s-ha-edge-upload/edge-a');
    expect(run).toEqual({ 'remote-exec': { inline: [`sudo -n bash ${REMOTE_STAGING_DIR}/edge-a/setup-lb.sh`] } });
    // The join: the token on the master and the worker's join script, each run with sudo, from the one shared script.
    const worker = stackFor(custom, StackName.K8S).json.resource.null_resource.w2;
    const join = worker.provisioner.find((p: any) => p['local-exec'])['local-exec'];
    expect(join.environment).toMatchObject({ WORKER_SSH: 'ops@10.20.0.22', WORKER_COMMAND: `sudo -n bash ${REMOTE_STAGING_DIR}/w2/join-worker.sh w2` });
    expect(paramsOf(fileOf(custom.bundles, 'w2', 'join-from-master.sh')).MASTER_COMMAND).toBe('sudo -n kubeadm token create --ttl 15m --print-join-command');
  });

  test('is valid Terraform (snapshot for review)', () => {
    for (const name of Object.values(StackName)) {
      const { synthesized } = stackFor(seed, name);
      expect(JSON.parse(synthesized)).toMatchSnapshot(name);
    }
  });
});

(HAS_SSH_KEYGEN ? describe : describe.skip)('host keys in the topology', () => {
  const key = (name: string) => hostKeyLine(`root@${name}`);
  const keys = {
    controlPlane: { hostKey: key('master') },
    workers: [{ name: 'node01', address: '192.168.10.20', hostKey: key('node01') }, { name: 'node02', address: '192.168.10.30', hostKey: key('node02') }],
    loadBalancer: { hosts: [
      { name: 'lb01', address: '192.168.10.40', priority: 100, hostKey: key('lb01') },
      { name: 'lb02', address: '192.168.10.50', priority: 90, hostKey: key('lb02') },
    ] },
    gateway: { hostKey: key('gateway') },
    client: { hostKey: key('client') },
  };
  const keyed = renderFixture({ overrides: keys });

  test('every connection of every stack verifies the host\'s key (type and base64, without the comment)', () => {
    const hostKeyOf = (line: string) => line.split(' ').slice(0, 2).join(' ');
    const byAddress = new Map<string, string>([
      ['192.168.10.10', keys.controlPlane.hostKey], ...keys.workers.map((w): [string, string] => [w.address, w.hostKey]),
      ...keys.loadBalancer.hosts.map((h): [string, string] => [h.address, h.hostKey]),
      ['192.168.10.1', keys.gateway.hostKey], ['12.0.0.12', keys.client.hostKey],
    ]);
    let connections = 0;
    for (const name of [StackName.K8S, StackName.LB, StackName.GATEWAY, StackName.CLIENT]) {
      const { json } = stackFor(keyed, name);
      const bundles = Object.entries(json.resource.null_resource).filter(([id]) => !id.endsWith('-teardown')).map(([, r]) => r);
      for (const resource of bundles as Array<{ connection: { host: string; host_key?: string } }>) {
        expect(resource.connection.host_key).toBe(hostKeyOf(byAddress.get(resource.connection.host)!));
        expect(resource.connection.host_key).not.toContain('root@');
        connections++;
      }
    }
    expect(connections).toBe(keyed.bundles.length);
  });

  test('without host keys no connection names one (terraform then does not verify the host)', () => {
    for (const name of [StackName.K8S, StackName.LB, StackName.GATEWAY, StackName.CLIENT]) {
      const { json } = stackFor(seed, name);
      const bundles = Object.entries(json.resource.null_resource).filter(([id]) => !id.endsWith('-teardown')).map(([, r]) => r);
      for (const resource of bundles as Array<{ connection: object }>) {
        expect(resource.connection).not.toHaveProperty('host_key');
      }
    }
  });
});
