// Preloaded (NODE_OPTIONS=--require) into a benchmarked process by bench/main.ts, in runs that
// are not timed: reports the process's peak RSS on exit, on stderr.
'use strict';
process.on('exit', () => {
  process.stderr.write(`\nBENCH_RSS ${JSON.stringify({ pid: process.pid, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
});
