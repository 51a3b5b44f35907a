import { PlannedFile } from '../plan/synth-plan';
import { Topology } from '../topology';
import { renderSvg } from './render-svg';
import { topologyDot } from './topology-dot';

export { topologyDot } from './topology-dot';

/**
 * Graphviz sizes every box by Verdana's metrics (topology-dot.ts) and writes only that name into
 * the SVG. A viewer without Verdana would fall back to its default font, often a serif one: the
 * fallbacks added here are sans-serif fonts no wider than Verdana (DejaVu Sans has its metrics),
 * so the text still fits its box.
 */
function withFontFallbacks(svg: string): string {
  return svg.replace(/font-family="Verdana"/g, 'font-family="Verdana,DejaVu Sans,sans-serif"');
}

/** The picture of the site for dist/: the Graphviz source and its SVG rendering. */
export async function topologyDiagram(t: Topology): Promise<PlannedFile[]> {
  const dot = topologyDot(t);
  return [{ name: 'topology.dot', content: dot }, { name: 'topology.svg', content: withFontFallbacks(await renderSvg(dot)) }];
}
