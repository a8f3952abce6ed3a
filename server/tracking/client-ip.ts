import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a hit came from: the peer, or, when the peer is a proxy we were told to trust,
 * the nearest address in X-Forwarded-For that is not one of ours. Anyone can write that
 * header, so from any other peer it is ignored.
 */
export function clientIp(peer: string | undefined, forwardedFor: string | undefined, trusted: ReadonlySet<string>): string | null {
  let ip = peer ? unmap(peer) : null;
  if (ip && trusted.has(ip) && forwardedFor) {
    const hops = forwardedFor.split(',').map((h) => unmap(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!isIPv4(hop) && !isIPv6(hop)) break;
      ip = hop;
      if (!trusted.has(hop)) break;
    }
  }
  return ip;
}

function unmap(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** What is stored of an address: its network (IPv4 /24, IPv6 /48), never the address itself. */
export function truncateIp(ip: string | null): string | null {
  if (!ip) return null;
  if (isIPv4(ip)) return ip.slice(0, ip.lastIndexOf('.')) + '.0/24';
  if (!isIPv6(ip)) return null;
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/48';
}
