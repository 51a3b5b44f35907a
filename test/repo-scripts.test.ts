import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(__dirname, '..');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
// CI installs shellcheck (validate/install-tools.sh); elsewhere the test is skipped when it is missing.
const maybe = hasShellcheck || process.env.CI === 'true' ? test : test.skip;

maybe('the repository\'s own scripts pass shellcheck (warnings and above)', () => {
  const scripts = ['.ci/run', 'lab/hosts.sh', 'lab/hosts-selftest.sh', 'validate/install-tools.sh'].map((s) => join(repo, s));
  const run = spawnSync('shellcheck', ['-S', 'warning', '-s', 'bash', ...scripts], { encoding: 'utf8' });
  expect(run.stdout).toBe('');
  expect(run.status).toBe(0);
});
