/**
 * Connections as conntrack and conntrackd list them (`conntrack -L`, `conntrackd -i` for a gateway's
 * own cache, `conntrackd -e` for the copy of its peer's), reduced to what verify compares: which
 * connections the MASTER gateway forwards, and whether its BACKUP holds each of them.
 *
 * A line reads `tcp 6 [timeout] ESTABLISHED src=A dst=B sport=P dport=Q [UNREPLIED] src=… (the reply
 * direction) … [ASSURED] …`; the first src/dst/sport/dport are the original direction.
 */
export interface Flow {
  readonly protocol: string;
  /** The TCP state (ESTABLISHED, TIME_WAIT, …); '' for other protocols. */
  readonly state: string;
  /** `src:sport>dst:dport` of the original direction: the same on both gateways for one connection. */
  readonly key: string;
}

const TCP_STATES = new Set(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2']);

/** Every flow of a listing; lines that are not flows (headers, statistics) are skipped. */
export function parseFlows(listing: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of listing.split('\n')) {
    const words = line.trim().split(/\s+/);
    const field = (name: string) => words.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1);
    const [src, dst, sport, dport] = [field('src'), field('dst'), field('sport'), field('dport')];
    if (src === undefined || dst === undefined) continue;
    const protocol = words[0];
    const state = words.find((w) => TCP_STATES.has(w)) ?? '';
    flows.push({ protocol, state, key: `${protocol} ${src}:${sport ?? ''}>${dst}:${dport ?? ''}` });
  }
  return flows;
}

/** The keys of the established TCP connections of a listing. */
export function establishedKeys(listing: string): Set<string> {
  return new Set(parseFlows(listing).filter((f) => f.protocol === 'tcp' && f.state === 'ESTABLISHED').map((f) => f.key));
}

/**
 * The established connections the MASTER held in both of two reads (taken before and after the
 * BACKUP's), missing from the BACKUP's copy. Connections that opened or closed between the reads
 * are not judged: the sync is asynchronous, and only a connection that lasts must be on the peer.
 */
export function unsyncedFlows(masterBefore: string, backupCopy: string, masterAfter: string): { lasting: number; missing: string[] } {
  const after = establishedKeys(masterAfter);
  const lasting = [...establishedKeys(masterBefore)].filter((key) => after.has(key));
  const copied = establishedKeys(backupCopy);
  return { lasting: lasting.length, missing: lasting.filter((key) => !copied.has(key)) };
}
