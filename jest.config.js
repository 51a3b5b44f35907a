/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Snapshots live in the top-level __snapshots__/ so that pull requests show them in one place.
  snapshotResolver: '<rootDir>/test/snapshot-resolver.js',
  setupFilesAfterEnv: ['<rootDir>/test/setup-cdktf.ts'],
  // The synth bundle is built once, before any test spawns it (test/synth-program.ts), and the
  // tests get a temp dir of their own.
  globalSetup: '<rootDir>/test/global-setup.js',
  // Fails the run when a test left something in the temp dir.
  globalTeardown: '<rootDir>/test/global-teardown.js',
  // Two suites at a time: most of the slow ones wait on processes they spawn (synth, terraform,
  // bash), so a second suite uses the other core. (jest's default on two cores is one.)
  maxWorkers: 2,
  testTimeout: 120000,
};
