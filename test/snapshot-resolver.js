const path = require('node:path');

const root = path.resolve(__dirname, '..');
const snapshots = path.join(root, '__snapshots__');

/** test/foo.test.ts <-> __snapshots__/foo.test.ts.snap */
module.exports = {
  resolveSnapshotPath: (testPath, extension) => path.join(snapshots, path.relative(path.join(root, 'test'), testPath) + extension),
  resolveTestPath: (snapshotPath, extension) => path.join(root, 'test', path.relative(snapshots, snapshotPath).slice(0, -extension.length)),
  testPathForConsistencyCheck: path.join(root, 'test', 'example.test.ts'),
};
