/**
 * npm run validate: proves the synthesized output with the programs that will read it.
 *
 * Synthesizes four variants as a user would (`tsx main.ts --config … --resource terraform_data`
 * into a temporary directory), then runs every artifact through its consumer: nginx -t,
 * keepalived --config-test, iptables-restore --test, shellcheck, the Kubernetes schemas and
 * terraform init + validate, systemd-analyze verify of the units; and shellchecks the static shell files the scripts are made of
 * (lib/**.sh). Prints one table row per check and exits 1 if any check failed.
 * Tools come from Debian packages: `bash validate/install-tools.sh` installs them.
 *
 * Usage: npm run validate [-- --variant NAME]... [--config FILE [--os rhel|debian]] [--keep] [--verbose]
 * `--config FILE` checks the user's own topology instead of the built-in variants: once as written,
 * or with every host's family set to `--os`.
 * Exit codes: 0 every check passed, 1 a check failed, 2 bad arguments.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ParseArgsConfig } from 'node:util';
import { argumentTokens } from '../lib/cli-args';
import { basename, join, relative, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { listFiles } from '../lib/kernel/files';
import { CheckResult, describeFailure, run } from './checkers/common';
import { checkInFlightRules, checkIptablesRules } from './checkers/iptables';
import { checkIp6tablesRules } from './checkers/ip6tables';
import { checkK8sManifest } from './checkers/k8s';
import { checkKeepalivedConf } from './checkers/keepalived';
import { checkConntrackdConf } from './checkers/conntrackd';
import { renderNginxConf } from '../lib/load-balancer/nginx';
import { osProfile } from '../lib/os-profiles';
import { loadTopology, Topology } from '../lib/topology';
import { CHECKING_NGINX, checkNginxConf } from './checkers/nginx';
import { checkShellScript } from './checkers/shellcheck';
import { checkSystemdUnit } from './checkers/systemd';
import { checkTerraformStack } from './checkers/terraform';

const REPO = resolve(__dirname, '..');
const CUSTOM_EXAMPLE = join(REPO, 'examples', 'custom-three-workers.yaml');
const GATEWAY_PAIR_EXAMPLE = join(REPO, 'examples', 'gateway-pair.yaml');
const SYNTH_TIMEOUT_MS = 180_000;

interface Variant {
  readonly name: string;
  /** The config file's content, or undefined for the built-in defaults. */
  readonly config?: () => string;
  /** The config file's extension, which says how synth parses it. @default yaml */
  readonly extension?: 'yaml' | 'json';
}

function customWithFamily(family: 'rhel' | 'debian'): string {
  return stringifyYaml(withOsFamily(parseYaml(readFileSync(CUSTOM_EXAMPLE, 'utf8')) as Record<string, any>, family));
}

export const VARIANTS: readonly Variant[] = [
  { name: 'default/debian' },
  { name: 'default/rhel', config: () => 'hostDefaults:\n  osFamily: rhel\n' },
  { name: 'custom/debian', config: () => readFileSync(CUSTOM_EXAMPLE, 'utf8') },
  { name: 'custom/rhel', config: () => customWithFamily('rhel') },
  { name: 'gateway-pair/debian', config: () => readFileSync(GATEWAY_PAIR_EXAMPLE, 'utf8') },
  { name: 'gateway-pair/rhel', config: () => `hostDefaults:\n  osFamily: rhel\n${readFileSync(GATEWAY_PAIR_EXAMPLE, 'utf8')}` },
];

interface Row {
  readonly variant: string;
  readonly artifact: string;
  readonly result: CheckResult;
  readonly kind: string;
  readonly seconds: number;
}

/** Checks in table order: each file name (or path pattern) with its checker. */
type Checker = (path: string, rel: string, topology: Topology) => CheckResult;
const FILE_CHECKS: ReadonlyArray<{ readonly kind: string; readonly matches: (rel: string) => boolean; readonly check: Checker }> = [
  { kind: 'nginx', matches: (rel) => rel.endsWith('/nginx.conf'), check: checkNginxOfHost },
  { kind: 'keepalived', matches: (rel) => rel.endsWith('/keepalived.conf'), check: (file) => checkKeepalivedConf(file) },
  { kind: 'conntrackd', matches: (rel) => rel.endsWith('/conntrackd.conf'), check: (file) => checkConntrackdConf(file) },
  { kind: 'iptables', matches: (rel) => rel.endsWith('/firewall.rules') || rel.endsWith('/empty.rules'), check: checkIptablesRules },
  { kind: 'ip6tables', matches: (rel) => rel.endsWith('/firewall6.rules') || rel.endsWith('/empty6.rules'), check: checkIp6tablesRules },
  { kind: 'iptables', matches: (rel) => rel.endsWith('/in-flight.rules') || rel.endsWith('/handoff.rules'), check: checkInFlightRules },
  { kind: 'k8s-schema', matches: (rel) => rel.endsWith('.k8s.yaml') || basename(rel) === 'kube-flannel.yml', check: checkK8sManifest },
  { kind: 'shellcheck', matches: (rel) => rel.endsWith('.sh'), check: checkShellScript },
  { kind: 'systemd', matches: (rel) => rel.endsWith('.service') || rel.endsWith('.timer'), check: (file) => checkSystemdUnit(file) },
];

/**
 * nginx -t on a load balancer's nginx.conf. A file rendered for a family whose nginx differs from
 * the checking one (Debian's) is checked through its Debian twin: the same model printed with
 * Debian's nginx facts, once the shipped file is proven to be that model printed with the host's own.
 */
function checkNginxOfHost(file: string, rel: string, t: Topology): CheckResult {
  const hostName = rel.split('/')[1]; // dist/<bundle>/nginx.conf, a load balancer's bundle named after it
  const host = t.loadBalancer.hosts.find((h) => h.name === hostName);
  if (!host) return { ok: false, tool: 'nginx -t', detail: `${rel}: no load balancer named ${hostName} in the topology` };
  const shipped = renderNginxConf(t, osProfile(host).nginx);
  const twin = renderNginxConf(t, CHECKING_NGINX);
  if (shipped === twin) return checkNginxConf(file);
  const tool = `nginx -t (Debian twin of the ${host.osFamily} model)`;
  if (readFileSync(file, 'utf8') !== shipped) {
    return { ok: false, tool, detail: `${rel} is not the nginx model printed with ${host.osFamily}'s profile, so its twin would prove nothing` };
  }
  return checkNginxConf(file, { text: twin, family: host.osFamily });
}

function filesUnder(root: string): string[] {
  return existsSync(root) ? listFiles(root).map((file) => join(root, file)) : [];
}

function timed(body: () => CheckResult): { result: CheckResult; seconds: number } {
  const start = process.hrtime.bigint();
  const result = body();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function configFileOf(variant: Variant, dir: string): string {
  return join(dir, `config.${variant.extension ?? 'yaml'}`);
}

/** Synthesizes one variant into `dir`; a failed synth is a failed row. */
function synthVariant(variant: Variant, dir: string): CheckResult {
  const args = [join(REPO, 'main.ts'), '--dist', join(dir, 'dist'), '--cdktf-out', join(dir, 'cdktf.out'), '--resource', 'terraform_data'];
  if (variant.config) {
    const configPath = configFileOf(variant, dir);
    writeFileSync(configPath, variant.config());
    args.push('--config', configPath);
  }
  const tsx = join(REPO, 'node_modules', '.bin', 'tsx');
  const tool = `synth (tsx main.ts${variant.config ? ' --config' : ''} --resource terraform_data)`;
  if (!existsSync(tsx)) return { ok: false, tool, detail: `${tsx} not found: run npm ci` };
  const result = run(tsx, args, { cwd: dir, timeoutMs: SYNTH_TIMEOUT_MS, env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '' } });
  if (result.status === 0 && !result.error) return { ok: true, tool, detail: result.stdout.split('\n')[0] };
  return { ok: false, tool, detail: describeFailure(result) };
}

/** Runs one check and records its row; paths under `dir` are shown relative to it. */
function rowAdder(variant: string, dir: string, rows: Row[], onRow: (row: Row) => void) {
  return (artifact: string, kind: string, body: () => CheckResult) => {
    const { result, seconds } = timed(body);
    const detail = result.detail.split(`${dir}/`).join('');
    const row = { variant, artifact, kind, seconds, result: { ...result, detail } };
    rows.push(row);
    onRow(row);
  };
}

/** The name of the rows that check the repository's own static shell files, not a synthesized variant. */
const STATIC_SHELL = 'static';

/**
 * The static shell files the generated scripts are made of (lib/**.sh), shellchecked as files: each
 * declares the parameters its generated header sets in a guard (`: "${NAME:?}"`), so shellcheck
 * knows them and still flags any other unassigned variable. Once, whatever the variants.
 */
function validateShellFiles(rows: Row[], onRow: (row: Row) => void): void {
  const add = rowAdder(STATIC_SHELL, REPO, rows, onRow);
  for (const file of listFiles(join(REPO, 'lib')).filter((f) => f.endsWith('.sh'))) {
    add(`lib/${file}`, 'shellcheck', () => checkShellScript(join(REPO, 'lib', file)));
  }
}

function validateVariant(variant: Variant, dir: string, rows: Row[], onRow: (row: Row) => void): void {
  // Paths inside the temporary directory are shown relative to the variant's output.
  const add = rowAdder(variant.name, dir, rows, onRow);
  let synthOk = false;
  add('dist/, cdktf.out/', 'synth', () => {
    const result = synthVariant(variant, dir);
    synthOk = result.ok;
    return result;
  });
  if (!synthOk) return;
  const topology = loadTopology(variant.config ? { configPath: configFileOf(variant, dir) } : {});
  const dist = join(dir, 'dist');
  const files = filesUnder(dist);
  for (const { kind, matches, check } of FILE_CHECKS) {
    for (const file of files) {
      const rel = relative(dir, file);
      if (matches(rel)) add(rel, kind, () => check(file, rel, topology));
    }
  }
  const stacks = join(dir, 'cdktf.out', 'stacks');
  for (const stack of existsSync(stacks) ? readdirSync(stacks).sort() : []) {
    add(`cdktf.out/stacks/${stack}`, 'terraform', () => checkTerraformStack(join(stacks, stack)));
  }
}

/**
 * The user's own topology as a variant: the file as written, or with every host's osFamily set to
 * `family` (hostDefaults and each host that names its own). The file keeps its format (JSON stays JSON).
 */
export function userVariant(configPath: string, family?: 'rhel' | 'debian'): Variant {
  const text = readFileSync(configPath, 'utf8');
  const name = `${configPath}${family ? `/${family}` : ''}`;
  const extension = configPath.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
  if (!family) return { name, config: () => text, extension };
  return {
    name,
    extension,
    config: () => {
      const config = (extension === 'json' ? JSON.parse(text) : parseYaml(text)) as Record<string, any> | null;
      const withFamily = withOsFamily(config ?? {}, family);
      return extension === 'json' ? JSON.stringify(withFamily, null, 2) : stringifyYaml(withFamily);
    },
  };
}

/** Every place a config names an osFamily, set to `family`; hostDefaults always. */
function withOsFamily(config: Record<string, any>, family: string): Record<string, any> {
  const set = (host: unknown) => (host && typeof host === 'object' && 'osFamily' in host ? { ...host, osFamily: family } : host);
  const out: Record<string, any> = { ...config, hostDefaults: { ...(config.hostDefaults ?? {}), osFamily: family } };
  for (const key of ['controlPlane', 'gateway', 'client']) if (key in out) out[key] = set(out[key]);
  if (Array.isArray(out.workers)) out.workers = out.workers.map(set);
  if (out.loadBalancer && Array.isArray(out.loadBalancer.hosts)) out.loadBalancer = { ...out.loadBalancer, hosts: out.loadBalancer.hosts.map(set) };
  return out;
}

interface Options {
  readonly variants: readonly Variant[];
  readonly keep: boolean;
  readonly verbose: boolean;
}

const USAGE = `usage: npm run validate [-- [--variant NAME]... [--config FILE [--os rhel|debian]] [--keep] [--verbose]]
  --variant NAME  only this variant (repeatable): ${VARIANTS.map((v) => v.name).join(', ')}
  --config FILE   check your own topology (YAML or JSON) instead of the built-in variants
  --os FAMILY     with --config: every host as rhel or debian (repeatable; default: the file as written)
  --keep          keep the synthesized output (its directory is printed)
  --verbose       print each passing check's detail too
Missing tools: bash validate/install-tools.sh (Debian packages nginx, libnginx-mod-stream, keepalived, iptables, shellcheck, conntrackd).`;

/**
 * Reads the flags with node:util's parseArgs (strict); arguments it refuses are read again without
 * strict to say which one was wrong in this command's words. As before: `--variant=NAME` is the
 * only inline form, a flag's value is the next argument whatever it looks like, and --help wins
 * only over what comes after it.
 */
function parseOptions(argv: readonly string[]): Options | string {
  const options: ParseArgsConfig['options'] = {
    variant: { type: 'string', multiple: true },
    config: { type: 'string' },
    os: { type: 'string', multiple: true },
    keep: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  };
  const tokens = argumentTokens(argv, options);

  const names: string[] = [];
  const families: Array<'rhel' | 'debian'> = [];
  let configPath: string | undefined;
  let keep = false;
  let verbose = false;
  for (const token of tokens) {
    const arg = argv[token.index];
    // One word per flag as typed: `-vh` is not -v and -h, and only --variant takes `=`.
    const oneWord = token.kind === 'option' && (token.inlineValue ? token.rawName === '--variant' : token.rawName === arg);
    if (token.kind !== 'option' || !oneWord || !Object.hasOwn(options, token.name)) return `unknown argument: ${arg}`;
    if (options[token.name]?.type === 'string' && token.value === undefined) return `unknown argument: ${arg}`;
    switch (token.name) {
      case 'keep': keep = true; break;
      case 'verbose': verbose = true; break;
      case 'variant': names.push(token.value!); break;
      case 'config': configPath = token.value; break;
      case 'os': {
        const family = token.value;
        if (family !== 'rhel' && family !== 'debian') return `--os: got ${JSON.stringify(family)}, expected rhel or debian`;
        families.push(family);
        break;
      }
      case 'help': return 'help';
    }
  }
  if (configPath !== undefined) {
    if (names.length > 0) return '--variant: got a variant with --config, expected one or the other';
    if (!existsSync(configPath)) return `--config: got ${JSON.stringify(configPath)} (no such file), expected a YAML or JSON file`;
    const absolute = resolve(configPath);
    const variants = families.length > 0 ? families.map((f) => userVariant(absolute, f)) : [userVariant(absolute)];
    return { variants, keep, verbose };
  }
  if (families.length > 0) return '--os: got a family without --config, expected --config FILE too';
  const unknown = names.filter((n) => !VARIANTS.some((v) => v.name === n));
  if (unknown.length > 0) return `unknown variant: ${unknown.join(', ')}`;
  return { variants: names.length > 0 ? VARIANTS.filter((v) => names.includes(v.name)) : VARIANTS, keep, verbose };
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? '';
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function printTable(rows: readonly Row[], verbose: boolean): void {
  const header = { variant: 'variant', artifact: 'artifact', tool: 'tool', result: 'result' };
  const cells = rows.map((r) => ({
    variant: r.variant,
    artifact: r.artifact,
    tool: r.result.tool,
    result: r.result.ok ? (verbose ? `pass: ${firstLine(r.result.detail)}` : 'pass') : `FAIL: ${clip(firstLine(r.result.detail), 160)}`,
  }));
  const width = (key: keyof typeof header) => Math.max(header[key].length, ...cells.map((c) => c[key].length));
  const widths = { variant: width('variant'), artifact: width('artifact'), tool: width('tool') };
  const line = (c: typeof header) => `${c.variant.padEnd(widths.variant)}  ${c.artifact.padEnd(widths.artifact)}  ${c.tool.padEnd(widths.tool)}  ${c.result}`;
  console.log(line(header));
  console.log(line({ variant: '-'.repeat(widths.variant), artifact: '-'.repeat(widths.artifact), tool: '-'.repeat(widths.tool), result: '------' }));
  for (const c of cells) console.log(line(c));
}

function main(argv: readonly string[]): number {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (typeof options === 'string') {
    console.error(`error: ${options}\n${USAGE}`);
    return 2;
  }
  const started = process.hrtime.bigint();
  const work = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-validate-'));
  const rows: Row[] = [];
  try {
    process.stderr.write(`validating ${STATIC_SHELL} shell files `);
    validateShellFiles(rows, (row) => process.stderr.write(row.result.ok ? '.' : 'F'));
    process.stderr.write('\n');
    for (const variant of options.variants) {
      const dir = join(work, variant.name.replace(/\//g, '-'));
      mkdirSync(dir, { recursive: true });
      process.stderr.write(`validating ${variant.name} `);
      validateVariant(variant, dir, rows, (row) => process.stderr.write(row.result.ok ? '.' : 'F'));
      process.stderr.write('\n');
    }
  } finally {
    if (options.keep) console.log(`synthesized output kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  console.log('');
  printTable(rows, options.verbose);
  const failed = rows.filter((r) => !r.result.ok);
  if (failed.length > 0) {
    console.log('\nFailures in detail:');
    for (const r of failed) {
      console.log(`\n== ${r.variant}  ${r.artifact}  [${r.result.tool}]`);
      console.log(r.result.detail.split('\n').map((l) => `   ${l}`).join('\n'));
    }
  }
  const byKind = new Map<string, number>();
  for (const r of rows) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.seconds);
  const total = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`\ntime: ${[...byKind].map(([kind, s]) => `${kind} ${s.toFixed(1)} s`).join(', ')}; total ${total.toFixed(1)} s`);
  console.log(`validate: ${rows.length - failed.length} passed, ${failed.length} failed`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
