import { Topology } from '../topology';

/**
 * Control characters (NUL above all) end Graphviz's scanner with a syntax error; the validation
 * refuses them in pages, and the picture shows any that reach it as U+FFFD instead of failing.
 */
function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '\uFFFD');
}

/** Quotes a DOT string (ids and labels are always quoted, so any host name is safe). */
function q(text: string): string {
  return `"${printable(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An HTML-like label: a bold title, then plain lines (every value escaped). */
function label(title: string, ...rows: string[]): string {
  const esc = (t: string) => printable(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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

/** Worker boxes side by side in one row; more wrap onto the next row, so the picture stays narrow. */
export const WORKERS_PER_ROW = 3;

/**
 * The site as a Graphviz graph, top to bottom in the order traffic flows: the client on the
 * external network, the gateway between the networks (with its DNAT and SNAT), the VIP and the
 * load balancers (MASTER first), the workers with their Pods and pages, and under them the
 * control plane; a legend says what each line style means. Drawn top to bottom because the
 * README column is about 830 px wide: a left-to-right chain of seven boxes is four times wider
 * than tall and its text shrinks to 6 px there. Everything comes from the Topology; ids are
 * prefixed so that no host name can clash with another node's id.
 */
export function topologyDot(t: Topology): string {
  const lb = t.loadBalancer;
  const port = lb.listenPort;
  const nodePort = t.workload.nodePort;
  const vip = 'vip';
  const lbOrder = [lb.master, ...lb.backups];
  const drawn = t.workers.length > MAX_DRAWN_WORKERS ? t.workers.slice(0, MAX_DRAWN_WORKERS - 1) : t.workers;
  const rest = t.workers.slice(drawn.length);
  const moreId = 'more-workers';
  const more = rest.length === 0 ? [] : [node(moreId, `+ ${rest.length} more workers`, [
    `${rest[0].name} … ${rest[rest.length - 1].name}`,
    `${rest[0].address} … ${rest[rest.length - 1].address}`,
    `NodePort ${nodePort}, one Pod each`,
  ], { fillcolor: 'honeydew', style: 'rounded,filled,dashed' })];
  const workerIds = [...drawn.map((w) => `host:${w.name}`), ...(rest.length > 0 ? [moreId] : [])];
  // Rows of WORKERS_PER_ROW: an invisible edge from each box to the one below it puts the next row under this one.
  const wrap = workerIds.slice(WORKERS_PER_ROW).map((id, i) => `  ${q(workerIds[i])} -> ${q(id)} [style="invis"];`);
  // The load balancers and the control plane reach the workers as a group (one line to the
  // workers' box, compound=true), not one line per worker: with two load balancers and several
  // workers the crossing lines and their labels were unreadable.
  const firstRow = workerIds.slice(0, WORKERS_PER_ROW);
  const mid = firstRow[Math.floor((firstRow.length - 1) / 2)];
  const rows = Array.from({ length: Math.ceil(workerIds.length / WORKERS_PER_ROW) }, (_, r) => workerIds.slice(r * WORKERS_PER_ROW, (r + 1) * WORKERS_PER_ROW));
  // What each line style means, as a table of a sample line (drawn with dashes and dots) and its meaning.
  const legendRow = (sample: string, color: string, text: string) =>
    `<TR><TD ALIGN="LEFT"><FONT COLOR="${color}">${sample}</FONT></TD><TD ALIGN="LEFT">${text}</TD></TR>`;
  const legend = `<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">${[
    '<TR><TD COLSPAN="2" ALIGN="LEFT"><B>legend</B></TD></TR>',
    legendRow('———', 'black', 'traffic while the MASTER holds the VIP'),
    legendRow('– – –', 'gray40', 'traffic after a failover to a BACKUP'),
    legendRow('· · · ·', 'gray40', `the API :${t.kubernetes.apiServerPort}, reached through the VIP`),
    ...(t.gateway.pair ? [legendRow('· · · ·', 'gray40', 'between the gateways: conntrackd&#39;s state sync')] : []),
  ].join('')}</TABLE>>`;
  const out: string[] = [
    'digraph topology {',
    '  graph [rankdir=TB, compound=true, newrank=true, fontname="Verdana", fontsize=13, nodesep=0.3, ranksep=0.45, labelloc=t,',
    `         label=${q(`k8s-ha-edge: ${t.serviceUrl} → VIP ${lb.vip}:${port} → NodePort ${nodePort}`)}];`,
    '  node [shape=box, style="rounded,filled", fillcolor="white", fontname="Verdana", fontsize=12, margin="0.15,0.06"];',
    '  edge [fontname="Verdana", fontsize=11];',
    `  subgraph ${q('cluster_external')} {`,
    `    label=${q(`external network ${t.networks.external}`)}; style="rounded,dashed"; color="gray40"; labeljust="l";`,
    node(`host:${t.client.name}`, t.client.name, ['client', `${t.client.interface} ${t.client.address}`]),
    '  }',
    ...gatewayNodes(t).map((line) => line.replace(/^ {4}/, '  ')),
    `  subgraph ${q('cluster_internal')} {`,
    `    label=${q(`internal network ${t.networks.internal}`)}; style="rounded,dashed"; color="gray40"; labeljust="l";`,
    node(vip, `VIP ${lb.vip}`, [`port ${port}, API :${t.kubernetes.apiServerPort}`, `on ${lb.master.name} (MASTER)`], { shape: 'ellipse', fillcolor: 'lightblue' }),
    ...lbOrder.map((h) => node(`host:${h.name}`, h.name, [
      `load balancer, ${h.name === lb.master.name ? 'MASTER' : 'BACKUP'} priority ${h.priority}`,
      `${h.interface} ${h.address}`,
      `nginx :${port} :${t.kubernetes.apiServerPort}, keepalived`,
    ])),
    `  subgraph ${q('cluster_workers')} {`,
    `    label=${q(`workers: NodePort ${nodePort}, one Pod each`)}; style="rounded"; color="gray60";`,
    ...drawn.map((w) => node(`host:${w.name}`, w.name, [
      `worker ${w.interface} ${w.address}`,
      `Pod ${t.workload.name}-${w.name}`,
      `page "${w.page.length > 24 ? `${w.page.slice(0, 23)}…` : w.page}"`,
    ], { fillcolor: 'honeydew' })),
    ...more,
    ...rows.map((row) => `    { rank=same; ${row.map(q).join('; ')}; }`),
    '  }',
    node(`host:${t.controlPlane.name}`, t.controlPlane.name, [
      'control plane',
      `${t.controlPlane.interface} ${t.controlPlane.address}`,
      `API :${t.kubernetes.apiServerPort}`,
    ], { fillcolor: 'whitesmoke' }),
    '  }',
    `  ${q('legend')} [shape=box, style="rounded", color="gray70", fontsize=11, label=${legend}];`,
    ...gatewayEdges(t, `host:${t.client.name}`, vip),
    ...lbOrder.map((h) => edge(vip, `host:${h.name}`, h.name === lb.master.name ? 'holds' : 'on failover',
      h.name === lb.master.name ? {} : { style: 'dashed' })),
    ...lbOrder.map((h) => edge(`host:${h.name}`, mid, `:${nodePort}`,
      h.name === lb.master.name ? { lhead: 'cluster_workers' } : { lhead: 'cluster_workers', style: 'dashed', color: 'gray50' })),
    ...wrap,
    // The control plane beside the workers' first row: the picture grows wider rather than taller.
    `  { rank=same; ${q(firstRow[firstRow.length - 1])}; ${q(`host:${t.controlPlane.name}`)}; }`,
    // The API's path: the control-plane endpoint is the VIP, so the line comes from the load balancer that holds it.
    edge(`host:${lb.master.name}`, `host:${t.controlPlane.name}`, `API :${t.kubernetes.apiServerPort}`, { style: 'dotted', color: 'gray50' }),
    // The legend beside the client, in the top row's empty space.
    `  { rank=same; ${q(`host:${t.client.name}`)}; ${q('legend')}; }`,
    '}',
  ];
  return `${out.join('\n')}\n`;
}

/** Where clients enter: the one gateway, or the pair's VIPs in front of its two gateways (MASTER first). */
const GATEWAY_VIPS = 'gateway-vips';

function gatewayNodes(t: Topology): string[] {
  const g = t.gateway;
  const port = t.loadBalancer.listenPort;
  const nat = [
    `DNAT ${g.outside.address}:${port} → ${t.loadBalancer.vip}:${port}`,
    `SNAT ${t.networks.internal} → ${g.outside.address}`,
  ];
  if (g.pair === undefined) {
    const only = g.hosts[0];
    return [node(`host:${only.name}`, only.name, [
      'NAT gateway',
      `outside ${only.outside.interface} ${only.outside.address}`,
      `inside ${only.inside.interface} ${only.inside.address}`,
      ...nat,
    ], { fillcolor: 'lightyellow' })];
  }
  const pair = g.pair;
  return [
    node(GATEWAY_VIPS, 'gateway VIPs', [
      `outside ${g.outside.address}, inside ${g.inside.address}`,
      `on ${pair.master.name} (MASTER)`,
      ...nat,
    ], { shape: 'ellipse', fillcolor: 'lightyellow' }),
    ...[pair.master, pair.backup].map((h) => node(`host:${h.name}`, h.name, [
      `NAT gateway, ${h.name === pair.master.name ? 'MASTER' : 'BACKUP'} priority ${h.priority}`,
      `outside ${h.outside.interface} ${h.outside.address}`,
      `inside ${h.inside.interface} ${h.inside.address}`,
      'keepalived, conntrackd',
    ], { fillcolor: 'lightyellow' })),
    `    { rank=same; ${q(`host:${pair.master.name}`)}; ${q(`host:${pair.backup.name}`)}; }`,
  ];
}

function gatewayEdges(t: Topology, client: string, vip: string): string[] {
  const port = t.loadBalancer.listenPort;
  const pair = t.gateway.pair;
  if (pair === undefined) {
    const only = `host:${t.gateway.hosts[0].name}`;
    return [edge(client, only, `http :${port}`), edge(only, vip, 'DNAT to the VIP')];
  }
  const master = `host:${pair.master.name}`;
  const backup = `host:${pair.backup.name}`;
  return [
    edge(client, GATEWAY_VIPS, `http :${port}`),
    edge(GATEWAY_VIPS, master, 'holds'),
    edge(GATEWAY_VIPS, backup, 'on failover', { style: 'dashed' }),
    edge(master, backup, 'conntrackd sync', { style: 'dotted', dir: 'both', color: 'gray50', constraint: 'false' }),
    edge(master, vip, 'DNAT to the VIP'),
    edge(backup, vip, 'DNAT to the VIP', { style: 'dashed', color: 'gray50' }),
  ];
}
