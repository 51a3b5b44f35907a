import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { drawWithGraphviz } from './graphviz-worker';

/**
 * Renders a DOT graph to SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no native
 * dependency, no network, and the same bytes for the same graph (Graphviz's layout is
 * deterministic).
 *
 * Loading and running Graphviz costs about 0.3-0.5 s, as much as the rest of a synth, so a
 * rendered picture is kept in the user's cache directory (`$XDG_CACHE_HOME` or ~/.cache,
 * `k8s-ha-edge/diagrams/`), keyed by the graph and the Graphviz build: a synth of a topology
 * whose picture was drawn before reads it back instead. The cache only ever holds what this
 * function would render; a missing or unwritable cache just means rendering again.
 */
export async function renderSvg(dot: string): Promise<string> {
  const version = vizVersion();
  const key = createHash('sha256').update(`${version}\0${dot}`).digest('hex');
  const dir = cacheDir();
  const cached = join(dir, `${key}.svg`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not drawn yet: render below.
  }
  // Loaded only on a cache miss (Graphviz is a 1.2 MB module), on a thread of its own.
  const svg = await drawWithGraphviz(dot);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, svg);
    renameSync(tmp, cached);
  } catch {
    // A read-only home is fine: the next synth renders again.
  }
  return svg;
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'k8s-ha-edge', 'diagrams');
}

/**
 * The Graphviz build that draws the picture: another one may lay out differently, so it is part
 * of the cache key. Written here (reading it from the module would load Graphviz on every synth);
 * test/diagram.test.ts fails when the installed @viz-js/viz carries another Graphviz.
 */
export const GRAPHVIZ_VERSION = '16.1.0';

function vizVersion(): string {
  return GRAPHVIZ_VERSION;
}
