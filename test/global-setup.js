// @ts-check
/**
 * Before any test:
 * - the synth bundle (build/synth/synth.js) is up to date, so the tests that spawn `npm run
 *   synth`'s program (test/synth-program.ts) never see it rebuilt, and never rebuild it at the
 *   same time. `--help` builds it when stale and synthesizes nothing.
 * - the tests get a temp dir of their own (TMPDIR, which os.tmpdir(), mktemp and the tools the
 *   tests spawn all follow; jest's workers inherit it), so that test/global-teardown.js can tell
 *   what they left behind from what other programs on the machine put in the system temp dir.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'synth.js'), '--help'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`building the synth bundle failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  const testTmp = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-jest-'));
  process.env.K8S_HA_EDGE_TEST_TMPDIR = testTmp;
  process.env.TMPDIR = testTmp;
};
