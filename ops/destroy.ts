/**
 * npm run destroy: every stack's resources destroyed, dependents first (the gateway last). Each
 * host's teardown resource runs its destroy-time provisioner, which undoes what the setup installed.
 */
import { deploy } from './deploy';

void deploy('destroy', process.argv.slice(2)).then((code) => { process.exitCode = code; });
