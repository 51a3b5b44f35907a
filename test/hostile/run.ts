/**
 * npm run hostile: runs synth (the prebuilt bundle, as `npm run synth` does) on every hostile case
 * of cases.ts, two at a time, each in a copy of a working directory that holds an earlier synth's
 * output (with terraform's .terraform/ in a stack) and files of the user's own. Each run is judged:
 *
 * - good: a case to reject exits 2 naming the field or flag, with no stack trace, and every file
 *   around it byte-identical; a case to accept exits 0, passes its check, and leaves the user's
 *   files alone;
 * - crash: any other exit code, or a stack trace; hang: no exit within HANG_MS;
 * - wrong accept: exit 0 on a case to reject; wrong reject: exit 2 on a case to accept;
 * - damage: a file changed, appeared or vanished that the run had no business touching.
 *
 * Prints one line per bad case and `N passed, N failed`; exits 1 when any case is bad.
 * `npm run hostile -- FILTER` runs only the cases whose name contains FILTER.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Case, hostileCases } from './cases';

const REPO = resolve(__dirname, '..', '..');
const SYNTH = join(REPO, 'scripts', 'synth.js');
/** A synth takes ~1 s; one that has not ended after this is hung. */
const HANG_MS = 20_000;
const PARALLEL = 2;
const NOBODY = 65534;
const STACK_TRACE = /\n\s+at .*(:\d+:\d+\)?|\(native\))/;

type Verdict = 'good' | 'crash' | 'hang' | 'wrong accept' | 'wrong reject' | 'message' | 'damage' | 'check';

/** Every entry under `root` (hidden ones and symbolic links too, which are not followed) with its type, mode and content. */
function digest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const rel = path.slice(root.length + 1);
      const stat = lstatSync(path);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) out.set(rel, `link ${readlinkSync(path)}`);
      else if (stat.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        walk(path);
      } else if (stat.isFile()) {
        let hash = 'unreadable';
        try {
          hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        } catch {
          // A file the case made unreadable: its mode still shows a change.
        }
        out.set(rel, `file ${mode} ${hash}`);
      } else out.set(rel, `other ${mode}`);
    }
  };
  walk(root);
  return out;
}

/** Paths whose entry differs between two digests, leaving out those `ignore` says synth may change. */
function changed(before: Map<string, string>, after: Map<string, string>, ignore: (path: string) => boolean = () => false): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => !ignore(p) && before.get(p) !== after.get(p)).sort();
}

/** What a successful synth may replace: its two trees, the copies kept beside them, its locks and staging. */
const SYNTH_OWNED = /^(dist|cdktf\.out)(\/|$)|^\.(dist|cdktf\.out)\.(previous|lock|staging-\d+-[^/]+)(\/|$)/;

function runSynth(args: readonly string[], cwd: string, cache: string, unprivileged: boolean): Promise<{ code: number | null; stderr: string; hung: boolean }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SYNTH, ...args], {
      cwd,
      env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '', XDG_CACHE_HOME: cache },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(unprivileged ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let stderr = '';
    let hung = false;
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr, hung });
    });
  });
}

/** The working directory every case starts from: an earlier synth's output, terraform's files, the user's files. */
function makeTemplate(base: string): string {
  const template = join(base, 'template');
  mkdirSync(template);
  const first = spawnSync(process.execPath, [SYNTH], { cwd: template, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: '', CDKTF_OUTDIR: '', XDG_CACHE_HOME: join(base, 'cache') } });
  if (first.status !== 0) throw new Error(`the baseline synth failed: ${first.stderr}`);
  const files: Record<string, string> = {
    'notes.txt': 'the user\'s notes\n',
    'mine/important.txt': 'keep me\n',
    'state/master.tfstate': '{"version": 4}\n',
    'cdktf.out/stacks/master/.terraform/providers/p': 'provider binary\n',
    'cdktf.out/stacks/master/.terraform.lock.hcl': 'provider lock\n',
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(template, name, '..'), { recursive: true });
    writeFileSync(join(template, name), content);
  }
  return template;
}

async function judge(c: Case, index: number, base: string, template: string): Promise<{ verdict: Verdict; detail: string }> {
  const cwd = join(base, `case-${index}`);
  const cache = join(base, `cache-${index}`);
  spawnSync('cp', ['-a', template, cwd]);
  mkdirSync(cache, { recursive: true });
  if (c.unprivileged) chmodSync(cache, 0o777);
  let args = [...c.args];
  if (c.config !== undefined) {
    const path = join(cwd, `site.${c.config.ext}`);
    writeFileSync(path, c.config.text);
    args = args.map((a) => (a === '{config}' ? path : a));
  }
  c.setup?.(cwd, cache);
  const before = digest(cwd);
  const run = await runSynth(args, cwd, cache, c.unprivileged === true && process.getuid?.() === 0);
  const after = digest(cwd);
  const firstLine = run.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  if (run.hung) return { verdict: 'hang', detail: `no exit after ${HANG_MS / 1000} s` };
  if (STACK_TRACE.test(run.stderr) || (run.code !== 0 && run.code !== 2)) return { verdict: 'crash', detail: `exit ${run.code}: ${run.stderr.slice(0, 400)}` };
  if (c.expect === 'reject') {
    if (run.code === 0) return { verdict: 'wrong accept', detail: 'exit 0' };
    const damage = changed(before, after);
    if (damage.length > 0) return { verdict: 'damage', detail: damage.slice(0, 5).join(', ') };
    if (c.names !== undefined && !run.stderr.includes(c.names)) return { verdict: 'message', detail: `expected it to name ${JSON.stringify(c.names)}: ${firstLine}` };
    return { verdict: 'good', detail: firstLine };
  }
  if (run.code !== 0) return { verdict: 'wrong reject', detail: firstLine };
  const damage = changed(before, after, (p) => SYNTH_OWNED.test(p));
  if (damage.length > 0) return { verdict: 'damage', detail: damage.slice(0, 5).join(', ') };
  const problem = c.check?.(cwd);
  if (problem !== undefined) return { verdict: 'check', detail: problem };
  return { verdict: 'good', detail: '' };
}

async function main(): Promise<number> {
  const filter = process.argv[2];
  const cases = hostileCases().filter((c) => filter === undefined || c.name.includes(filter));
  const base = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-hostile-'));
  // Cases run as nobody must be able to enter their working directory.
  chmodSync(base, 0o755);
  const started = Date.now();
  try {
    const template = makeTemplate(base);
    chmodSync(template, 0o755);
    const results: Array<{ c: Case; verdict: Verdict; detail: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const index = next++;
        const c = cases[index];
        const { verdict, detail } = await judge(c, index, base, template);
        results.push({ c, verdict, detail });
        if (verdict !== 'good') console.log(`BAD ${verdict}: ${c.name}: ${detail}`);
        // Each working directory is a full output tree: remove it once judged (made writable first, as a case may have locked it).
        spawnSync('chmod', ['-R', 'u+rwX', join(base, `case-${index}`)]);
        rmSync(join(base, `case-${index}`), { recursive: true, force: true });
        rmSync(join(base, `cache-${index}`), { recursive: true, force: true });
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
    const failed = results.length - count('good');
    console.log(`${cases.length} cases (${cases.filter((c) => c.expect === 'reject').length} to reject, ${cases.filter((c) => c.expect === 'accept').length} to accept) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(`crashes ${count('crash')}, hangs ${count('hang')}, wrong accepts ${count('wrong accept')}, wrong rejects ${count('wrong reject')}, `
      + `damaged ${count('damage')}, messages not naming the field ${count('message')}, failed checks ${count('check')}`);
    console.log(`${results.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    spawnSync('chmod', ['-R', 'u+rwX', base]);
    rmSync(base, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (error) => {
  console.error(error);
  process.exitCode = 1;
});
