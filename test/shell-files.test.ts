/**
 * The static shell files (lib/**.sh) and the generated parameter header that precedes them in
 * every script (lib/formats/shell.ts: shellBody, shellScript).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { listFiles } from '../lib/kernel/files';
import { shellBody, shellScript } from '../lib/formats/shell';
import { shellFile } from '../lib/formats/shell-files';
import { renderUpgradeNode } from '../lib/kubernetes/upgrade';
import { DEBIAN_PROFILE } from '../lib/os-profiles/debian';
import { RHEL_PROFILE } from '../lib/os-profiles/rhel';
import { loadTopology } from '../lib/topology';
import { GATEWAY_PAIR_CONFIG, renderFixture } from './render-fixture';
import { scratchDir } from './support/scratch';

const lib = join(__dirname, '..', 'lib');
const staticFiles = listFiles(lib).filter((f) => f.endsWith('.sh'));

// The scripts an operator command renders and sends itself (npm run upgrade), besides the synthesized ones.
const commandScripts = [renderUpgradeNode(loadTopology().kubernetes, DEBIAN_PROFILE), renderUpgradeNode(loadTopology().kubernetes, RHEL_PROFILE)];

test.each(staticFiles)('lib/%s starts with the shell directive and is in a synthesized or a command\'s script (no unused file)', (file) => {
  const text = shellFile(file);
  expect(text.split('\n')[0]).toBe('# shellcheck shell=bash');
  const body = text.slice(text.indexOf('\n') + 1).trimEnd();
  const outputs = [renderFixture(), renderFixture({ overrides: { hostDefaults: { osFamily: 'rhel' } } }), renderFixture({ configPath: GATEWAY_PAIR_CONFIG })]
    .flatMap((f) => f.bundles.flatMap((b) => b.files.map((x) => x.content))).concat(commandScripts);
  expect(outputs.some((content) => content.includes(body))).toBe(true);
});

describe('shellBody', () => {
  test('takes exactly the parameters the file\'s guard declares', () => {
    expect(shellBody('client/check-service.sh', { SERVICE_URL: 'http://x/' }).params).toEqual({ SERVICE_URL: 'http://x/' });
    expect(() => shellBody('client/check-service.sh', {})).toThrow(/guard declares \[SERVICE_URL\], got parameters \[\]/);
    expect(() => shellBody('client/check-service.sh', { SERVICE_URL: 'http://x/', EXTRA: 1 })).toThrow(/got parameters \[EXTRA SERVICE_URL\]/);
  });

  test('a list that may be empty is declared by its length, `${#NAME[@]}`, and is still required', () => {
    const params = { LB_INTERFACE: 'eth0', VRRP_RICH_RULES: [], LB_PORT: 80, API_PORT: 6443 };
    expect(shellBody('load-balancer/firewalld-openings.sh', params).params).toEqual(params);
    expect(() => shellBody('load-balancer/firewalld-openings.sh', { LB_INTERFACE: 'eth0', LB_PORT: 80, API_PORT: 6443 }))
      .toThrow(/guard declares \[API_PORT LB_INTERFACE LB_PORT VRRP_RICH_RULES\], got parameters \[API_PORT LB_INTERFACE LB_PORT\]/);
  });
});

describe('shellScript', () => {
  test('one readonly header for all parts, quoted; lists are arrays', () => {
    const script = shellScript('probe', { params: { A: "it's", B: ['x y', 'z'] }, text: 'echo "$A" "${B[@]}"\n' }, { params: { A: "it's" }, text: 'echo "$A"\n' });
    expect(script).toContain("readonly A='it'\\''s'\nreadonly B=('x y' z)\n");
    expect(script.match(/^readonly A=/gm)).toHaveLength(1);
    const dir = scratchDir('k8s-ha-edge-shell-');
    writeFileSync(join(dir, 'probe.sh'), script);
    const run = spawnSync('bash', [join(dir, 'probe.sh')], { encoding: 'utf8' });
    expect(run.stdout).toBe("it's x y z\nit's\n");
  });

  test('two parts giving one parameter two values is an error', () => {
    expect(() => shellScript('probe', { params: { A: 1 }, text: '' }, { params: { A: 2 }, text: '' })).toThrow(/A: got 2 and 1/);
  });

  test('a static body run without its header stops at its guard, naming the parameter', () => {
    const dir = scratchDir('k8s-ha-edge-shell-');
    writeFileSync(join(dir, 'body.sh'), shellFile('client/check-service.sh'));
    const run = spawnSync('bash', [join(dir, 'body.sh')], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('SERVICE_URL');
  });
});
