import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { scratchDir } from './support/scratch';
import { join } from 'node:path';
import { topologyDiagram, topologyDot } from '../lib/diagram';
import { MAX_DRAWN_WORKERS } from '../lib/diagram/topology-dot';
import { GRAPHVIZ_VERSION, isGraphvizSvg, renderSvg } from '../lib/diagram/render-svg';
import { loadTopology } from '../lib/topology';
import { CUSTOM_CONFIG } from './render-fixture';
import { SYNTH_PROGRAM } from './synth-program';

/** The text a person sees in an SVG: every <text> element's content, entities decoded. */
function svgTexts(svg: string): string[] {
  const decode = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#45;/g, '-').replace(/&#160;/g, ' ').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]));
}

/** The lines Graphviz drew (invisible ones are not in the SVG): ends by node id, and their labels. */
function svgEdges(svg: string): Array<{ from: string; to: string; labels: string[] }> {
  return [...svg.matchAll(/<g id="edge\d+" class="edge">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g)].map((m) => {
    const [from, to] = m[1].replace(/&#45;/g, '-').replace(/&gt;/g, '>').split('->');
    return { from, to, labels: svgTexts(m[2]) };
  });
}

/** The README shows an image at most this wide (GitHub's content column). */
const README_WIDTH_PX = 830;

/**
 * How the picture looks in the README: its width over its height, and the smallest text in pixels
 * when shown at its own size (1 pt = 4/3 px) or shrunk to README_WIDTH_PX, whichever is smaller.
 */
function atReadmeWidth(svg: string): { aspect: number; smallestTextPx: number } {
  const size = svg.match(/<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"/);
  if (!size) throw new Error('no size on the <svg> element');
  const [widthPt, heightPt, viewBoxWidth] = size.slice(1).map(Number);
  const shownPx = Math.min(README_WIDTH_PX, (widthPt * 4) / 3);
  const smallest = Math.min(...[...svg.matchAll(/<text\b[^>]*font-size="([\d.]+)"/g)].map((m) => Number(m[1])));
  return { aspect: widthPt / heightPt, smallestTextPx: (smallest * shownPx) / viewBoxWidth };
}

describe('GIVEN the custom topology WHEN its picture is drawn', () => {
  const t = loadTopology({ configPath: CUSTOM_CONFIG });
  let texts: string[] = [];
  let svg = '';
  beforeAll(async () => {
    const files = await topologyDiagram(t);
    expect(files.map((f) => f.name)).toEqual(['topology.dot', 'topology.svg']);
    svg = files[1].content;
    texts = svgTexts(svg);
  });

  test('THEN it is an SVG document', () => {
    expect(svg).toMatch(/^<\?xml[^>]*>\s*<!DOCTYPE svg/);
    expect(svg).toMatch(/<\/svg>\s*$/);
  });

  test('THEN every host appears with its name and every address', () => {
    const all = texts.join('\n');
    const hosts = [t.controlPlane, ...t.workers, ...t.loadBalancer.hosts, t.client];
    for (const host of hosts) {
      expect(texts).toContain(host.name);
      expect(all).toContain(host.address);
    }
    expect(texts).toContain(t.gateway.hosts[0].name);
    expect(all).toContain(`${t.gateway.outside.interface} ${t.gateway.outside.address}`);
    expect(all).toContain(`${t.gateway.inside.interface} ${t.gateway.inside.address}`);
  });

  test('THEN it shows the VIP on the MASTER, and both NAT rules', () => {
    const lb = t.loadBalancer;
    expect(texts).toContain(`VIP ${lb.vip}`);
    expect(texts).toContain(`on ${lb.master.name} (MASTER)`);
    expect(texts).toContain(`DNAT ${t.gateway.outside.address}:${lb.listenPort} → ${lb.vip}:${lb.listenPort}`);
    expect(texts).toContain(`SNAT ${t.networks.internal} → ${t.gateway.outside.address}`);
    for (const w of t.workers) expect(texts).toContain(`Pod ${t.workload.name}-${w.name}`);
  });

  test('THEN no address of the default topology leaks into it', () => {
    expect(svg).not.toContain('192.168.10.');
    expect(svg).not.toContain('12.0.0.1');
  });
});

describe.each([
  ['the default topology', undefined],
  ['examples/topology.example.yaml', join(__dirname, '..', 'examples', 'topology.example.yaml')],
  ['examples/custom-three-workers.yaml', join(__dirname, '..', 'examples', 'custom-three-workers.yaml')],
])('GIVEN %s WHEN its picture is shown in the README column', (_name, configPath) => {
  const t = loadTopology({ configPath });
  let svg = '';
  beforeAll(async () => {
    svg = (await topologyDiagram(t))[1].content;
  });

  test('THEN it is about as tall as wide, and its smallest text is still 11 px or more', () => {
    const { aspect, smallestTextPx } = atReadmeWidth(svg);
    expect(aspect).toBeLessThanOrEqual(1.5);
    expect(smallestTextPx).toBeGreaterThanOrEqual(11);
  });

  test('THEN one line goes from each load balancer to the workers (not one per worker, whose labels sat on crossings)', () => {
    for (const h of t.loadBalancer.hosts) {
      const toWorkers = svgEdges(svg).filter((e) => e.from === `host:${h.name}` && e.to !== `host:${t.controlPlane.name}`);
      expect(toWorkers).toHaveLength(1);
      expect(toWorkers[0].labels).toEqual([`:${t.workload.nodePort}`]);
    }
  });

  test('THEN the API is reached through the VIP: its line comes from the load balancer holding the VIP, none from the workers', () => {
    const toApi = svgEdges(svg).filter((e) => e.to === `host:${t.controlPlane.name}`);
    expect(toApi).toEqual([{ from: `host:${t.loadBalancer.master.name}`, to: `host:${t.controlPlane.name}`, labels: [`API :${t.kubernetes.apiServerPort}`] }]);
    expect(svgTexts(svg)).toContain(`port ${t.loadBalancer.listenPort}, API :${t.kubernetes.apiServerPort}`);
  });

  test('THEN every line has a label, and a legend says what each line style means', () => {
    const edges = svgEdges(svg);
    for (const e of edges) expect(e.labels).not.toEqual([]);
    expect(edges.find((e) => e.to === `host:${t.controlPlane.name}`)?.labels).toEqual([`API :${t.kubernetes.apiServerPort}`]);
    const texts = svgTexts(svg);
    expect(texts).toContain('legend');
    expect(texts).toContain('traffic while the MASTER holds the VIP');
    expect(texts).toContain('traffic after a failover to a BACKUP');
    expect(texts).toContain(`the API :${t.kubernetes.apiServerPort}, reached through the VIP`);
  });

  test('THEN the label of each network is no wider than the box around the network', () => {
    // A left-to-right layout did not widen the external network's box to its label (the label
    // was cut). The label's width is estimated from the SVG: its characters times its font size
    // times 0.53 em, about what Graphviz reckons for Verdana's digits and lower case.
    for (const network of ['external', 'internal'] as const) {
      const text = `${network} network ${t.networks[network]}`;
      const cluster = svg.match(new RegExp(`<g id="clust\\d+" class="cluster">\\s*<title>cluster_${network}</title>\\s*<path[^>]* d="([^"]+)"[\\s\\S]*?<text[^>]*font-size="([\\d.]+)">${text.replace(/[.]/g, '\\.')}</text>`));
      expect(cluster).not.toBeNull();
      const xs = [...cluster![1].matchAll(/(-?[\d.]+),-?[\d.]+/g)].map((m) => Number(m[1]));
      expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThanOrEqual(text.length * Number(cluster![2]) * 0.53);
    }
  });
});

describe('the default picture', () => {
  test('docs/topology.svg, which the README shows, is the one synth draws for the default topology', async () => {
    const [, svg] = await topologyDiagram(loadTopology());
    expect(readFileSync(join(__dirname, '..', 'docs', 'topology.svg'), 'utf8')).toBe(svg.content);
  });

  test('a host named like a DOT keyword or with quotes cannot break the graph source', () => {
    const dot = topologyDot(loadTopology({ overrides: { workers: [{ name: 'node', address: '192.168.10.20', page: 'say "hi" <b>\\' }] } }));
    expect(dot).toContain('"host:node"');
    expect(dot).toContain('page &quot;say &quot;hi&quot; &lt;b&gt;\\&quot;');
  });

  test('a large site stays readable: the first workers drawn, the rest one summary box', () => {
    const workers = Array.from({ length: 40 }, (_, i) => ({ name: `w${i + 1}`, address: `192.168.10.${101 + i}` }));
    const dot = topologyDot(loadTopology({ overrides: { workers, loadBalancer: { vip: '192.168.10.99' } } }));
    const drawnWorkers = [...dot.matchAll(/^ {4}"host:w\d+" \[/gm)].length;
    expect(drawnWorkers).toBe(MAX_DRAWN_WORKERS - 1);
    expect(dot).toContain(`+ ${40 - (MAX_DRAWN_WORKERS - 1)} more workers`);
    expect(dot).toContain(`w${MAX_DRAWN_WORKERS} … w40`);
  });

  test('the Graphviz build in the cache key is the one installed', () => {
    expect((require('@viz-js/viz') as { graphvizVersion: string }).graphvizVersion).toBe(GRAPHVIZ_VERSION);
  });
});

describe('GIVEN a diagram cache entry that synth did not write', () => {
  const dot = topologyDot(loadTopology({ configPath: CUSTOM_CONFIG }));
  const saved = process.env.XDG_CACHE_HOME;
  let cache = '';
  let genuine = '';
  /** Where renderSvg keeps the picture of `dot`: the key is the Graphviz build and the graph. */
  const entry = () => join(cache, 'k8s-ha-edge', 'diagrams', `${createHash('sha256').update(`${GRAPHVIZ_VERSION}\0${dot}`).digest('hex')}.svg`);
  beforeAll(async () => {
    cache = scratchDir('k8s-ha-edge-diagram-cache-');
    process.env.XDG_CACHE_HOME = cache;
    genuine = await renderSvg(dot);
    expect(existsSync(entry())).toBe(true);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });

  test('THEN the genuine picture passes the check that tampered ones fail', () => {
    expect(isGraphvizSvg(genuine)).toBe(true);
  });

  // Beside the cache, in the same scratch directory (removed after the file's tests).
  const secret = () => join(cache, 'not-a-picture.txt');
  const tampered: ReadonlyArray<readonly [string, () => void]> = [
    ['an SVG with a <script>', () => writeFileSync(entry(), genuine.replace('</svg>', '<script>alert(1)</script></svg>'))],
    ['an SVG with an event handler', () => writeFileSync(entry(), genuine.replace('<g id="graph0"', '<g onload="alert(1)" id="graph0"'))],
    ['a symbolic link to another readable file', () => {
      writeFileSync(secret(), 'not for dist/\n');
      rmSync(entry());
      symlinkSync(secret(), entry());
    }],
    ['junk', () => writeFileSync(entry(), '\0\x01junk')],
    ['a directory', () => {
      rmSync(entry());
      mkdirSync(entry());
    }],
  ];
  test.each(tampered)('WHEN it is %s THEN the picture is drawn again, and the entry replaced by the genuine one (a directory stays)', async (name, tamper) => {
    tamper();
    expect(await renderSvg(dot)).toBe(genuine);
    if (name !== 'a directory') expect(readFileSync(entry(), 'utf8')).toBe(genuine);
    if (existsSync(secret())) expect(readFileSync(secret(), 'utf8')).toBe('not for dist/\n');
  });
});

describe('GIVEN a control character that reaches the picture', () => {
  test('WHEN the graph is drawn THEN Graphviz gets a printable label (a NUL was a syntax error)', async () => {
    const t = loadTopology();
    const withNul = { ...t, workers: [{ ...t.workers[0], page: 'a\0b\x1b' }, ...t.workers.slice(1)] } as typeof t;
    const dot = topologyDot(withNul);
    expect(dot).not.toMatch(/[\x00\x1b]/);
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = scratchDir('k8s-ha-edge-diagram-nul-');
    try {
      expect(isGraphvizSvg(await renderSvg(dot))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});

describe('GIVEN a diagram cache where no directory can be made (XDG_CACHE_HOME=/proc/self)', () => {
  test('WHEN synth runs THEN it draws the picture without caching it, and ends (Node\'s recursive mkdir never returned there)', () => {
    // A separate process, bounded: the old code spun forever inside one synchronous call.
    const dir = scratchDir('k8s-ha-edge-diagram-proc-');
    const run = spawnSync(SYNTH_PROGRAM[0], [...SYNTH_PROGRAM.slice(1), '--dist', join(dir, 'dist'), '--only', 'k8s'], {
      cwd: dir, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, XDG_CACHE_HOME: '/proc/self' },
    });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(isGraphvizSvg(readFileSync(join(dir, 'dist', 'topology.svg'), 'utf8'))).toBe(true);
  });
});
