import { describe, expect, it } from 'vitest';
import { clientIp, truncateIp } from '../../server/tracking/client-ip.ts';

describe('client addresses', () => {
  it('believes X-Forwarded-For only from a configured proxy', () => {
    const proxies = new Set(['10.0.0.5', '10.0.0.6']);
    expect(clientIp('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientIp('10.0.0.5', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // The left end is whatever the client wrote; the nearest address not ours is the client.
    expect(clientIp('10.0.0.5', '6.6.6.6, 198.51.100.1, 10.0.0.6', proxies)).toBe('198.51.100.1');
    expect(clientIp('::ffff:10.0.0.5', 'garbage', proxies)).toBe('10.0.0.5');
    expect(clientIp(undefined, '198.51.100.1', proxies)).toBeNull();
  });

  it('keeps only the network: IPv4 /24, IPv6 /48', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0/24');
    expect(truncateIp('2001:db8:abcd:12:3456::1')).toBe('2001:db8:abcd::/48');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(truncateIp('::1')).toBe('0:0:0::/48');
    expect(truncateIp('not an ip')).toBeNull();
    expect(truncateIp(null)).toBeNull();
  });
});
