import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '..');

/**
 * `npm run synth`'s program, as npm runs it: node on scripts/synth.js (the prebuilt bundle of
 * main.ts). The tests of the command line spawn it; test/synth-launcher.test.ts proves that it
 * writes the same bytes as `tsx main.ts`. jest's global setup (test/global-setup.js) builds the
 * bundle first, so no test sees a rebuild.
 */
export const SYNTH_PROGRAM: readonly [string, ...string[]] = [process.execPath, join(repo, 'scripts', 'synth.js')];
