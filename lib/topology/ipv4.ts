/**
 * Minimal IPv4 arithmetic. The topology only ever needs to parse addresses and
 * prefixes, test membership and overlap, so a dependency is not worth it.
 */

/** An IPv4 network in CIDR form, with its base address as an unsigned 32-bit number. */
export interface Ipv4Network {
  readonly base: number;
  readonly prefixLength: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a dotted-quad address; returns undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Parses "a.b.c.d/n". Host bits must be zero: "192.168.10.100/24" is the original write-up's
 * SNAT slip, and accepting it would hide what the user meant.
 */
export function parseCidr(text: string): Ipv4Network | { error: string } {
  const match = /^([^/]+)\/([0-9]{1,2})$/.exec(text);
  if (!match) return { error: 'a network in CIDR form such as 192.168.10.0/24' };
  const base = parseIpv4(match[1]);
  const prefixLength = Number(match[2]);
  if (base === undefined || prefixLength > 32) {
    return { error: 'a network in CIDR form such as 192.168.10.0/24' };
  }
  if (((base & ~maskOf(prefixLength)) >>> 0) !== 0) {
    const network = formatIpv4((base & maskOf(prefixLength)) >>> 0);
    return { error: `a network address with no host bits set (did you mean ${network}/${prefixLength}?)` };
  }
  return { base, prefixLength };
}

/** The prefix length of a CIDR the topology has already validated ("192.168.10.0/24" → 24). */
export function prefixLengthOf(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

export function formatCidr(network: Ipv4Network): string {
  return `${formatIpv4(network.base)}/${network.prefixLength}`;
}

export function contains(network: Ipv4Network, address: number): boolean {
  return ((address & maskOf(network.prefixLength)) >>> 0) === network.base;
}

/** True when the address is the network's own address or its broadcast address. */
export function isNetworkOrBroadcast(network: Ipv4Network, address: number): boolean {
  if (network.prefixLength >= 31) return false;
  const broadcast = (network.base | ~maskOf(network.prefixLength)) >>> 0;
  return address === network.base || address === broadcast;
}

export function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const mask = maskOf(shorter);
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}
