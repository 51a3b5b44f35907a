/** npm run apply: see ops/deploy.ts. */
import { deploy } from './deploy';

void deploy('apply', process.argv.slice(2)).then((code) => { process.exitCode = code; });
