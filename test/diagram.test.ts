import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topologyDiagram, topologyDot } from '../lib/diagram';
import { MAX_DRAWN_WORKERS } from '../lib/diagram/topology-dot';
import { GRAPHVIZ_VERSION, isGraphvizSvg, renderSvg } from '../lib/diagram/render-svg';
import { loadTopology } from '../lib/topology';
import { CUSTOM_CONFIG } from './render-fixture';

/** The text a person sees in an SVG: every <text> element's content, entities decoded. */
function svgTexts(svg: string): string[] {
  const decode = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#45;/g, '-').replace(/&#160;/g, ' ').replace(/&amp;/g, '&');
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]));
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
    expect(texts).toContain(t.gateway.name);
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
    cache = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-diagram-cache-'));
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

  const secret = join(tmpdir(), `k8s-ha-edge-not-a-picture-${process.pid}.txt`);
  const tampered: ReadonlyArray<readonly [string, () => void]> = [
    ['an SVG with a <script>', () => writeFileSync(entry(), genuine.replace('</svg>', '<script>alert(1)</script></svg>'))],
    ['an SVG with an event handler', () => writeFileSync(entry(), genuine.replace('<g id="graph0"', '<g onload="alert(1)" id="graph0"'))],
    ['a symbolic link to another readable file', () => {
      writeFileSync(secret, 'not for dist/\n');
      rmSync(entry());
      symlinkSync(secret, entry());
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
    if (existsSync(secret)) expect(readFileSync(secret, 'utf8')).toBe('not for dist/\n');
  });
});

describe('GIVEN a control character that reaches the picture', () => {
  test('WHEN the graph is drawn THEN Graphviz gets a printable label (a NUL was a syntax error)', async () => {
    const t = loadTopology();
    const withNul = { ...t, workers: [{ ...t.workers[0], page: 'a\0b\x1b' }, ...t.workers.slice(1)] } as typeof t;
    const dot = topologyDot(withNul);
    expect(dot).not.toMatch(/[\x00\x1b]/);
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'k8s-ha-edge-diagram-nul-'));
    try {
      expect(isGraphvizSvg(await renderSvg(dot))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
