// @ts-check
/**
 * After every test: the temp dir test/global-setup.js gave the tests must hold nothing but the
 * caches of tools they ran. Anything else was left behind by a test (a test removes what it makes:
 * test/support/scratch.ts), and fails the run, named. The temp dir is then removed either way.
 */
const { readdirSync, rmSync } = require('node:fs');

/** Caches that tools keep in the temp dir on purpose and reuse from run to run: tsx's compile cache. */
const TOOL_CACHES = /^tsx-\d+$/;

module.exports = async () => {
  const testTmp = process.env.K8S_HA_EDGE_TEST_TMPDIR;
  if (!testTmp) return;
  const left = readdirSync(testTmp).filter((name) => !TOOL_CACHES.test(name)).sort();
  rmSync(testTmp, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(`the tests left ${left.length} entries in the temp dir (${testTmp}, now removed); a test removes what it makes (test/support/scratch.ts):\n  ${left.join('\n  ')}`);
  }
};
