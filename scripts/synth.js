// @ts-check
/**
 * npm run synth: runs main.ts from the pre-built bundle (scripts/build-synth.js), in this process.
 *
 * - The bundle is rebuilt first whenever it is missing or stale: any of the project's source
 *   files changed in content, a file appeared or vanished next to one (an import could resolve
 *   elsewhere), an installed library changed, or the build configuration did. So an edit to a
 *   .ts file is always in the next synth, as with `tsx main.ts`. Checking costs ~1-2 ms.
 * - The bundle is compiled with V8's code cache (build/synth/synth.<setup>.cache), written after
 *   the first successful run and rewritten whenever V8 rejects it.
 *
 * Arguments and exit codes are main.ts's.
 */
'use strict';
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join, resolve } = require('node:path');
const { Script } = require('node:vm');

const REPO = resolve(__dirname, '..');
const BUNDLE = join(REPO, 'build', 'synth', 'synth.js');
const MANIFEST = join(REPO, 'build', 'synth', 'inputs.json');
/**
 * V8 rejects a code cache made by another node binary or under other V8 flags; one cache per
 * such setup keeps two setups (the CLIs, a profiler, NODE_OPTIONS) from rewriting each other's.
 */
const CACHE = join(dirname(BUNDLE), `synth.${createHash('sha1')
  .update([process.version, process.arch, process.execPath, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0'))
  .digest('hex').slice(0, 12)}.cache`);
/** Must match scripts/build-synth.js. */
const FORMAT = 1;

/**
 * Why the bundle must be rebuilt, or undefined when it is up to date.
 * @returns {string | undefined}
 */
function staleness() {
  /** @type {{ format: number, resolvable: string, sources: Record<string, string>, dirs: Record<string, string[]>, libraries: Record<string, [number, number]> }} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    statSync(BUNDLE);
  } catch {
    return 'not built yet';
  }
  if (manifest.format !== FORMAT) return 'built by another version of scripts/build-synth.js';
  for (const [path, hash] of Object.entries(manifest.sources)) {
    let content;
    try {
      content = readFileSync(join(REPO, path));
    } catch {
      return `${path} is gone`;
    }
    if (createHash('sha1').update(content).digest('hex') !== hash) return `${path} changed`;
  }
  const resolvable = new RegExp(manifest.resolvable);
  for (const [dir, names] of Object.entries(manifest.dirs)) {
    let now;
    try {
      now = readdirSync(join(REPO, dir)).filter((name) => resolvable.test(name)).sort();
    } catch {
      return `${dir}/ is gone`;
    }
    if (now.join('\n') !== names.join('\n')) return `files were added to or removed from ${dir}/`;
  }
  for (const [path, [size, mtimeMs]] of Object.entries(manifest.libraries)) {
    const s = statSync(join(REPO, path), { throwIfNoEntry: false });
    if (!s || s.size !== size || s.mtimeMs !== mtimeMs) return `${path} changed`;
  }
  return undefined;
}

/** Runs the bundle as a CommonJS module, compiled from V8's code cache when there is a valid one. */
function runBundle() {
  // The bundle is ASCII (esbuild charset=ascii): latin1 decodes it faster than utf8, to the same string.
  const source = readFileSync(BUNDLE, 'latin1');
  /** @type {Buffer | undefined} */
  let cachedData;
  try {
    cachedData = readFileSync(CACHE);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  bundle.paths = /** @type {any} */ (Module)._nodeModulePaths(dirname(BUNDLE));
  const bundleRequire = Module.createRequire(BUNDLE);
  script.runInThisContext().call(bundle.exports, bundle.exports, bundleRequire, bundle, BUNDLE, dirname(BUNDLE));
  bundle.loaded = true;

  // main.ts runs synchronously: every function a synth needs is compiled by now, so the
  // cache written here spares the next run compiling them.
  if ((!cachedData || script.cachedDataRejected) && !process.exitCode) {
    try {
      const tmp = `${CACHE}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, CACHE);
    } catch {
      // A read-only checkout still synthesizes, only without the cache.
    }
  }
}

const reason = staleness();
if (reason) {
  process.stderr.write(`building build/synth/synth.js (${reason})\n`);
  require('./build-synth').buildSynth().then(runBundle, (/** @type {Error} */ error) => {
    // esbuild has printed the errors (a syntax error in a .ts file, say); never run the old bundle.
    console.error(`synth not run: building the bundle failed: ${error.message}`);
    process.exitCode = 1;
  });
} else {
  runBundle();
}
