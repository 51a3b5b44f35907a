import { PlannedFile } from '../plan/synth-plan';
import { Topology } from '../topology';
import { renderSvg } from './render-svg';
import { topologyDot } from './topology-dot';

export { topologyDot } from './topology-dot';

/** The picture of the site for dist/: the Graphviz source and its SVG rendering. */
export async function topologyDiagram(t: Topology): Promise<PlannedFile[]> {
  const dot = topologyDot(t);
  return [{ name: 'topology.dot', content: dot }, { name: 'topology.svg', content: await renderSvg(dot) }];
}
