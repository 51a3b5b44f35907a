/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Snapshots live in the top-level __snapshots__/ so that pull requests show them in one place.
  snapshotResolver: '<rootDir>/test/snapshot-resolver.js',
  setupFilesAfterEnv: ['<rootDir>/test/setup-cdktf.ts'],
  testTimeout: 120000,
};
