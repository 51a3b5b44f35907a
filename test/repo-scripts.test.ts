import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(__dirname, '..');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
// CI installs shellcheck (validate/install-tools.sh); elsewhere the test is skipped when it is missing.
const maybe = hasShellcheck || process.env.CI === 'true' ? test : test.skip;

maybe('the repository\'s own scripts pass shellcheck (warnings and above)', () => {
  const scripts = [
    '.ci/run', 'lab/hosts.sh', 'lab/hosts-selftest.sh', 'validate/install-tools.sh',
    'lab/in-flight-selftest.sh', 'lab/gateway-handoff-selftest.sh', 'lab/netns-selftest.sh',
  ].map((s) => join(repo, s));
  // -x: the selftests source lab/netns-selftest.sh (found relative to the repository).
  const run = spawnSync('shellcheck', ['-x', '-S', 'warning', '-s', 'bash', ...scripts], { encoding: 'utf8', cwd: repo });
  expect(run.stdout).toBe('');
  expect(run.status).toBe(0);
});
