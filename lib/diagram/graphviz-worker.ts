import { Worker } from 'node:worker_threads';

/**
 * The code of the thread that draws: loads Graphviz (@viz-js/viz, from the path the main thread
 * resolved) and sends back the SVG, or the error as text.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { instance } = require(workerData.viz);
instance()
  .then((viz) => ({ svg: viz.renderString(workerData.dot, { format: 'svg', engine: 'dot' }) }))
  .catch((error) => ({ error: error && error.stack ? error.stack : String(error) }))
  .then((reply) => parentPort.postMessage(reply));
`;

/**
 * Renders a DOT graph to SVG with Graphviz on a thread of its own. Loading Graphviz and laying
 * out the graph take about 0.4 s of CPU, as much as the rest of a synth: on another thread they
 * run while the main thread synthesizes the manifests and the stacks, and the picture is the same
 * bytes as when drawn on the main thread (same Graphviz, same graph).
 */
export function drawWithGraphviz(dot: string): Promise<string> {
  // Resolved here, so the worker loads the same module the main thread would (the synth bundle
  // leaves @viz-js/viz outside it: it is needed only when a picture is not in the cache).
  const viz = require.resolve('@viz-js/viz');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dot, viz } });
    worker.once('message', (reply: { svg?: string; error?: string }) => {
      if (reply.svg !== undefined) resolve(reply.svg);
      else reject(new Error(`Graphviz could not draw the picture: ${reply.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the Graphviz thread exited (code ${code}) before it drew the picture`)));
  });
}
