/**
 * What this tool reads of `kubectl get nodes -o json`: verify (Ready, Nodes the topology lacks) and the
 * upgrade (each Node's kubelet version, whether it is cordoned) read the same list the same way.
 */

/** One Node, as far as this tool reads it. */
export interface KubeNode {
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: {
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
    readonly nodeInfo?: { readonly kubeletVersion?: string };
  };
}

/** The Nodes of `kubectl get nodes -o json`; undefined when the output is not a list of Nodes. */
export function nodesOf(output: string): readonly KubeNode[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return undefined;
  }
  const items = (parsed as { items?: unknown }).items;
  if (!Array.isArray(items) || !items.every((n) => typeof (n as KubeNode)?.metadata?.name === 'string')) return undefined;
  return items as KubeNode[];
}

/** Whether the Node's Ready condition is True. */
export function isReady(node: KubeNode): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
