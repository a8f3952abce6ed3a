import { readFileSync } from 'node:fs';

/**
 * Which published network an address belongs to: mail-security scanners, crawlers, Apple's relay.
 *
 * The lists are data (scanner-networks.json, apple-relay.json beside this file, see README.md);
 * this file only answers "which service's range holds this address?" quickly, since it runs on
 * every click. Both families are kept as sorted, disjoint intervals searched by bisection:
 * IPv4 as one 32-bit number, IPv6 as four 32-bit words, so no BigInt and no allocation per lookup.
 * An IPv4-mapped IPv6 address (::ffff:1.2.3.4 or ::ffff:102:304) is looked up as the IPv4 address.
 */

export interface NetworkEntry {
  /** A CIDR block ("40.92.0.0/15", "2a01:111:f400::/48") or a single address. */
  range: string;
  /** What match() returns for an address inside it: the service id. */
  service: string;
}

/** One service's list as stored in the JSON files. */
export interface NetworkService {
  id: string;
  name: string;
  /** "scanner" (mail security), "crawler" (published automated fetchers), "apple-relay". */
  kind: string;
  /** What the published list is, and what that does and doesn't tell about a hit from it. */
  basis?: string;
  sources: { url: string; read: string; [k: string]: unknown }[];
  /** How refresh.ts renews this list (see RefreshSpec there); null: it can't, the shipped list is kept. */
  refresh?: { type: string; [k: string]: unknown } | null;
  notes?: string[];
  ranges: string[];
}

export interface NetworkFile {
  generated: string;
  notes?: string[];
  services: NetworkService[];
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Parsing, without allocating: match() runs on every click.

/** Dotted-quad IPv4 in s[from, to) as an unsigned number, or -1. Leading zeros are refused (octal?). */
function parseV4(s: string, from: number, to: number): number {
  let acc = 0;
  let val = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return -1;
      val = val * 10 + (c - 48);
      if (val > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      acc = acc * 256 + val;
      dots++;
      val = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return acc * 256 + val;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/** IPv6 text (RFC 4291 forms, embedded IPv4 tail, zone id ignored) into four 32-bit words. */
function parseV6(s: string, out: Uint32Array): boolean {
  let end = s.length;
  const zone = s.indexOf('%');
  if (zone >= 0) end = zone;
  if (end < 2) return false;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let j = i;
    let val = 0;
    let digits = 0;
    while (j < end) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      if (++digits > 4) return false;
      val = val * 16 + h;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // The last 32 bits written as IPv4.
      if (n > 6) return false;
      const v4 = parseV4(s, i, end);
      if (v4 < 0) return false;
      groups[n++] = Math.floor(v4 / 65536);
      groups[n++] = v4 % 65536;
      i = end;
      break;
    }
    if (digits === 0 || n === 8) return false;
    groups[n++] = val;
    if (j === end) break;
    if (s.charCodeAt(j) !== 58) return false;
    j++;
    if (j < end && s.charCodeAt(j) === 58) {
      if (gap >= 0) return false;
      gap = n;
      j++;
    } else if (j === end) {
      return false;
    }
    i = j;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const fill = 8 - n;
  let w = 0;
  for (let k = 0; k < 8; k++) {
    let g: number;
    if (gap < 0 || k < gap) g = groups[k]!;
    else if (k < gap + fill) g = 0;
    else g = groups[k - fill]!;
    if (k & 1) out[k >> 1] = w * 65536 + g;
    else w = g;
  }
  return true;
}

const scratch = new Uint32Array(4);

// ---------------------------------------------------------------------------------------------
// CIDR blocks, exact (BigInt): for building lists and for refresh.ts, not for lookups.

export interface Cidr {
  family: 4 | 6;
  /** First and last address of the block. */
  start: bigint;
  end: bigint;
  bits: number;
}

function wordsToBig(w: Uint32Array): bigint {
  return (BigInt(w[0]!) << 96n) | (BigInt(w[1]!) << 64n) | (BigInt(w[2]!) << 32n) | BigInt(w[3]!);
}

const MAPPED_PREFIX = 0xffffn << 32n;

/**
 * A CIDR block or a single address, or null if it is neither. Host bits below the prefix are
 * cleared ("10.1.2.3/8" is 10.0.0.0/8). A block inside ::ffff:0:0/96 is taken as the IPv4 block
 * it maps, since match() looks mapped addresses up as IPv4.
 */
export function parseCidr(range: string): Cidr | null {
  if (typeof range !== 'string') return null;
  const text = range.trim();
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  let family: 4 | 6;
  let value: bigint;
  const v4 = parseV4(addr, 0, addr.length);
  if (v4 >= 0) {
    family = 4;
    value = BigInt(v4);
  } else if (addr.indexOf('%') < 0 && parseV6(addr, scratch)) {
    family = 6;
    value = wordsToBig(scratch);
  } else {
    return null;
  }
  const width = family === 4 ? 32 : 128;
  let bits = width;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(len)) return null;
    bits = Number(len);
    if (bits > width) return null;
  }
  const hostBits = BigInt(width - bits);
  const start = (value >> hostBits) << hostBits;
  const end = start | ((1n << hostBits) - 1n);
  if (family === 6 && bits >= 96 && start >> 32n === MAPPED_PREFIX >> 32n) {
    return { family: 4, start: start & 0xffffffffn, end: end & 0xffffffffn, bits: bits - 96 };
  }
  return { family, start, end, bits };
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${Math.floor(n / 16777216)}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
  }
  const g: number[] = [];
  for (let k = 7; k >= 0; k--) g.push(Number((value >> BigInt(k * 16)) & 0xffffn));
  // RFC 5952: the longest run of two or more zero groups becomes "::", the first if tied.
  let bestAt = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestAt = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.family, c.start)}/${c.bits}`;
}

/**
 * The same addresses as the given ranges in the fewest CIDR blocks, IPv4 first, each family in
 * address order (what Python's ipaddress.collapse_addresses gives). Throws on a range it can't read.
 */
export function collapseRanges(ranges: Iterable<string>): string[] {
  const out: string[] = [];
  for (const family of [4, 6] as const) {
    const width = family === 4 ? 32 : 128;
    const blocks: Cidr[] = [];
    for (const r of ranges) {
      const c = parseCidr(r);
      if (!c) throw new Error(`not an IP range: ${JSON.stringify(r)}`);
      if (c.family === family) blocks.push(c);
    }
    blocks.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let i = 0;
    while (i < blocks.length) {
      let start = blocks[i]!.start;
      let end = blocks[i]!.end;
      i++;
      while (i < blocks.length && blocks[i]!.start <= end + 1n) {
        if (blocks[i]!.end > end) end = blocks[i]!.end;
        i++;
      }
      // Cut [start, end] into the largest aligned blocks.
      while (start <= end) {
        let bits = width;
        while (bits > 0) {
          const size = 1n << BigInt(width - bits + 1);
          if (start % size !== 0n || start + size - 1n > end) break;
          bits--;
        }
        const size = 1n << BigInt(width - bits);
        out.push(formatCidr({ family, start, end: start + size - 1n, bits }));
        start += size;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Block extends Cidr {
  svc: number;
  order: number;
}

/**
 * CIDR blocks are nested or disjoint, so one pass over them sorted (start, widest first) cuts
 * them into disjoint intervals where the innermost block names the service; the same block
 * listed twice keeps its first service.
 */
function paint(blocks: Block[]): { start: bigint; end: bigint; svc: number }[] {
  blocks.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.bits - b.bits || a.order - b.order));
  const out: { start: bigint; end: bigint; svc: number }[] = [];
  const emit = (start: bigint, end: bigint, svc: number) => {
    if (start > end) return;
    const last = out[out.length - 1];
    if (last && last.svc === svc && last.end + 1n === start) last.end = end;
    else out.push({ start, end, svc });
  };
  const stack: (Block & { cursor: bigint })[] = [];
  const pop = () => {
    const t = stack.pop()!;
    emit(t.cursor, t.end, t.svc);
    const parent = stack[stack.length - 1];
    if (parent) parent.cursor = t.end + 1n;
  };
  for (const b of blocks) {
    while (stack.length && stack[stack.length - 1]!.end < b.start) pop();
    const top = stack[stack.length - 1];
    if (top) {
      if (top.start === b.start && top.end === b.end) continue;
      emit(top.cursor, b.start - 1n, top.svc);
      top.cursor = b.start;
    }
    stack.push({ ...b, cursor: b.start });
  }
  while (stack.length) pop();
  return out;
}

export class NetworkList {
  readonly #services: string[] = [];
  readonly #v4Start: Uint32Array;
  readonly #v4End: Uint32Array;
  readonly #v4Svc: Uint16Array;
  readonly #v6Start: Uint32Array;
  readonly #v6End: Uint32Array;
  readonly #v6Svc: Uint16Array;
  /** How many ranges went in. */
  readonly size: number;

  /** Throws on a range that is not a CIDR block or an address: a bad list should fail loudly. */
  constructor(entries: Iterable<NetworkEntry>) {
    const ids = new Map<string, number>();
    const v4: Block[] = [];
    const v6: Block[] = [];
    let order = 0;
    for (const { range, service } of entries) {
      const c = parseCidr(range);
      if (!c) throw new Error(`not an IP range: ${JSON.stringify(range)} (${service})`);
      let svc = ids.get(service);
      if (svc === undefined) {
        svc = this.#services.length;
        if (svc > 0xffff) throw new Error('too many services');
        ids.set(service, svc);
        this.#services.push(service);
      }
      (c.family === 4 ? v4 : v6).push({ ...c, svc, order: order++ });
    }
    this.size = order;

    const s4 = paint(v4);
    this.#v4Start = new Uint32Array(s4.length);
    this.#v4End = new Uint32Array(s4.length);
    this.#v4Svc = new Uint16Array(s4.length);
    s4.forEach((s, i) => {
      this.#v4Start[i] = Number(s.start);
      this.#v4End[i] = Number(s.end);
      this.#v4Svc[i] = s.svc;
    });

    const s6 = paint(v6);
    this.#v6Start = new Uint32Array(s6.length * 4);
    this.#v6End = new Uint32Array(s6.length * 4);
    this.#v6Svc = new Uint16Array(s6.length);
    s6.forEach((s, i) => {
      for (let k = 0; k < 4; k++) {
        const shift = BigInt(96 - 32 * k);
        this.#v6Start[i * 4 + k] = Number((s.start >> shift) & 0xffffffffn);
        this.#v6End[i * 4 + k] = Number((s.end >> shift) & 0xffffffffn);
      }
      this.#v6Svc[i] = s.svc;
    });
  }

  /** A list of every range of the given services, each range answering with its service's id. */
  static fromServices(services: Iterable<NetworkService>): NetworkList {
    const entries: NetworkEntry[] = [];
    for (const s of services) for (const range of s.ranges) entries.push({ range, service: s.id });
    return new NetworkList(entries);
  }

  /** The ids of the services in this list, in the order they first appeared. */
  get services(): readonly string[] {
    return this.#services;
  }

  /** The id of the service whose range holds this address; null for none, or for anything not an address. */
  match(ip: string | null | undefined): string | null {
    if (typeof ip !== 'string' || ip.length === 0) return null;
    const v4 = parseV4(ip, 0, ip.length);
    if (v4 >= 0) return this.#match4(v4);
    if (!parseV6(ip, scratch)) return null;
    if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) return this.#match4(scratch[3]!);
    return this.#match6(scratch);
  }

  #match4(ip: number): string | null {
    const starts = this.#v4Start;
    let lo = 0;
    let hi = starts.length - 1;
    // The last interval starting at or below ip.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || this.#v4End[hi]! < ip) return null;
    return this.#services[this.#v4Svc[hi]!]!;
  }

  #match6(w: Uint32Array): string | null {
    const starts = this.#v6Start;
    let lo = 0;
    let hi = this.#v6Svc.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare6(starts, mid * 4, w) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || compare6(this.#v6End, hi * 4, w) < 0) return null;
    return this.#services[this.#v6Svc[hi]!]!;
  }
}

/** The address at words[at..at+4) against w: negative, zero, positive. */
function compare6(words: Uint32Array, at: number, w: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const d = words[at + k]! - w[k]!;
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The shipped lists, read once.

export const SCANNER_NETWORKS_FILE = new URL('./scanner-networks.json', import.meta.url);
export const APPLE_RELAY_FILE = new URL('./apple-relay.json', import.meta.url);

export function readNetworkFile(file: URL | string): NetworkFile {
  const data = JSON.parse(readFileSync(file, 'utf8')) as NetworkFile;
  if (!data || !Array.isArray(data.services)) throw new Error(`${String(file)}: no "services" list`);
  return data;
}

let scannerData: NetworkFile | undefined;
let scannerList: NetworkList | undefined;
let appleList: NetworkList | undefined;

/** The shipped scanner-networks.json, parsed (services, their kinds, sources and notes). */
export function scannerNetworkData(): NetworkFile {
  return (scannerData ??= readNetworkFile(SCANNER_NETWORKS_FILE));
}

/**
 * Mail-security scanners' and published crawlers' networks. match() gives the service id
 * ("microsoft-eop", "barracuda-egd", "mimecast", "proofpoint", "google-crawlers",
 * "google-user-fetchers"); scannerService(id) tells its kind and what its list means.
 */
export function loadScannerNetworks(): NetworkList {
  return (scannerList ??= NetworkList.fromServices(scannerNetworkData().services));
}

export function scannerService(id: string): NetworkService | undefined {
  return scannerNetworkData().services.find((s) => s.id === id);
}

/** iCloud Private Relay's egress ranges (Mail Privacy Protection's fetches): match() gives "apple-private-relay". */
export function loadAppleRelay(): NetworkList {
  return (appleList ??= NetworkList.fromServices(readNetworkFile(APPLE_RELAY_FILE).services));
}
