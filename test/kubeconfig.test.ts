/**
 * npm run kubeconfig as a user runs it, under `unshare -n` (no network: nothing can reach a host), with
 * an `ssh` stand-in on PATH that records its calls and answers `cat /etc/kubernetes/admin.conf` with a
 * kubeconfig in the form kubeadm init writes it (the layout of kubeadm's admin.conf; the keys are
 * placeholders, not real certificates). What is real here: the file handling (mode, atomic write,
 * refusals) and what is printed; what the stand-in replaces: SSH and the control-plane node.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { operatorSite, synthSite } from './support/synth-site';

const repo = resolve(__dirname, '..');

/** Secrets of the recorded kubeconfig: none may ever be printed. */
const CA_DATA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBLWRhdGEtcGxhY2Vob2xkZXIK';
const CLIENT_KEY_DATA = 'LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpjbGllbnQta2V5LXBsYWNlaG9sZGVyCg==';

/** admin.conf as kubeadm init writes it; its server is the node's own address, as on a cluster set up without an endpoint. */
const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA_DATA}
    server: https://10.99.0.1:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmNsaWVudC1jZXJ0Cg==
    client-key-data: ${CLIENT_KEY_DATA}
`;

// A non-root SSH user (so sudo is used) and a DNS name as the endpoint (so the rewrite is visible).
const testSite = operatorSite('k8s-ha-edge-kubeconfig-', [
  'controlPlane: { name: cp-a, address: 192.168.10.10, sshUser: ops }',
  'kubernetes: { controlPlaneEndpoint: api.example.internal }',
  '',
].join('\n'));
const { site, cdktfOut, key, bin } = testSite;

/** The ssh stand-in: logs its arguments; answers `cat` of admin.conf with $ADMIN_CONF_FILE, or fails with $SSH_FAIL. */
writeFileSync(join(bin, 'ssh'), `#!/usr/bin/env bash
echo "ssh $*" >> "$SSH_LOG"
for last; do :; done
case "$*" in *' -O exit '*) exit 0 ;; esac
if [ -n "\${SSH_FAIL:-}" ]; then echo "ssh: connect to host 192.168.10.10 port 22: Connection refused" >&2; exit 255; fi
case "$last" in *'cat /etc/kubernetes/admin.conf') cat "$ADMIN_CONF_FILE" ;; *) echo "unexpected command: $last" >&2; exit 99 ;; esac
`, { mode: 0o755 });

beforeAll(() => {
  synthSite(testSite);
});

let runs = 0;
function kubeconfig(args: readonly string[], env: Record<string, string> = {}) {
  const log = join(site, `ssh-${runs++}.log`);
  const conf = join(site, 'admin.conf');
  writeFileSync(conf, ADMIN_CONF);
  const run = spawnSync('unshare', ['-n', 'node', '--import', 'tsx', join(repo, 'ops', 'kubeconfig.ts'), '--ssh-key', key, ...args], {
    cwd: repo, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, INIT_CWD: site, PATH: `${bin}:${process.env.PATH}`, SSH_LOG: log, ADMIN_CONF_FILE: conf, ...env },
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls };
}

const mode = (path: string) => statSync(path).mode & 0o777;

function expectNoSecret(run: { stdout: string; stderr: string }): void {
  for (const secret of [CA_DATA, CLIENT_KEY_DATA, 'client-key-data', 'LS0t']) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

describe('npm run kubeconfig', () => {
  test('GIVEN the control plane\'s admin.conf THEN it is written mode 0600 with server: set to the control-plane endpoint, read with sudo, nothing secret printed', () => {
    const out = join(site, 'admin.kubeconfig');
    const run = kubeconfig(['--out', 'admin.kubeconfig']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(mode(out)).toBe(0o600);
    const written = parse(readFileSync(out, 'utf8'));
    expect(written.clusters[0].cluster.server).toBe('https://api.example.internal:6443');
    // Everything else as kubeadm wrote it.
    expect({ ...written, clusters: undefined }).toEqual({ ...parse(ADMIN_CONF), clusters: undefined });
    expect(written.clusters[0].cluster['certificate-authority-data']).toBe(CA_DATA);
    const reads = run.calls.filter((c) => !c.includes(' -O exit '));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatch(/ ops@192\.168\.10\.10 -- sudo -n cat \/etc\/kubernetes\/admin\.conf$/);
    expect(run.stdout).toContain('cp-a: reading /etc/kubernetes/admin.conf');
    expect(run.stdout).toContain('cp-a: server set to https://api.example.internal:6443');
    expect(run.stdout).toContain(`${out}: written (0600)`);
    expectNoSecret(run);
    // No temporary file left beside it.
    expect(readdirSync(site).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('GIVEN the same file already there THEN exit 0, unchanged; a mode wider than 0600 is narrowed', () => {
    const out = join(site, 'again.kubeconfig');
    expect(kubeconfig(['--out', out]).status).toBe(0);
    const again = kubeconfig(['--out', out]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`${out}: unchanged (0600)`);
    chmodSync(out, 0o644);
    const widened = kubeconfig(['--out', out]);
    expect(widened.status).toBe(0);
    expect(widened.stdout).toContain(`${out}: unchanged, mode set to 0600`);
    expect(mode(out)).toBe(0o600);
  });

  test('GIVEN a different file at --out THEN exit 2 naming it, the file untouched; --force replaces it, 0600', () => {
    const out = join(site, 'theirs.kubeconfig');
    writeFileSync(out, 'someone else\'s kubeconfig\n', { mode: 0o640 });
    const refused = kubeconfig(['--out', out]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`error: --out: got ${out}, which exists with other content; expected --force to replace it`);
    expect(readFileSync(out, 'utf8')).toBe('someone else\'s kubeconfig\n');
    expect(mode(out)).toBe(0o640);
    expectNoSecret(refused);
    const forced = kubeconfig(['--out', out, '--force']);
    expect(forced.status).toBe(0);
    expect(mode(out)).toBe(0o600);
    expect(parse(readFileSync(out, 'utf8')).clusters[0].cluster.server).toBe('https://api.example.internal:6443');
  });

  test.each([
    ['inside cdktf.out', () => join(cdktfOut, 'admin.conf'), 'the synthesized stacks (cdktf.out)'],
    ['inside dist', () => { mkdirSync(join(site, 'dist'), { recursive: true }); return join(site, 'dist', 'admin.conf'); }, 'the synthesized files (dist)'],
    ['inside the state directory', () => join(site, 'state', 'admin.conf'), 'the Terraform state directory'],
    ['inside cdktf.out through a symbolic link', () => {
      const link = join(site, 'link-to-out');
      if (!existsSync(link)) symlinkSync(cdktfOut, link);
      return join(link, 'admin.conf');
    }, 'the synthesized stacks (cdktf.out)'],
  ])('GIVEN --out %s THEN exit 2 naming it, before any SSH', (_name, target, what) => {
    const out = target();
    const run = kubeconfig(['--out', out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`error: --out: got ${out}, which is inside ${what}`);
    expect(run.calls).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  test.each([
    ['no --out', [], /^error: --out: got nothing, expected the file to write the kubeconfig to$/m],
    ['a directory', ['--out', '.'], /^error: --out: got \., which is not a regular file/m],
    ['a missing directory', ['--out', 'nowhere/admin.conf'], /^error: --out: got nowhere\/admin\.conf, whose directory .* does not exist/m],
  ])('GIVEN %s THEN exit 2, no SSH', (_name, args, message) => {
    const run = kubeconfig(args);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expect(run.calls).toEqual([]);
  });

  test('GIVEN --out where the system refuses the write THEN exit 2 naming it, no stack trace, nothing secret printed', () => {
    // sysfs refuses new files even to root: the same path as a read-only directory for another user.
    const run = kubeconfig(['--out', '/sys/admin.kubeconfig']);
    expect(run.stderr).toMatch(/^error: --out: got \/sys\/admin\.kubeconfig, which could not be written \(EACCES\)/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
    expectNoSecret(run);
  });

  test('GIVEN an unreachable control plane THEN exit 1 saying why, no file', () => {
    const out = join(site, 'unreachable.kubeconfig');
    const run = kubeconfig(['--out', out], { SSH_FAIL: '1' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('cp-a: could not read /etc/kubernetes/admin.conf: ssh: connect to host 192.168.10.10 port 22: Connection refused');
    expect(existsSync(out)).toBe(false);
  });

  test('GIVEN a file that is not a kubeconfig THEN exit 1 without printing it, no file', () => {
    const out = join(site, 'garbage.kubeconfig');
    const bad = join(site, 'not-kubeconfig.txt');
    writeFileSync(bad, `client-key-data: ${CLIENT_KEY_DATA}\n: [unclosed\n`);
    const run = kubeconfig(['--out', out], { ADMIN_CONF_FILE: bad });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/cp-a: \/etc\/kubernetes\/admin\.conf is not a usable kubeconfig: /);
    expectNoSecret(run);
    expect(existsSync(out)).toBe(false);
  });

  test('--help: exit 0 with the usage', () => {
    const run = kubeconfig(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run kubeconfig -- --out FILE/);
  });
});
