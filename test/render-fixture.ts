import { join } from 'node:path';
import { synthWorkloadManifest } from '../constructs/k8s/workload-app';
import { Bundle } from '../lib/plan/bundle';
import { SynthPlan } from '../lib/plan/synth-plan';
import { planSynth } from '../lib/site-plan';
import { formatWarning, loadTopology, LoadTopologyOptions, Topology, topologyWarnings } from '../lib/topology';

/**
 * What a synth of the default topology prints on stderr: its warnings (today none), and nothing else.
 */
export const DEFAULT_SYNTH_STDERR = topologyWarnings(loadTopology()).map((w) => `${formatWarning(w)}\n`).join('');

export const CUSTOM_CONFIG = join(__dirname, '..', 'examples', 'custom-three-workers.yaml');
/** The default site with a gateway pair instead of one gateway. */
export const GATEWAY_PAIR_CONFIG = join(__dirname, '..', 'examples', 'gateway-pair.yaml');

/** A topology and its synth plan, as synth computes them (in memory: nothing is written). */
export function renderFixture(options: LoadTopologyOptions = {}): { topology: Topology; plan: SynthPlan; bundles: readonly Bundle[] } {
  const topology = loadTopology(options);
  const plan = planSynth(topology, synthWorkloadManifest(topology));
  return { topology, plan, bundles: plan.bundles };
}

export function fileOf(bundles: readonly Bundle[], bundleId: string, name: string): string {
  const bundle = bundles.find((b) => b.id === bundleId);
  const file = bundle?.files.find((f) => f.name === name);
  if (!file) throw new Error(`no ${name} in bundle ${bundleId}`);
  return file.content;
}

/** One word of a parameter header, as bash reads it: bare characters, '…' and \' concatenated. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The parameter header of a generated script (`readonly NAME=value` or `readonly NAME=(a b)`): each value as bash sees it. */
export function paramsOf(script: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const m of script.matchAll(/^readonly ([A-Z][A-Z0-9_]*)=(?:\((.*)\)|(.*))$/gm)) {
    params[m[1]] = m[2] !== undefined ? shellWords(m[2]) : shellWords(m[3]).join(' ');
  }
  return params;
}
