/**
 * The hostile cases: configs with every field wrong, flags abused, output targets booby-trapped,
 * the diagram cache tampered with. Each case says what a correct synth does with it: `reject`
 * (exit 2, the message naming `names`) or `accept` (exit 0, and then `check` for what it wrote).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { topologyDot } from '../../lib/diagram';
import { GRAPHVIZ_VERSION } from '../../lib/diagram/render-svg';
import { loadTopology } from '../../lib/topology';
import { CONFIG_SCHEMA } from '../../lib/topology/config-schema';
import { leavesOf } from '../../lib/topology/schema-dsl';

export interface Case {
  readonly name: string;
  /** Arguments after `node scripts/synth.js`; `{config}` is replaced by the config file's path. */
  readonly args: readonly string[];
  /** The config file's content and extension, written as `site.<ext>` in the working directory. */
  readonly config?: { readonly text: string | Uint8Array; readonly ext: 'yaml' | 'json' };
  /** Prepares the working directory (which already holds an earlier synth's output and the user's files). */
  readonly setup?: (cwd: string, cache: string) => void;
  readonly expect: 'reject' | 'accept';
  /** For a rejection: what the message must name (the field or the flag). */
  readonly names?: string;
  /** For an acceptance: a problem with what was written, or undefined. */
  readonly check?: (cwd: string) => string | undefined;
  /** Run as the unprivileged user `nobody` (root writes anywhere, so read-only directories need it). */
  readonly unprivileged?: boolean;
}

const write = (path: string, content: string | Uint8Array) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
};

/** Puts `value` at a schema path; list items (`workers[]`) become a one-item list of a complete item. */
function configWith(path: string, value: unknown): Record<string, unknown> {
  const item: Record<string, Record<string, unknown>> = {
    workers: { name: 'node01', address: '192.168.10.20' },
    'loadBalancer.hosts': { name: 'lb01', address: '192.168.10.40', priority: 100 },
    'gateway.hosts': { name: 'gw01', priority: 100, insideAddress: '192.168.10.2', outsideAddress: '12.0.0.2' },
  };
  const listMatch = /^(.*)\[\]\.(.*)$/.exec(path);
  if (listMatch) {
    const [, list, field] = listMatch;
    return nest(list, [{ ...item[list], [field]: value }]);
  }
  return nest(path, value);
}

function nest(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** The path an error names for a schema path: list items are the first one. */
const named = (path: string) => path.replace('[]', '[0]');

/** JSON config from a value (JSON keeps every value's type exactly, YAML would reinterpret some). */
const json = (value: unknown) => ({ text: JSON.stringify(value), ext: 'json' as const });
const yaml = (text: string) => ({ text, ext: 'yaml' as const });

/** Fields whose text is free: any printable string is valid there. */
const FREE_TEXT = new Set(['workers[].page', 'provisioning.stateDir']);

function fieldCases(): Case[] {
  const cases: Case[] = [];
  for (const { path, node } of leavesOf(CONFIG_SCHEMA)) {
    // A host default that breaks a rule is reported at each host that inherits it (controlPlane.interface, …).
    const names = path.startsWith('hostDefaults.') ? `.${path.split('.').pop()}: got` : `${named(path)}: got`;
    const at = (value: unknown, why: string): Case => ({
      name: `${path}: ${why}`, args: ['--config', '{config}'], config: json(configWith(path, value)), expect: 'reject', names,
    });
    // Each field gets a wrong type, the worst texts or numbers, rotating through the variants so
    // that the run stays a few minutes long while every variant is met by many fields.
    const n = cases.length;
    const pick = <T>(variants: readonly T[], k = 0): T => variants[(n + k) % variants.length];
    switch (node.kind) {
      case 'string': {
        const [value, why] = pick<[unknown, string]>([[12345, 'a number'], [['x'], 'a list'], [{ a: 1 }, 'a mapping'], [null, 'null'], [true, 'a boolean']]);
        cases.push(at(value, why), at('a\u0000b', 'a NUL byte'));
        const texts: Array<[string, string]> = [['x\u001b[2Jy', 'an escape sequence'], ['x\ny', 'a line break']];
        if (!FREE_TEXT.has(path)) texts.push(['x'.repeat(5000), '5000 characters'], ['\u202etxt.exe', 'a right-to-left override'], ['../../etc/passwd', 'path traversal']);
        const [text, textWhy] = pick(texts, 1);
        if (!(path === 'workers[].page' && text.includes('\n'))) cases.push(at(text, textWhy));
        break;
      }
      case 'integer': {
        const variants: Array<[unknown, string]> = [['80', 'a numeric string'], [1.5, 'a fraction'], [-1, 'minus one'], [1e20, '1e20'], [true, 'a boolean']];
        cases.push(at(...pick(variants)), at(...pick(variants, 2)));
        break;
      }
      case 'boolean':
        cases.push(at('yes', 'the string yes'), at(1, 'the number 1'));
        break;
      case 'enum':
        cases.push(at('nope', 'an unknown value'), at(7, 'a number'));
        break;
      case 'list':
        cases.push(at('node01', 'a string'), at({ name: 'x' }, 'a mapping'));
        break;
      default:
        break;
    }
  }
  return cases;
}

/** Configs that break a rule of the hosts (kubeadm, the kernel, the cluster), in both formats. */
function ruleCases(): Case[] {
  const reject = (name: string, text: string, names: string): Case => ({ name, args: ['--config', '{config}'], config: yaml(text), expect: 'reject', names });
  return [
    reject('service network /29', 'kubernetes: {serviceCidr: 10.96.0.0/29}\n', 'kubernetes.serviceCidr: got'),
    reject('service network /8', 'kubernetes: {serviceCidr: 10.0.0.0/8}\n', 'kubernetes.serviceCidr: got'),
    reject('pod network /26', 'kubernetes: {podCidr: 10.244.0.0/26}\n', 'kubernetes.podCidr: got'),
    reject('pod network /24 for three nodes', 'kubernetes: {podCidr: 10.244.0.0/24}\n', 'kubernetes.podCidr: got'),
    reject('pod network /4', 'kubernetes: {podCidr: 0.0.0.0/4}\n', 'kubernetes.podCidr: got'),
    reject('namespace kube-system', 'workload: {namespace: kube-system}\n', 'workload.namespace: got'),
    reject('namespace kube-flannel', 'workload: {namespace: kube-flannel}\n', 'workload.namespace: got'),
    reject('namespace kube-public', 'workload: {namespace: kube-public}\n', 'workload.namespace: got'),
    reject('joinTokenTtl 2562048h', 'kubernetes: {joinTokenTtl: 2562048h}\n', 'kubernetes.joinTokenTtl: got'),
    reject('joinTokenTtl 0s', 'kubernetes: {joinTokenTtl: 0s}\n', 'kubernetes.joinTokenTtl: got'),
    reject('interface all', 'hostDefaults: {interface: all}\n', 'controlPlane.interface: got'),
    reject('interface default', 'client: {interface: default}\n', 'client.interface: got'),
    reject('interface ..', 'client: {interface: ".."}\n', 'client.interface: got'),
    reject('interface with a colon', 'client: {interface: "eth0:1"}\n', 'client.interface: got'),
    reject('interface of 16 bytes', 'client: {interface: abcdefghijklmnop}\n', 'client.interface: got'),
    reject('mountPath with ..', 'workload: {mountPath: /usr/../etc}\n', 'workload.mountPath: got'),
    reject('mountPath relative', 'workload: {mountPath: usr/share}\n', 'workload.mountPath: got'),
    reject('hostPath ../..', 'workload: {hostPath: /data/../../etc}\n', 'workload.hostPath: got'),
    reject('hostPath component of 300 bytes', `workload: {hostPath: /${'a'.repeat(300)}}\n`, 'workload.hostPath: got'),
    reject('stateDir inside dist', 'provisioning: {stateDir: dist/state}\n', 'provisioning.stateDir: got'),
    reject('stateDir ../cdktf.out', 'provisioning: {stateDir: ../x/cdktf.out}\n', 'provisioning.stateDir: got'),
    reject('credentials in httpAddress', 'provisioning: {backend: http, httpAddress: "https://u:p@s.example/x"}\n', 'provisioning.httpAddress: got'),
    reject('httpAddress with the local backend', 'provisioning: {httpAddress: "https://s.example/x"}\n', 'provisioning.httpAddress: got'),
    reject('httpAddress not a URL', 'provisioning: {backend: http, httpAddress: "file:///etc/passwd"}\n', 'provisioning.httpAddress: got'),
    reject('VIP outside the network', 'loadBalancer: {vip: 10.0.0.1}\n', 'loadBalancer.vip: got'),
    reject('VIP the broadcast address', 'loadBalancer: {vip: 192.168.10.255}\n', 'loadBalancer.vip: got'),
    reject('address with a leading zero', 'controlPlane: {address: 192.168.10.010}\n', 'controlPlane.address: got'),
    reject('no workers', 'workers: []\n', 'workers: got'),
    reject('no load balancers', 'loadBalancer: {hosts: []}\n', 'loadBalancer.hosts: got'),
    reject('two workers with one name', 'workers:\n  - {name: a, address: 192.168.10.20}\n  - {name: a, address: 192.168.10.21}\n', 'workers[1].name: got'),
    reject('host key of the wrong type', 'client: {hostKey: "ssh-ed25519 c3NoLXJzYQ=="}\n', 'client.hostKey: got'),
    reject('image with a shell substitution', 'workload: {image: "nginx:$(reboot)"}\n', 'workload.image: got'),
    reject('kubernetes version 2.0', 'kubernetes: {version: "2.0"}\n', 'kubernetes.version: got'),
    reject('NTP server with a chrony directive after a newline', 'timeSync: {servers: [{address: "ntp.example\\nallow all"}]}\n', 'timeSync.servers[0].address: got'),
    reject('NTP servers as plain words', 'timeSync: {servers: [ntp.example.internal]}\n', 'timeSync.servers[0]: got'),
    reject('kubernetes version as a float', 'kubernetes: {version: 1.30}\n', 'kubernetes.version: got'),
    reject('page with NUL', 'workers:\n  - {name: a, address: 192.168.10.20, page: "a\\0b"}\n', 'workers[0].page: got'),
    reject('controlPlaneEndpoint with a port', 'kubernetes: {controlPlaneEndpoint: "api.example:6443"}\n', 'kubernetes.controlPlaneEndpoint: got'),
    reject('apiServerPort 22', 'kubernetes: {apiServerPort: 22}\n', 'kubernetes.apiServerPort: got'),
    reject('priority 255', 'loadBalancer:\n  hosts:\n    - {name: lb01, address: 192.168.10.40, priority: 255}\n', 'loadBalancer.hosts[0].priority: got'),
    reject('an unknown top-level key', 'wokers: []\n', 'wokers: got'),
    reject('__proto__ pollution', '{"__proto__": {"polluted": true}}', '__proto__: got'),
  ];
}

/** Parser tricks: aliases, tags, merge keys, duplicate keys, multiple documents, deep nesting, bad bytes. */
function parserCases(): Case[] {
  const file = (name: string, config: { text: string | Uint8Array; ext: 'yaml' | 'json' }, names = '(file): got'): Case =>
    ({ name, args: ['--config', '{config}'], config, expect: 'reject', names });
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
  return [
    file('a billion laughs (alias bomb)', yaml(`${laughs}\n`)),
    file('an alias to an undefined anchor', yaml('workload: {name: *nope}\n')),
    file('an unknown tag', yaml('workload: {name: !shell web}\n')),
    file('a !!binary tag on a string field', yaml('workload: {name: !!binary d2Vi}\n'), 'workload.name: got'),
    file('a !!str tag on a port', yaml('workload: {nodePort: !!str 30000}\n'), 'workload.nodePort: got'),
    file('a merge key', yaml('base: &b {version: "1.36"}\nkubernetes:\n  <<: *b\n'), 'got an unknown key'),
    file('a duplicate YAML key', yaml('workload:\n  name: a\n  name: b\n')),
    file('a duplicate key through an alias', yaml('kubernetes:\n  &k version: "1.36"\n  *k : "1.35"\n')),
    file('a duplicate key, number and string', yaml('workload:\n  1: a\n  "1": b\n')),
    file('a duplicate JSON key', { text: '{"workload": {"name": "a", "name": "b"}}', ext: 'json' }),
    file('a duplicate JSON key with an escape', { text: '{"workload": {"name": "a", "n\\u0061me": "b"}}', ext: 'json' }),
    file('two YAML documents', yaml('workload: {name: a}\n---\nworkload: {name: b}\n')),
    file('JSON nested 5000 deep', { text: `{"workers": ${'['.repeat(5000)}${']'.repeat(5000)}}`, ext: 'json' }),
    file('JSON objects nested 5000 deep', { text: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, ext: 'json' }),
    file('YAML nested 5000 deep', yaml(`workers: ${'['.repeat(5000)}${']'.repeat(5000)}\n`)),
    file('not UTF-8', { text: Buffer.from([0x77, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), ext: 'yaml' }),
    file('a UTF-16 file', { text: Buffer.from('\ufeffworkload: {}\n', 'utf16le'), ext: 'yaml' }),
    file('a top-level list', yaml('- a\n- b\n'), '(top level): got'),
    file('a top-level string', yaml('just text\n'), '(top level): got'),
    file('a top-level number in JSON', { text: '42', ext: 'json' }, '(top level): got'),
    file('JSON with a trailing comma', { text: '{"workload": {"name": "a",}}', ext: 'json' }),
    file('JSON with NaN', { text: '{"workload": {"nodePort": NaN}}', ext: 'json' }),
    file('YAML .nan for a port', yaml('workload: {nodePort: .nan}\n'), 'workload.nodePort: got'),
    file('YAML .inf for a port', yaml('workload: {nodePort: .inf}\n'), 'workload.nodePort: got'),
    file('YAML 1.1 yes for a boolean', yaml('loadBalancer: {vrrp: {unicast: yes}}\n'), 'loadBalancer.vrrp.unicast: got'),
    file('a complex mapping key', yaml('? [a, b]\n: c\n'), 'got an unknown key'),
  ];
}

/** A case synth must refuse with exit 2 and a message holding `names`; `unprivileged`: run as nobody (root reads any file). */
function reject(name: string, args: string[], names: string, setup?: Case['setup'], unprivileged = false): Case {
  return { name, args, expect: 'reject', names, setup, unprivileged };
}

/** Flags: unknown, missing values, repeated, conflicting; config paths that are not files. */
function flagCases(): Case[] {
  return [
    reject('an unknown flag', ['--bogus'], 'unknown argument: got "--bogus"'),
    reject('a single-dash flag', ['-config', 'x.yaml'], 'unknown argument: got "-config"'),
    reject('--config without a value', ['--config'], '--config: got nothing'),
    reject('--config followed by a flag', ['--config', '--only', 'k8s'], '--config: got nothing'),
    reject('--config empty', ['--config', ''], '--config: got ""'),
    reject('--config twice', ['--config', 'a.yaml', '--config', 'b.yaml'], '--config: got "b.yaml" after'),
    reject('--only twice', ['--only', 'k8s', '--only', 'tf'], '--only: got "tf" after'),
    reject('--only k8s twice', ['--only', 'k8s', '--only', 'k8s'], '--only: got "k8s" after'),
    reject('--dist twice', ['--dist', 'a', '--dist', 'b'], '--dist: got "b" after'),
    reject('--cdktf-out twice', ['--cdktf-out', 'a', '--cdktf-out', 'b'], '--cdktf-out: got "b" after'),
    reject('--resource twice', ['--resource', 'null_resource', '--resource', 'terraform_data'], '--resource: got "terraform_data" after'),
    reject('--only all', ['--only', 'all'], '--only: got "all"'),
    reject('--resource aws_instance', ['--resource', 'aws_instance'], '--resource: got "aws_instance"'),
    reject('--dist of blanks', ['--dist', '   '], '--dist: got "   "'),
    reject('--config missing', ['--config', 'missing.yaml'], '--config: got "missing.yaml" (no such file)'),
    reject('--config a directory', ['--config', '/tmp'], '--config: got "/tmp" (a directory), expected a regular file'),
    // A config is read whole: anything but a regular file is refused before a byte is read (a FIFO
    // nobody writes to blocked synth forever; a device could stream without end).
    reject('--config /dev/zero', ['--config', '/dev/zero'], '--config: got "/dev/zero" (a character device), expected a regular file'),
    reject('--config /dev/urandom', ['--config', '/dev/urandom'], '--config: got "/dev/urandom" (a character device), expected a regular file'),
    reject('--config /dev/null', ['--config', '/dev/null'], '--config: got "/dev/null" (a character device), expected a regular file'),
    reject('--config a FIFO nobody writes to', ['--config', 'site.fifo'], '--config: got "site.fifo" (a FIFO), expected a regular file', (cwd) => {
      spawnSync('mkfifo', [join(cwd, 'site.fifo')]);
    }),
    reject('--config a Unix socket', ['--config', 'site.sock'], '--config: got "site.sock" (a socket), expected a regular file', (cwd) => {
      // A socket file stays after its listener is gone; python makes one without a long-lived process.
      spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(cwd, 'site.sock')]);
    }),
    reject('--config /dev/null as JSON', ['--config', 'empty.json'], '(file): got unparsable JSON', (cwd) => write(join(cwd, 'empty.json'), '')),
    reject('--config a symbolic link loop', ['--config', 'loop.yaml'], '--config: got "loop.yaml"', (cwd) => symlinkSync('loop.yaml', join(cwd, 'loop.yaml'))),
    reject('--config a binary', ['--config', process.execPath], `--config: got`),
    reject('--config unreadable', ['--config', 'secret.yaml'], '--config: got "secret.yaml"', (cwd) => {
      write(join(cwd, 'secret.yaml'), 'workload: {}\n');
      chmodSync(join(cwd, 'secret.yaml'), 0o000);
    }, true),
  ];
}

/** Output targets that synth must refuse, each with the user's files around it. */
function targetCases(): Case[] {
  return [
    reject('--only k8s --dist cdktf.out', ['--only', 'k8s', '--dist', 'cdktf.out'], '--dist: got "cdktf.out", which holds the Terraform stacks'),
    reject('--only tf --cdktf-out dist', ['--only', 'tf', '--cdktf-out', 'dist'], '--cdktf-out: got "dist", which holds the Kubernetes manifests'),
    reject('--dist cdktf.out --cdktf-out dist', ['--dist', 'cdktf.out', '--cdktf-out', 'dist'], 'which holds the'),
    reject('--dist . (the working directory)', ['--dist', '.', '--only', 'k8s'], '--dist: got "."'),
    reject('--dist dist/.', ['--dist', 'dist/.', '--only', 'k8s'], '--dist: got "dist/."'),
    reject('--dist dist/..', ['--dist', 'dist/..', '--only', 'k8s'], '--dist: got "dist/.."'),
    reject('--dist ..', ['--dist', '..', '--only', 'k8s'], '--dist: got ".."'),
    reject('--dist /', ['--dist', '/', '--only', 'k8s'], '--dist: got "/"'),
    reject('--dist a folder of the user\'s files', ['--dist', 'mine'], '--dist: got "mine", a directory that k8s-ha-edge did not write'),
    reject('--dist a regular file', ['--dist', 'notes.txt'], '--dist: got "notes.txt", a file that is not a directory'),
    reject('--dist below a regular file', ['--dist', 'notes.txt/out'], '--dist: got "notes.txt/out", expected a directory whose parent synth can write'),
    reject('--dist a symbolic link to the user\'s files', ['--dist', 'link'], '--dist: got "link", a symbolic link', (cwd) => symlinkSync('mine', join(cwd, 'link'))),
    reject('--dist a symbolic link to synth\'s own output', ['--dist', 'link', '--only', 'k8s'], '--dist: got "link", a symbolic link', (cwd) => symlinkSync('dist', join(cwd, 'link'))),
    reject('--dist a dangling symbolic link', ['--dist', 'dangling'], '--dist: got "dangling", a symbolic link', (cwd) => symlinkSync('nowhere', join(cwd, 'dangling'))),
    reject('--cdktf-out inside --dist', ['--cdktf-out', 'dist/tf'], '--cdktf-out: got "dist/tf", expected a directory apart from --dist'),
    reject('--dist inside --cdktf-out', ['--dist', 'cdktf.out/d'], 'expected a directory apart from'),
    reject('--dist = --cdktf-out', ['--dist', 'out', '--cdktf-out', 'out'], '--cdktf-out: got "out", expected a directory apart from --dist'),
    reject('--dist and --cdktf-out the same through a symbolic link', ['--dist', 'o1', '--cdktf-out', 'o2/x'], 'expected a directory apart from',
      (cwd) => { mkdirSync(join(cwd, 'o1')); symlinkSync('o1', join(cwd, 'o2')); }),
    reject('--dist in a read-only directory', ['--dist', 'ro/out', '--only', 'k8s'], '--dist: got "ro/out", expected a directory whose parent synth can write',
      (cwd) => { mkdirSync(join(cwd, 'ro')); chmodSync(join(cwd, 'ro'), 0o555); }, true),
    reject('--cdktf-out in a read-only directory', ['--cdktf-out', 'ro/tf', '--only', 'tf'], '--cdktf-out: got "ro/tf", expected a directory whose parent synth can write',
      (cwd) => { mkdirSync(join(cwd, 'ro')); chmodSync(join(cwd, 'ro'), 0o555); }, true),
    reject('--dist with a 300-byte name', ['--dist', 'x'.repeat(300), '--only', 'k8s'], '--dist: got "xxx'),
    reject('--dist where its .previous is the user\'s folder', ['--only', 'k8s'], '--dist (the copy kept from the synth before): got',
      (cwd) => write(join(cwd, '.dist.previous', 'keep.txt'), 'mine')),
    reject('--dist whose lock path is a directory', ['--only', 'k8s'], '--dist: got "dist", whose lock path', (cwd) => mkdirSync(join(cwd, '.dist.lock'))),
    reject('--dist whose lock path is a symbolic link', ['--only', 'k8s'], '--dist: got "dist", whose lock path', (cwd) => symlinkSync('notes.txt', join(cwd, '.dist.lock'))),
    reject('stacks holding Terraform state', [], '--cdktf-out: got Terraform state inside the generated tree',
      (cwd) => write(join(cwd, 'cdktf.out', 'stacks', 'master', 'terraform.tfstate'), '{}')),
    reject('--dist empty', ['--dist', ''], '--dist: got ""'),
  ];
}

/** The key renderSvg files the default topology's picture under. */
function defaultPictureEntry(cache: string): string {
  const dot = topologyDot(loadTopology());
  return join(cache, 'k8s-ha-edge', 'diagrams', `${createHash('sha256').update(`${GRAPHVIZ_VERSION}\0${dot}`).digest('hex')}.svg`);
}

/** What a good picture is not: the tampered content must not reach dist/. */
const pictureIsGenuine = (cwd: string): string | undefined => {
  const svg = require('node:fs').readFileSync(join(cwd, 'dist', 'topology.svg'), 'utf8') as string;
  if (!svg.includes('Generated by graphviz') || /<script|onload=|NOT-A-PICTURE/.test(svg)) return 'dist/topology.svg is the tampered cache entry';
  return undefined;
};

/** Valid runs in hostile surroundings: each must succeed and leave the user's files alone. */
function acceptCases(): Case[] {
  const accept = (name: string, args: string[], setup?: Case['setup'], check?: Case['check']): Case => ({ name, args, expect: 'accept', setup, check });
  const secretFile = (cwd: string) => join(cwd, 'private.txt');
  return [
    accept('a plain synth over the earlier output', []),
    accept('--help', ['--help']),
    accept('--only k8s', ['--only', 'k8s']),
    accept('--only tf keeps .terraform/', ['--only', 'tf'], undefined, (cwd) => {
      const has = require('node:fs').existsSync(join(cwd, 'cdktf.out', 'stacks', 'master', '.terraform', 'providers', 'p'));
      return has ? undefined : 'cdktf.out/stacks/master/.terraform/ was lost';
    }),
    accept('--dist dist/ (a trailing slash)', ['--dist', 'dist/', '--only', 'k8s']),
    accept('an empty lock file left by a full disk', ['--only', 'k8s'], (cwd) => {
      write(join(cwd, '.dist.lock'), '');
      require('node:fs').utimesSync(join(cwd, '.dist.lock'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }),
    accept('a lock of a dead synth', ['--only', 'k8s'], (cwd) => write(join(cwd, '.dist.lock'), '4194305\n')),
    accept('a staging directory of a live process is left alone', ['--only', 'k8s'], (cwd) => write(join(cwd, '.dist.staging-1-abcdef', 'x'), 'pid 1 is alive')),
    accept('a cache entry replaced by an SVG with <script>', ['--only', 'k8s'], (_cwd, cache) => {
      write(defaultPictureEntry(cache), '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n');
    }, pictureIsGenuine),
    accept('a cache entry that is a symbolic link to a private file', ['--only', 'k8s'], (cwd, cache) => {
      write(secretFile(cwd), 'NOT-A-PICTURE private\n');
      mkdirSync(dirname(defaultPictureEntry(cache)), { recursive: true });
      symlinkSync(secretFile(cwd), defaultPictureEntry(cache));
    }, pictureIsGenuine),
    accept('a cache entry of junk', ['--only', 'k8s'], (_cwd, cache) => write(defaultPictureEntry(cache), 'NOT-A-PICTURE \0\x01\x02')),
    accept('a cache entry that is a directory', ['--only', 'k8s'], (_cwd, cache) => mkdirSync(defaultPictureEntry(cache), { recursive: true })),
    accept('a cache directory that is a file', ['--only', 'k8s'], (_cwd, cache) => write(join(cache, 'k8s-ha-edge'), 'a file')),
    { name: 'a unicode page and a unicode state directory', args: ['--config', '{config}'], expect: 'accept',
      config: yaml('workers:\n  - {name: node01, address: 192.168.10.20, page: "héllo ☃ <b>&amp;</b>\\ttab"}\nprovisioning: {stateDir: "état"}\n') },
    { name: 'YAML anchors used for what they are for', args: ['--config', '{config}'], expect: 'accept',
      config: yaml('hostDefaults: &d {sshUser: admin}\nclient: {sshUser: admin}\n') },
    { name: 'the longest Go duration', args: ['--config', '{config}'], expect: 'accept', config: yaml('kubernetes: {joinTokenTtl: 2562047h}\n') },
    { name: 'a /22 Pod network and a /28 Service network', args: ['--config', '{config}'], expect: 'accept',
      config: yaml('kubernetes: {podCidr: 10.244.0.0/22, serviceCidr: 10.96.0.0/28}\n') },
  ];
}

export function hostileCases(): Case[] {
  return [...fieldCases(), ...ruleCases(), ...parserCases(), ...flagCases(), ...targetCases(), ...acceptCases()];
}
