import { Testing } from 'cdktf';
import { removeScratchDirs } from './support/scratch';

// Registers cdktf's matchers (toHaveResourceWithProperties, toBeValidTerraform, ...).
Testing.setupJest();

// Every test file's scratch directories (test/support/scratch.ts) go when its tests are done.
afterAll(removeScratchDirs);
