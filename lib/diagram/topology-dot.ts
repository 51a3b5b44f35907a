import { Topology } from '../topology';

/** Quotes a DOT string (ids and labels are always quoted, so any host name is safe). */
function q(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An HTML-like label: a bold title, then plain lines (every value escaped). */
function label(title: string, ...rows: string[]): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<<B>${esc(title)}</B>${rows.map((r) => `<BR/>${esc(r)}`).join('')}>`;
}

function node(id: string, title: string, rows: string[], attrs: Record<string, string> = {}): string {
  const extra = Object.entries(attrs).map(([k, v]) => ` ${k}=${q(v)}`).join('');
  return `    ${q(id)} [label=${label(title, ...rows)}${extra}];`;
}

function edge(from: string, to: string, text: string, attrs: Record<string, string> = {}): string {
  const extra = Object.entries(attrs).map(([k, v]) => ` ${k}=${q(v)}`).join('');
  return `  ${q(from)} -> ${q(to)} [label=${q(text)}${extra}];`;
}

/**
 * Workers drawn one by one; beyond this, the first few are drawn and the rest are one summary
 * box: a picture of 200 workers is a hairball, and Graphviz takes minutes to lay it out.
 */
export const MAX_DRAWN_WORKERS = 6;

/**
 * The site as a Graphviz graph, left to right in the order traffic flows: the client on the
 * external network, the gateway between the networks (with its DNAT and SNAT), the VIP and the
 * load balancers (MASTER first), then the workers with their Pods and pages, and the control
 * plane. Everything comes from the Topology; ids are prefixed so that no host name can clash
 * with another node's id.
 */
export function topologyDot(t: Topology): string {
  const lb = t.loadBalancer;
  const g = t.gateway;
  const port = lb.listenPort;
  const nodePort = t.workload.nodePort;
  const vip = 'vip';
  const lbOrder = [lb.master, ...lb.backups];
  const drawn = t.workers.length > MAX_DRAWN_WORKERS ? t.workers.slice(0, MAX_DRAWN_WORKERS - 1) : t.workers;
  const rest = t.workers.slice(drawn.length);
  // Graphviz stacks a left-to-right rank bottom-up in declaration order: reversed, the first worker is on top.
  const workersTopDown = [...drawn].reverse();
  const moreId = 'more-workers';
  const more = rest.length === 0 ? [] : [node(moreId, `+ ${rest.length} more workers`, [
    `${rest[0].name} … ${rest[rest.length - 1].name}`,
    `${rest[0].address} … ${rest[rest.length - 1].address}`,
    `NodePort ${nodePort}, one Pod each`,
  ], { fillcolor: 'honeydew', style: 'rounded,filled,dashed' })];
  // Edges go to each drawn worker, and once to the summary box.
  const targets = [...(rest.length > 0 ? [moreId] : []), ...workersTopDown.map((w) => `host:${w.name}`)];
  const out: string[] = [
    'digraph topology {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.9, labelloc=t, ordering=out,',
    `         label=${q(`k8s-ha-edge: ${t.serviceUrl} → VIP ${lb.vip}:${port} → NodePort ${nodePort}`)}];`,
    '  node [shape=box, style="rounded,filled", fillcolor="white", fontname="Helvetica", fontsize=10, margin="0.3,0.08"];',
    '  edge [fontname="Helvetica", fontsize=9];',
    `  subgraph ${q('cluster_external')} {`,
    `    label=${q(`external network ${t.networks.external}`)}; style="rounded,dashed"; color="gray40";`,
    node(`host:${t.client.name}`, t.client.name, ['client', `${t.client.interface} ${t.client.address}`]),
    '  }',
    node(`host:${g.name}`, g.name, [
      'NAT gateway',
      `outside ${g.outside.interface} ${g.outside.address}`,
      `inside ${g.inside.interface} ${g.inside.address}`,
      `DNAT ${g.outside.address}:${port} → ${lb.vip}:${port}`,
      `SNAT ${t.networks.internal} → ${g.outside.address}`,
    ], { fillcolor: 'lightyellow' }).replace(/^ {4}/, '  '),
    `  subgraph ${q('cluster_internal')} {`,
    `    label=${q(`internal network ${t.networks.internal}`)}; style="rounded,dashed"; color="gray40";`,
    node(vip, `VIP ${lb.vip}`, [`port ${port}`, `on ${lb.master.name} (MASTER)`], { shape: 'ellipse', fillcolor: 'lightblue' }),
    ...lbOrder.map((h) => node(`host:${h.name}`, h.name, [
      `load balancer, ${h.name === lb.master.name ? 'MASTER' : 'BACKUP'} priority ${h.priority}`,
      `${h.interface} ${h.address}`,
      `nginx stream :${port}, keepalived`,
    ])),
    ...workersTopDown.map((w) => node(`host:${w.name}`, w.name, [
      `worker ${w.interface} ${w.address}`,
      `NodePort ${nodePort}`,
      `Pod ${t.workload.name}-${w.name}`,
      `page "${w.page.length > 24 ? `${w.page.slice(0, 23)}…` : w.page}"`,
    ], { fillcolor: 'honeydew' })),
    ...more,
    node(`host:${t.controlPlane.name}`, t.controlPlane.name, [
      'control plane',
      `${t.controlPlane.interface} ${t.controlPlane.address}`,
      `API :${t.kubernetes.apiServerPort}`,
    ], { fillcolor: 'whitesmoke' }),
    '  }',
    edge(`host:${t.client.name}`, `host:${g.name}`, `http :${port}`),
    edge(`host:${g.name}`, vip, 'DNAT'),
    ...lbOrder.map((h) => edge(vip, `host:${h.name}`, h.name === lb.master.name ? 'holds' : 'on failover',
      h.name === lb.master.name ? {} : { style: 'dashed' })),
    ...lbOrder.flatMap((h) => targets.map((target) => edge(`host:${h.name}`, target, h.name === lb.master.name ? `:${nodePort}` : '',
      h.name === lb.master.name ? {} : { style: 'dashed', color: 'gray50' }))),
    ...targets.map((target) => edge(`host:${t.controlPlane.name}`, target, '', { style: 'dotted', arrowhead: 'none', color: 'gray50' })),
    '}',
  ];
  return `${out.join('\n')}\n`;
}
