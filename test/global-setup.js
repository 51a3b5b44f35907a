// @ts-check
/**
 * Before any test: the synth bundle (build/synth/synth.js) is up to date, so the tests that spawn
 * `npm run synth`'s program (test/synth-program.ts) never see it rebuilt, and never rebuild it at
 * the same time. `--help` builds it when stale and synthesizes nothing.
 */
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'synth.js'), '--help'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`building the synth bundle failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
};
