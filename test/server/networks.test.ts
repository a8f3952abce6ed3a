import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { BlockList } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  APPLE_RELAY_FILE,
  collapseRanges,
  formatAddress,
  loadAppleRelay,
  loadScannerNetworks,
  NetworkList,
  parseCidr,
  readNetworkFile,
  SCANNER_NETWORKS_FILE,
  scannerNetworkData,
  scannerService,
  type NetworkFile,
} from '../../server/tracking/networks/networks.ts';
import {
  parseAppleCsv,
  parseGoogleRanges,
  parseHtmlCidrs,
  parseMicrosoftEndpoints,
  parseSpfRecord,
  refreshFiles,
  type RefreshDeps,
} from '../../server/tracking/networks/refresh.ts';

const scanners = loadScannerNetworks();
const apple = loadAppleRelay();

describe('shipped scanner networks', () => {
  // [address, service it must match, or null]. Neighbours sit one address outside a published edge.
  const cases: [string, string | null][] = [
    // Microsoft EOP, endpoint sets 9/10. 40.107.218.12 clicked a gophish link via Safe Links (gophish#973).
    ['40.107.218.12', 'microsoft-eop'],
    ['40.92.0.0', 'microsoft-eop'],
    ['40.93.255.255', 'microsoft-eop'],
    ['40.91.255.255', null],
    ['40.94.0.0', null],
    // Reported Safe Links detonation from Azure, published nowhere: a documented gap (mautic#9400).
    ['40.94.29.84', null],
    ['40.107.0.0', 'microsoft-eop'],
    ['40.106.255.255', null],
    ['40.108.0.0', null],
    ['52.100.0.0', 'microsoft-eop'],
    ['52.103.255.255', 'microsoft-eop'],
    ['52.99.255.255', null],
    ['52.104.0.0', null],
    ['52.238.78.88', 'microsoft-eop'],
    ['52.238.78.87', null],
    ['52.238.78.89', null],
    ['104.47.127.255', 'microsoft-eop'],
    ['104.47.128.0', null],
    ['104.46.255.255', null],
    // Exchange Online client ranges (Outlook on the web) are deliberately not scanners.
    ['40.96.0.1', null],
    // Barracuda Email Gateway Defense, US.
    ['209.222.80.0', 'barracuda-egd'],
    ['209.222.82.15', 'barracuda-egd'],
    ['209.222.87.255', 'barracuda-egd'],
    ['209.222.79.255', null],
    ['209.222.88.0', null],
    // Mimecast, _netblocks.mimecast.com: us, eu, za, de, au, ca.
    ['205.139.110.9', 'mimecast'],
    ['91.220.42.7', 'mimecast'],
    ['41.74.192.1', 'mimecast'],
    ['194.104.109.1', 'mimecast'],
    ['103.96.21.5', 'mimecast'],
    ['170.10.145.200', 'mimecast'],
    ['207.211.30.64', 'mimecast'],
    ['207.211.30.63', null],
    ['207.211.41.113', 'mimecast'],
    ['207.211.41.112', null],
    ['207.211.41.114', null],
    ['205.139.111.0', null],
    // Proofpoint's service networks.
    ['67.231.144.0', 'proofpoint'],
    ['67.231.159.255', 'proofpoint'],
    ['67.231.143.255', null],
    ['67.231.160.0', null],
    ['209.66.100.64', 'proofpoint'],
    ['209.66.100.127', 'proofpoint'],
    ['209.66.100.63', null],
    ['209.66.100.128', null],
    // Google's published crawler and fetcher ranges.
    ['66.249.66.1', 'google-crawlers'],
    ['34.22.85.0', 'google-crawlers'],
    ['34.22.85.31', 'google-crawlers'],
    ['34.22.85.32', null],
    ['34.64.6.200', 'google-user-fetchers'],
    // Not anyone's.
    ['1.1.1.1', null],
    ['192.0.2.1', null],
    ['0.0.0.0', null],
    ['255.255.255.255', null],
  ];

  it.each(cases)('%s -> %s', (ip, expected) => {
    expect(scanners.match(ip)).toBe(expected);
  });

  it('matches IPv6 with the right id, and one address outside does not', () => {
    expect(scanners.match('2a01:111:f400::')).toBe('microsoft-eop');
    expect(scanners.match('2a01:111:f400:ffff:ffff:ffff:ffff:ffff')).toBe('microsoft-eop');
    expect(scanners.match('2a01:111:f403::25')).toBe('microsoft-eop');
    expect(scanners.match('2A01:0111:F403:0000:0000:0000:0000:0025')).toBe('microsoft-eop');
    expect(scanners.match('2a01:111:f3ff:ffff:ffff:ffff:ffff:ffff')).toBeNull();
    expect(scanners.match('2a01:111:f401::')).toBeNull();
    expect(scanners.match('2a01:111:f402::1')).toBeNull(); // SharePoint, not mail
    expect(scanners.match('2a01:111:f404::')).toBeNull();
    expect(scanners.match('2001:4860:4801:10::1')).toBe('google-crawlers');
    expect(scanners.match('2404:f340:10:4000::1')).toBe('google-user-fetchers');
    expect(scanners.match('2001:db8::1')).toBeNull();
    expect(scanners.match('::1')).toBeNull();
    expect(scanners.match('::')).toBeNull();
  });

  it('looks IPv4-mapped IPv6 up as IPv4, in either notation', () => {
    expect(scanners.match('::ffff:40.107.218.12')).toBe('microsoft-eop');
    expect(scanners.match('::FFFF:40.107.218.12')).toBe('microsoft-eop');
    expect(scanners.match('0:0:0:0:0:ffff:40.107.218.12')).toBe('microsoft-eop');
    expect(scanners.match('::ffff:286b:da0c')).toBe('microsoft-eop'); // 40.107.218.12 in hex
    expect(scanners.match('::ffff:209.222.79.255')).toBeNull();
    expect(scanners.match('::ffff:209.222.80.0')).toBe('barracuda-egd');
    // Not mapped: IPv4-compatible and SIIT forms are other addresses.
    expect(scanners.match('::40.107.218.12')).toBeNull();
    expect(scanners.match('::ffff:0:286b:da0c')).toBeNull();
  });

  it('is no match for anything that is not an address', () => {
    const junk = [
      '', ' ', 'abc', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.256', '01.2.3.4', '40.107.218.012', '1..2.3',
      '.1.2.3', '1.2.3.', '40.107.218.12 ', ' 40.107.218.12', '40.107.218.12/32', '+40.107.218.12', '4O.107.218.12',
      ':', ':::', '::ffff:1.2.3', '::ffff:1.2.3.4.5', '2a01:111:f400::1::', '2a01::111::1', '2a01:111:f400:0:0:0:0:0:1',
      '2a01:111:f400:0:0:0:0', 'gggg::', '12345::', '2a01:111:f400::1:', ':2a01:111:f400::1', '[2a01:111:f400::1]',
      '::ffff:40.107.218.12:1', '1.2.3.4::',
    ];
    for (const ip of junk) expect(scanners.match(ip), JSON.stringify(ip)).toBeNull();
    expect(scanners.match(null)).toBeNull();
    expect(scanners.match(undefined)).toBeNull();
    expect(scanners.match(42 as unknown as string)).toBeNull();
  });

  it('tells each service apart and describes it', () => {
    expect(new Set(scanners.services)).toEqual(
      new Set(['microsoft-eop', 'barracuda-egd', 'mimecast', 'proofpoint', 'google-crawlers', 'google-user-fetchers']),
    );
    expect(scannerService('microsoft-eop')?.kind).toBe('scanner');
    expect(scannerService('google-crawlers')?.kind).toBe('crawler');
    expect(scannerService('nope')).toBeUndefined();
    expect(loadScannerNetworks()).toBe(scanners); // read once
  });
});

describe('shipped Apple relay ranges', () => {
  it('matches relay egress addresses, v4 and v6, and not their neighbours', () => {
    expect(apple.services).toEqual(['apple-private-relay']);
    expect(apple.match('172.224.226.1')).toBe('apple-private-relay');
    expect(apple.match('146.75.128.0')).toBe('apple-private-relay');
    expect(apple.match('::ffff:146.75.128.0')).toBe('apple-private-relay');
    expect(apple.match('104.28.28.63')).toBe('apple-private-relay');
    expect(apple.match('2606:54c0::1')).toBe('apple-private-relay');
    expect(apple.match('2606:54bf:ffff:ffff:ffff:ffff:ffff:ffff')).toBeNull();
    expect(apple.match('40.107.218.12')).toBeNull();
    expect(apple.match('17.0.0.1')).toBeNull(); // Apple's own /8 is not relay egress
    expect(loadAppleRelay()).toBe(apple);
  });
});

describe('the data files', () => {
  const files: [string, NetworkFile][] = [
    ['scanner-networks.json', scannerNetworkData()],
    ['apple-relay.json', readNetworkFile(APPLE_RELAY_FILE)],
  ];
  const refreshTypes = new Set(['microsoft-endpoints', 'google-json', 'apple-csv', 'spf', 'html-cidr']);

  it.each(files)('%s: every service is sourced, dated, valid and stored collapsed', (_name, file) => {
    expect(file.generated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const ids = file.services.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of file.services) {
      expect(s.name, s.id).toBeTruthy();
      expect(['scanner', 'crawler', 'apple-relay']).toContain(s.kind);
      expect(s.sources.length, s.id).toBeGreaterThan(0);
      for (const src of s.sources) {
        expect(src.url, s.id).toMatch(/^(https:\/\/|dns:TXT )/);
        expect(src.read, s.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
      expect(s.refresh === null || refreshTypes.has(s.refresh!.type), s.id).toBe(true);
      expect(s.ranges.length, s.id).toBeGreaterThan(0);
      for (const r of s.ranges) expect(parseCidr(r), `${s.id} ${r}`).not.toBeNull();
      expect(collapseRanges(s.ranges), s.id).toEqual(s.ranges);
    }
  });

  it('agrees with net.BlockList on every edge of every shipped range', () => {
    const check = (list: NetworkList, services: NetworkFile['services'], sample: number) => {
      const bl = new BlockList();
      const probes: string[] = [];
      for (const s of services) {
        s.ranges.forEach((r, i) => {
          const c = parseCidr(r)!;
          const [net, len] = r.split('/');
          bl.addSubnet(net!, Number(len), c.family === 4 ? 'ipv4' : 'ipv6');
          if (i % sample) return;
          const max = c.family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
          for (const v of [c.start - 1n, c.start, c.end, c.end + 1n]) if (v >= 0n && v <= max) probes.push(formatAddress(c.family, v));
        });
      }
      for (const ip of probes) {
        expect(list.match(ip) !== null, ip).toBe(bl.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4'));
      }
      return probes.length;
    };
    expect(check(scanners, scannerNetworkData().services, 1)).toBeGreaterThan(1000);
    // BlockList takes tens of µs a check against 13k ranges: probe every 25th range of Apple's.
    expect(check(apple, readNetworkFile(APPLE_RELAY_FILE).services, 25)).toBeGreaterThan(1000);
  });
});

describe('NetworkList', () => {
  it('gives the innermost block when ranges nest, whatever their order, and the first of two identical', () => {
    const list = new NetworkList([
      { range: '10.1.2.0/24', service: 'inner' },
      { range: '10.0.0.0/8', service: 'outer' },
      { range: '10.1.2.128/25', service: 'innermost' },
      { range: '10.200.0.0/16', service: 'first' },
      { range: '10.200.0.0/16', service: 'second' },
      { range: '2001:db8::/32', service: 'v6-outer' },
      { range: '2001:db8:1::/48', service: 'v6-inner' },
      { range: '192.0.2.7', service: 'host' },
      { range: '2001:db8:ffff::1', service: 'host6' },
    ]);
    expect(list.match('10.0.0.0')).toBe('outer');
    expect(list.match('10.1.1.255')).toBe('outer');
    expect(list.match('10.1.2.0')).toBe('inner');
    expect(list.match('10.1.2.127')).toBe('inner');
    expect(list.match('10.1.2.128')).toBe('innermost');
    expect(list.match('10.1.2.255')).toBe('innermost');
    expect(list.match('10.1.3.0')).toBe('outer');
    expect(list.match('10.200.1.1')).toBe('first');
    expect(list.match('10.255.255.255')).toBe('outer');
    expect(list.match('11.0.0.0')).toBeNull();
    expect(list.match('2001:db8:1:2::3')).toBe('v6-inner');
    expect(list.match('2001:db8:2::')).toBe('v6-outer');
    expect(list.match('2001:db8:ffff::1')).toBe('host6');
    expect(list.match('2001:db8:ffff::2')).toBe('v6-outer');
    expect(list.match('192.0.2.7')).toBe('host');
    expect(list.match('192.0.2.8')).toBeNull();
    expect(list.size).toBe(9);
  });

  it('takes a mapped-IPv6 block as the IPv4 block, clears host bits, and refuses what is not a range', () => {
    const list = new NetworkList([
      { range: '::ffff:198.51.100.0/120', service: 'mapped' },
      { range: '203.0.113.77/24', service: 'sloppy' },
    ]);
    expect(list.match('198.51.100.9')).toBe('mapped');
    expect(list.match('::ffff:198.51.100.9')).toBe('mapped');
    expect(list.match('203.0.113.1')).toBe('sloppy');
    for (const range of ['10.0.0.0/33', '2001:db8::/129', 'example.com', '10.0.0.0/', '10.0.0.0/08', '', 'fe80::1%eth0/64']) {
      expect(() => new NetworkList([{ range, service: 'x' }]), range).toThrow(/not an IP range/);
    }
    expect(new NetworkList([]).match('1.2.3.4')).toBeNull();
    expect(new NetworkList([{ range: '0.0.0.0/0', service: 'all' }]).match('255.255.255.255')).toBe('all');
    expect(new NetworkList([{ range: '::/0', service: 'all6' }]).match('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('all6');
  });

  it('collapses ranges into the fewest blocks, as published addresses, RFC 5952 text', () => {
    expect(collapseRanges(['10.0.0.0/25', '10.0.0.128/25', '10.0.1.0/24', '10.0.0.5', '192.0.2.0/24', '2001:db8::/33', '2001:db8:8000::/33'])).toEqual([
      '10.0.0.0/23',
      '192.0.2.0/24',
      '2001:db8::/32',
    ]);
    expect(collapseRanges(['10.0.0.1/32', '10.0.0.2/32'])).toEqual(['10.0.0.1/32', '10.0.0.2/32']);
    expect(collapseRanges(['2001:0db8:0000:0000:0001:0000:0000:0000/128'])).toEqual(['2001:db8:0:0:1::/128']); // the longest run
    expect(collapseRanges(['2001:db8:0:0:1:0:0:1'])).toEqual(['2001:db8::1:0:0:1/128']); // the first of equal runs
    expect(collapseRanges(['2001:db8:0:1:1:1:1:1'])).toEqual(['2001:db8:0:1:1:1:1:1/128']);
    expect(() => collapseRanges(['nope'])).toThrow(/not an IP range/);
  });

  it('costs well under a microsecond a lookup (printed, not asserted)', () => {
    const probes = [
      '40.107.218.12', '203.0.113.9', '66.249.66.1', '198.51.100.200', '2a01:111:f403::25', '2001:db8::1',
      '::ffff:205.139.110.9', '172.224.226.1', '81.2.69.160', '2606:54c0::1', '8.8.8.8', '52.238.78.88',
    ];
    const time = (fn: (ip: string) => unknown, n: number) => {
      for (let i = 0; i < 20_000; i++) fn(probes[i % probes.length]!);
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn(probes[i % probes.length]!);
      return Number(process.hrtime.bigint() - t) / n;
    };
    const bl = new BlockList();
    for (const s of scannerNetworkData().services) {
      for (const r of s.ranges) {
        const [net, len] = r.split('/');
        bl.addSubnet(net!, Number(len), net!.includes(':') ? 'ipv6' : 'ipv4');
      }
    }
    const scannerNs = time((ip) => scanners.match(ip), 1_000_000);
    const appleNs = time((ip) => apple.match(ip), 1_000_000);
    const blockListNs = time((ip) => bl.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4'), 20_000);
    console.log(
      `networks: ${scanners.size} scanner ranges ${scannerNs.toFixed(0)} ns/lookup; ` +
        `${apple.size} Apple relay ranges ${appleNs.toFixed(0)} ns/lookup; ` +
        `net.BlockList on the scanner ranges ${blockListNs.toFixed(0)} ns/lookup (and no service id)`,
    );
    expect(scannerNs).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// refresh.ts can't reach the publishers here: its parsers are checked against their formats,
// and its run against stubbed sources.

const endpointsSample = [
  { id: 1, serviceArea: 'Exchange', serviceAreaDisplayName: 'Exchange Online', urls: ['outlook.office.com'], ips: ['13.107.6.152/31', '40.96.0.0/13'], tcpPorts: '80,443', expressRoute: true, category: 'Optimize', required: true },
  { id: 9, serviceArea: 'Exchange', serviceAreaDisplayName: 'Exchange Online', urls: ['*.protection.outlook.com'], ips: ['40.92.0.0/15', '40.107.0.0/16', '52.100.0.0/14', '52.238.78.88/32', '104.47.0.0/17', '2a01:111:f400::/48', '2a01:111:f403::/48'], tcpPorts: '443', expressRoute: true, category: 'Allow', required: true },
  { id: 10, serviceArea: 'Exchange', serviceAreaDisplayName: 'Exchange Online', urls: ['*.mail.protection.outlook.com', '*.mx.microsoft'], ips: ['40.92.0.0/15', '40.107.0.0/16', '52.100.0.0/14', '104.47.0.0/17', '2a01:111:f400::/48', '2a01:111:f403::/48', '2a01:111:f40f::/48'], tcpPorts: '25', expressRoute: true, category: 'Allow', required: true },
  { id: 31, serviceArea: 'SharePoint', urls: ['*.sharepoint.com'], ips: ['13.107.136.0/22'], tcpPorts: '443,80', category: 'Optimize', required: true },
];

describe('refresh parsers', () => {
  it('reads the chosen Microsoft endpoint sets and refuses a changed document', () => {
    expect(parseMicrosoftEndpoints(endpointsSample, [9, 10])).toContain('2a01:111:f40f::/48');
    expect(parseMicrosoftEndpoints(endpointsSample, [9, 10])).not.toContain('40.96.0.0/13');
    expect(() => parseMicrosoftEndpoints(endpointsSample, [9, 11])).toThrow(/set 11 is missing/);
    expect(() => parseMicrosoftEndpoints(endpointsSample, [31])).toThrow(/not Exchange/);
    expect(() => parseMicrosoftEndpoints({ error: 'x' }, [9])).toThrow(/array/);
    expect(() => parseMicrosoftEndpoints([{ id: 9, serviceArea: 'Exchange', ips: ['40.92.0.0/15', 'bogus'] }], [9])).toThrow(/bogus/);
  });

  it("reads Google's ipranges JSON", () => {
    const doc = { creationTime: '2026-08-21T14:45:42.000000', prefixes: [{ ipv6Prefix: '2001:4860:4801:10::/64' }, { ipv4Prefix: '66.249.64.0/27' }] };
    expect(parseGoogleRanges(doc)).toEqual({ ranges: ['2001:4860:4801:10::/64', '66.249.64.0/27'], creationTime: '2026-08-21T14:45:42.000000' });
    expect(() => parseGoogleRanges({ prefixes: [] })).toThrow(/empty/);
    expect(() => parseGoogleRanges({ prefixes: [{ service: 'x' }] })).toThrow(/not an IP range/);
    expect(() => parseGoogleRanges('<html>')).toThrow(/prefixes/);
  });

  it("reads the first column of Apple's CSV, and fails on a bad row", () => {
    const csv = '\uFEFF172.224.224.0/27,GB,GB-EN,London,\r\n2a02:26f7:b3c0:4000::/64,GB,GB-EN,London,\r\n\r\n104.28.28.0/26,US,US-CA,Los Angeles,\n';
    expect(parseAppleCsv(csv)).toEqual(['172.224.224.0/27', '2a02:26f7:b3c0:4000::/64', '104.28.28.0/26']);
    expect(() => parseAppleCsv('172.224.224.0/27,GB\n<html>oops</html>\n')).toThrow(/line 2/);
    expect(() => parseAppleCsv('')).toThrow(/no rows/);
  });

  it('reads SPF records: passing ip4/ip6, includes, redirect; not -ip4, all or names', () => {
    expect(parseSpfRecord('v=spf1 ip4:195.130.217.0/24 +ip4:91.220.42.0/24 -ip4:10.0.0.0/8 ip6:2001:db8::/32 include:eu._netblocks.mimecast.com a:mail.example mx ~all')).toEqual({
      ranges: ['195.130.217.0/24', '91.220.42.0/24', '2001:db8::/32'],
      includes: ['eu._netblocks.mimecast.com'],
      unsupported: ['a:mail.example', 'mx'],
    });
    expect(parseSpfRecord('v=spf1 redirect=_spf.example.com').redirect).toBe('_spf.example.com');
    expect(() => parseSpfRecord('google-site-verification=abc')).toThrow(/not an SPF record/);
  });

  it('reads "CIDR: range" items from a page', () => {
    const html = '<p>Ports 443/tcp ... ranges: CIDR: 62.209.50.0/24 <br>CIDR:&nbsp;<b>91.209.104.0/24</b> CIDR: 67.231.144.0/20</p>';
    expect(parseHtmlCidrs(html, 'CIDR:')).toEqual(['62.209.50.0/24', '91.209.104.0/24', '67.231.144.0/20']);
    expect(() => parseHtmlCidrs('<p>maintenance</p>', 'CIDR:')).toThrow(/no "CIDR: <range>"/);
  });
});

describe('refresh run', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function copies() {
    const dir = await mkdtemp(join(tmpdir(), 'clicktrail-networks-'));
    dirs.push(dir);
    const scannerPath = join(dir, 'scanner-networks.json');
    const applePath = join(dir, 'apple-relay.json');
    await copyFile(fileURLToPath(SCANNER_NETWORKS_FILE), scannerPath);
    await copyFile(fileURLToPath(APPLE_RELAY_FILE), applePath);
    return { scannerPath, applePath };
  }

  const json = (v: unknown) => new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });
  const shippedApple = readNetworkFile(APPLE_RELAY_FILE).services[0]!.ranges;
  const shippedFetchers = scannerService('google-user-fetchers')!.ranges;

  it('renews what it can read, keeps the rest, and says which', async () => {
    const { scannerPath, applePath } = await copies();
    const log: string[] = [];
    const txt: Record<string, string[][]> = {
      '_netblocks.mimecast.com': [['v=spf1 include:eu._netblocks.mimecast.com ', 'include:us._netblocks.mimecast.com ~all'], ['some-verification=1']],
      'eu._netblocks.mimecast.com': [['v=spf1 ip4:195.130.217.0/24 ip4:91.220.42.0/24 ~all']],
      'us._netblocks.mimecast.com': [['v=spf1 ip4:205.139.110.0/24 ip4:216.205.24.0/24 ~all']],
    };
    const deps: RefreshDeps = {
      today: '2027-01-15',
      log: (l) => log.push(l),
      resolveTxt: async (name) => {
        const r = txt[name];
        if (!r) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        return r;
      },
      fetch: async (url) => {
        if (url.startsWith('https://endpoints.office.com/endpoints/worldwide?clientrequestid=')) return json(endpointsSample);
        if (url.startsWith('https://endpoints.office.com/version/Worldwide?clientrequestid=')) return json({ instance: 'Worldwide', latest: '2027010100' });
        if (url.endsWith('/user-triggered-fetchers.json')) {
          const prefixes = [...shippedFetchers, '203.0.113.0/24'].map((r) => (r.includes(':') ? { ipv6Prefix: r } : { ipv4Prefix: r }));
          return json({ creationTime: '2027-01-15T00:00:00', prefixes });
        }
        if (url.endsWith('/common-crawlers.json')) return new Response('gone', { status: 404 });
        if (url === 'https://mask-api.icloud.com/egress-ip-ranges.csv') return new Response([...shippedApple, '192.0.2.0/24'].map((r) => `${r},US,US-CA,Somewhere,`).join('\n'));
        if (url.startsWith('https://proofpoint.my.site.com/')) return new Response('<div>CIDR: 62.209.50.0/24 CIDR: 208.84.64.0/22</div>');
        throw new TypeError(`fetch failed: ${url}`);
      },
    };
    expect(await refreshFiles([scannerPath, applePath], deps)).toBe(0);

    const after = JSON.parse(await readFile(scannerPath, 'utf8')) as NetworkFile;
    const svc = (id: string) => after.services.find((s) => s.id === id)!;
    const shipped = (id: string) => scannerNetworkData().services.find((s) => s.id === id)!;
    expect(after.generated).toBe('2027-01-15');

    const eop = svc('microsoft-eop');
    expect(eop.ranges).toContain('2a01:111:f40f::/48');
    expect(eop.sources[0]).toMatchObject({ url: 'https://endpoints.office.com/endpoints/worldwide', read: '2027-01-15', version: '2027010100' });
    expect(eop.sources[0]!.via).toBeUndefined();
    expect(eop.sources[1]!.read).toBe(shipped('microsoft-eop').sources[1]!.read); // not re-read: date kept

    // One of its two files failed: the whole service keeps its shipped list and dates.
    expect(svc('google-crawlers')).toEqual(shipped('google-crawlers'));
    expect(svc('google-user-fetchers').ranges).toContain('203.0.113.0/24');
    expect(svc('google-user-fetchers').ranges.length).toBe(shippedFetchers.length + 1);
    expect(svc('google-user-fetchers').sources[0]).toMatchObject({ read: '2027-01-15', creationTime: '2027-01-15T00:00:00' });
    // Mimecast's usb include doesn't resolve: kept.
    expect(svc('mimecast')).toEqual(shipped('mimecast'));
    expect(svc('barracuda-egd')).toEqual(shipped('barracuda-egd'));
    // A page that still lists its items, but fewer addresses than half of before, is refused.
    expect(svc('proofpoint')).toEqual(shipped('proofpoint'));

    const relay = (JSON.parse(await readFile(applePath, 'utf8')) as NetworkFile).services[0]!;
    expect(relay.ranges.length).toBe(shippedApple.length + 1);
    expect(relay.sources[0]).toMatchObject({ url: 'https://mask-api.icloud.com/egress-ip-ranges.csv', read: '2027-01-15' });

    const text = log.join('\n');
    expect(text).toMatch(/microsoft-eop: updated, 7 -> 8 ranges \(2027010100\)/);
    expect(text).toMatch(/google-crawlers: FAILED: .*HTTP 404; kept the shipped list/);
    expect(text).toMatch(/mimecast: FAILED: queryTxt ENOTFOUND usb\._netblocks\.mimecast\.com; kept/);
    expect(text).toMatch(/proofpoint: FAILED: IPv4 addresses would fall/);
    expect(text).toMatch(/barracuda-egd: kept as shipped .*check by hand/);
    expect(text).toMatch(/apple-private-relay: updated/);
  });

  it('exits non-zero only when every source failed, and then leaves the files alone', async () => {
    const { scannerPath, applePath } = await copies();
    const before = [await readFile(scannerPath, 'utf8'), await readFile(applePath, 'utf8')];
    const log: string[] = [];
    const offline: RefreshDeps = {
      today: '2027-01-15',
      log: (l) => log.push(l),
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
      resolveTxt: async (name) => {
        throw new Error(`queryTxt ECONNREFUSED ${name}`);
      },
    };
    expect(await refreshFiles([scannerPath, applePath], offline)).toBe(1);
    expect([await readFile(scannerPath, 'utf8'), await readFile(applePath, 'utf8')]).toEqual(before);
    expect(log.join('\n')).toMatch(/all failed/);
  });
});
