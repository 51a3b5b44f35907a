/**
 * What verify makes of a host's answers about its health: pure functions of the text a host printed,
 * so they are tested with recorded answers (no host needed).
 */
import { isReady, KubeNode } from '../lib/kubernetes/node-list';

/** A verdict of one check; `warn` is reported but does not fail verify. */
export interface Verdict {
  readonly result: 'pass' | 'warn' | 'FAIL' | 'skipped';
  readonly detail: string;
}

/**
 * What verify runs for the clock: timedatectl's NTPSynchronized (the kernel's own "synchronised" flag,
 * set by whichever daemon disciplines the clock), else chronyc's leap status, then which time sync
 * daemon is active. Each answer on its own line with a tag, so a missing tool is simply a missing line.
 */
export const CLOCK_COMMAND = [
  'echo "timedatectl $(timedatectl show -p NTPSynchronized --value 2>/dev/null)"',
  'echo "chronyc $(chronyc -n tracking 2>/dev/null | sed -n \'s/^Leap status *: *//p\')"',
  'for unit in chrony chronyd systemd-timesyncd; do if systemctl is-active --quiet "$unit"; then echo "active $unit"; fi; done',
].join('; ');

/**
 * The clock check's verdict from CLOCK_COMMAND's output. Synchronised: pass. Not synchronised: a warning
 * naming the daemon (a daemon only just started needs a few polls; in a container it cannot set the
 * clock at all), not a failure. Neither tool answering: not checked.
 */
export function clockVerdict(output: string): Verdict {
  const field = (tag: string) => output.split('\n').find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1).trim() ?? '';
  const active = output.split('\n').filter((l) => l.startsWith('active ')).map((l) => l.slice('active '.length).trim());
  const daemon = active.length > 0 ? `${active.join(', ')} active` : 'no time sync daemon active';
  const timedatectl = field('timedatectl');
  const chronyc = field('chronyc');
  if (timedatectl === 'yes') return { result: 'pass', detail: `synchronised (timedatectl NTPSynchronized=yes; ${daemon})` };
  // chronyc's leap status: Normal, Insert second or Delete second once synchronised (a leap second pending), else Not synchronised.
  if (timedatectl === '' && ['Normal', 'Insert second', 'Delete second'].includes(chronyc)) return { result: 'pass', detail: `synchronised (chronyc leap status ${chronyc}; ${daemon})` };
  if (timedatectl === 'no' || chronyc !== '') {
    const said = timedatectl === 'no' ? 'timedatectl NTPSynchronized=no' : `chronyc leap status ${chronyc}`;
    return { result: 'warn', detail: `not synchronised (${said}; ${daemon})` };
  }
  return { result: 'skipped', detail: 'not checked: neither timedatectl nor chronyc answered' };
}

/** What verify runs on a control-plane node for its certificates: kubeadm's structured report (output.kubeadm.k8s.io). */
export const CERTIFICATES_COMMAND = 'kubeadm certs check-expiration -o json';

/** Below this many days left a certificate is a warning, below FAIL_DAYS a failure. */
export const WARN_DAYS = 30;
export const FAIL_DAYS = 7;

/** One entry of kubeadm's CertificateExpirationInfo (output.kubeadm.k8s.io/v1alpha3). */
interface KubeadmCertificate {
  readonly name: string;
  readonly expirationDate: string;
  /** Seconds left when kubeadm ran (negative once expired). */
  readonly residualTime: number;
  readonly missing?: boolean;
}

/** The CertificateExpirationInfo object in kubeadm's output, whatever lines of text come before it; undefined when there is none. */
function expirationInfo(output: string): { certificates: KubeadmCertificate[]; certificateAuthorities: KubeadmCertificate[] } | undefined {
  // kubeadm may print "[check-expiration] Reading configuration …" lines before the object.
  const start = output.search(/^\{/m);
  if (start < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.slice(start));
  } catch {
    return undefined;
  }
  const info = parsed as { kind?: unknown; certificates?: unknown; certificateAuthorities?: unknown };
  if (info.kind !== 'CertificateExpirationInfo' || !Array.isArray(info.certificates) || !Array.isArray(info.certificateAuthorities)) return undefined;
  const valid = (c: unknown): c is KubeadmCertificate => typeof c === 'object' && c !== null
    && typeof (c as KubeadmCertificate).name === 'string' && typeof (c as KubeadmCertificate).residualTime === 'number';
  const certificates = info.certificates as unknown[];
  const authorities = info.certificateAuthorities as unknown[];
  if (!certificates.every(valid) || !authorities.every(valid)) return undefined;
  return { certificates, certificateAuthorities: authorities };
}

/**
 * The certificate check's verdict from `kubeadm certs check-expiration -o json`: the certificates and
 * certificate authorities that are present (a missing one, such as super-admin.conf on a node that
 * joined, is left out), judged by the days kubeadm says are left: under FAIL_DAYS fails, under
 * WARN_DAYS warns, each naming the certificates; otherwise a pass naming the first to expire.
 */
export function certificatesVerdict(output: string): Verdict {
  const info = expirationInfo(output);
  if (!info) return { result: 'FAIL', detail: 'kubeadm certs check-expiration -o json printed no CertificateExpirationInfo' };
  const present = [...info.certificates, ...info.certificateAuthorities.map((c) => ({ ...c, name: `${c.name} (CA)` }))].filter((c) => !c.missing);
  if (present.length === 0) return { result: 'FAIL', detail: 'kubeadm found no certificate (is this a control-plane node?)' };
  const days = (c: KubeadmCertificate) => Math.floor(c.residualTime / 86_400);
  const sorted = [...present].sort((a, b) => a.residualTime - b.residualTime);
  const describe = (list: readonly KubeadmCertificate[]) => list.map((c) => (c.residualTime <= 0 ? `${c.name} expired ${c.expirationDate}` : `${c.name} in ${days(c)} d`)).join(', ');
  const failing = sorted.filter((c) => c.residualTime < FAIL_DAYS * 86_400);
  const warning = sorted.filter((c) => c.residualTime >= FAIL_DAYS * 86_400 && c.residualTime < WARN_DAYS * 86_400);
  const renew = 'renew: kubeadm certs renew all on the node, then restart the control-plane Pods';
  if (failing.length > 0) return { result: 'FAIL', detail: `expire within ${FAIL_DAYS} days: ${describe(failing)}${warning.length ? `; within ${WARN_DAYS}: ${describe(warning)}` : ''}; ${renew}` };
  if (warning.length > 0) return { result: 'warn', detail: `expire within ${WARN_DAYS} days: ${describe(warning)}; ${renew}` };
  return { result: 'pass', detail: `${present.length} certificates, the first to expire: ${describe(sorted.slice(0, 1))} (${sorted[0].expirationDate})` };
}

/** The names of the Nodes whose Ready condition is True. */
export function readyNodes(nodes: readonly KubeNode[]): ReadonlySet<string> {
  return new Set(nodes.filter(isReady).map((n) => n.metadata.name));
}

/**
 * Nodes the cluster has that the topology does not (`expected`: the control plane and the workers).
 * A failure, not a warning: such a Node is a worker removed from the topology without its removal
 * (its Node left behind, Ready with its kubelet still running, or NotReady for ever, Pods still bound
 * to it) or a machine joined by hand that this tool neither set up nor checks; neither goes away by
 * itself, and the cluster is not the site the topology describes. Each is named with its state.
 */
export function unknownNodesVerdict(nodes: readonly KubeNode[], expected: readonly string[]): Verdict {
  const known = new Set(expected);
  const ready = readyNodes(nodes);
  const unknown = nodes.filter((n) => !known.has(n.metadata.name));
  if (unknown.length === 0) return { result: 'pass', detail: `${nodes.length} Nodes, each a host of the topology` };
  const state = (n: KubeNode) => [ready.has(n.metadata.name) ? 'Ready' : 'NotReady', ...(n.spec?.unschedulable ? ['cordoned'] : [])].join(', ');
  const names = unknown.map((n) => `${n.metadata.name} (${state(n)})`).sort().join(', ');
  return { result: 'FAIL', detail: `not in the topology: ${names}; remove it as docs/runbook.md says (Removing a worker), or add it to the topology` };
}
