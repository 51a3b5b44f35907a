/**
 * Runs main.ts in this very process and reports the process's peak RSS on exit,
 * so the benchmark measures the synth itself and not a wrapper.
 */
process.on('exit', () => {
  process.stderr.write(`\nBENCH ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
});
require('../main');
