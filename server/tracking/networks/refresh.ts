/**
 * Renews the shipped network lists from their publishers:  npm run networks:refresh [-- --dry-run]
 *
 * For each service in scanner-networks.json and apple-relay.json whose "refresh" says how, it
 * downloads the vendor's own publication, parses it, and rewrites the service's ranges (collapsed)
 * and its source's "read" date. A service whose source fails (network, HTTP status, a format that
 * no longer parses, a list that suddenly lost more than half its addresses) keeps its shipped list,
 * and the run says so. Services published only as web pages for people ("refresh": null) are kept
 * as shipped and listed, to be checked by hand. Exit status 1 only if every refreshable source failed.
 *
 *   microsoft-endpoints  Microsoft 365 IP web service JSON, chosen endpoint sets
 *   google-json          Google's {"creationTime", "prefixes": [{"ipv4Prefix"|"ipv6Prefix"}]} files
 *   apple-csv            Apple's egress-ip-ranges.csv: prefix,country,region,city,
 *   spf                  SPF TXT records, followed through include: and redirect=
 *   html-cidr            a vendor web page listing "CIDR: a.b.c.d/n" items
 */
import { randomUUID } from 'node:crypto';
import { resolveTxt as dnsResolveTxt } from 'node:dns/promises';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { APPLE_RELAY_FILE, collapseRanges, parseCidr, SCANNER_NETWORKS_FILE, type NetworkFile, type NetworkService } from './networks.ts';

export type RefreshSpec =
  | { type: 'microsoft-endpoints'; instance: string; ids: number[] }
  | { type: 'google-json'; urls: string[] }
  | { type: 'apple-csv'; url: string }
  | { type: 'spf'; domains: string[] }
  | { type: 'html-cidr'; url: string; label: string };

export interface RefreshDeps {
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  resolveTxt: (name: string) => Promise<string[][]>;
  /** The date written as "read" and "generated", YYYY-MM-DD. */
  today: string;
  log: (line: string) => void;
  timeoutMs?: number;
}

type Source = NetworkService['sources'][number];

interface Fetched {
  ranges: string[];
  /** What was read: merged into the service's sources by url. */
  sources: Source[];
}

// ---------------------------------------------------------------------------------------------
// Formats. Each parser throws when the document is not what it should be.

/** The ips of the given endpoint sets of the Microsoft 365 web service's /endpoints answer. */
export function parseMicrosoftEndpoints(json: unknown, ids: readonly number[]): string[] {
  if (!Array.isArray(json)) throw new Error('endpoints: expected a JSON array of endpoint sets');
  const ranges: string[] = [];
  for (const id of ids) {
    const set = json.find((e) => e && typeof e === 'object' && (e as { id?: unknown }).id === id) as
      | { serviceArea?: unknown; ips?: unknown }
      | undefined;
    if (!set) throw new Error(`endpoints: endpoint set ${id} is missing`);
    // Ids are stable; if one ever moved to another workload, these would no longer be EOP's.
    if (set.serviceArea !== 'Exchange') throw new Error(`endpoints: set ${id} is serviceArea ${String(set.serviceArea)}, not Exchange`);
    if (!Array.isArray(set.ips) || set.ips.length === 0) throw new Error(`endpoints: set ${id} lists no ips`);
    for (const ip of set.ips) ranges.push(checkRange(ip, `endpoints set ${id}`));
  }
  return ranges;
}

/** Google's ipranges JSON files (googlebot/common-crawlers, special-crawlers, user-triggered-fetchers, goog.json...). */
export function parseGoogleRanges(json: unknown): { ranges: string[]; creationTime?: string } {
  const doc = json as { creationTime?: unknown; prefixes?: unknown };
  if (!doc || !Array.isArray(doc.prefixes)) throw new Error('google: no "prefixes" array');
  const ranges = doc.prefixes.map((p: { ipv4Prefix?: unknown; ipv6Prefix?: unknown }) =>
    checkRange(p?.ipv4Prefix ?? p?.ipv6Prefix, 'google prefix'),
  );
  if (!ranges.length) throw new Error('google: "prefixes" is empty');
  return typeof doc.creationTime === 'string' ? { ranges, creationTime: doc.creationTime } : { ranges };
}

/** Apple's egress-ip-ranges.csv: the first column of every row (prefix,country,region,city,postal). */
export function parseAppleCsv(text: string): string[] {
  const ranges: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const prefix = line.slice(0, line.includes(',') ? line.indexOf(',') : line.length).trim();
    ranges.push(checkRange(prefix, `csv line ${i + 1}`));
  });
  if (!ranges.length) throw new Error('csv: no rows');
  return ranges;
}

/** One SPF record's designated networks and where it points (RFC 7208). Names (a, mx, ptr, exists) can't become ranges. */
export function parseSpfRecord(record: string): { ranges: string[]; includes: string[]; redirect?: string; unsupported: string[] } {
  const terms = record.trim().split(/\s+/);
  if (!/^v=spf1$/i.test(terms[0] ?? '')) throw new Error(`not an SPF record: ${record.slice(0, 60)}`);
  const ranges: string[] = [];
  const includes: string[] = [];
  const unsupported: string[] = [];
  let redirect: string | undefined;
  for (const raw of terms.slice(1)) {
    const qualified = /^[-+~?]/.test(raw);
    const qualifier = qualified ? raw[0] : '+';
    const term = qualified ? raw.slice(1) : raw;
    const lower = term.toLowerCase();
    if (lower.startsWith('redirect=')) redirect = term.slice(9);
    else if (lower.startsWith('exp=') || /^[a-z][a-z0-9._-]*=/.test(lower)) continue;
    else if (lower === 'all' || qualifier !== '+') continue; // only "pass" mechanisms name senders
    else if (lower.startsWith('ip4:') || lower.startsWith('ip6:')) ranges.push(checkRange(term.slice(4), 'spf'));
    else if (lower.startsWith('include:')) includes.push(term.slice(8));
    else unsupported.push(term);
  }
  return redirect === undefined ? { ranges, includes, unsupported } : { ranges, includes, redirect, unsupported };
}

/** CIDR blocks written after a label ("CIDR: 67.231.144.0/20") anywhere in a page, tags and &nbsp; skipped. */
export function parseHtmlCidrs(html: string, label: string): string[] {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}(?:\\s|&nbsp;|&#160;|<[^>]*>)*([0-9A-Fa-f.:]+/\\d{1,3})`, 'g');
  const ranges = [...html.matchAll(re)].map((m) => checkRange(m[1], 'page'));
  if (!ranges.length) throw new Error(`page: no "${label} <range>" items found (has the page changed?)`);
  return ranges;
}

function checkRange(value: unknown, where: string): string {
  if (typeof value !== 'string' || !parseCidr(value)) throw new Error(`${where}: not an IP range: ${JSON.stringify(value)}`);
  return value.trim();
}

// ---------------------------------------------------------------------------------------------

async function get(deps: RefreshDeps, url: string): Promise<Response> {
  const res = await deps.fetch(url, {
    headers: { 'user-agent': 'clicktrail-networks-refresh (+npm run networks:refresh)' },
    signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function getJson(deps: RefreshDeps, url: string): Promise<unknown> {
  const res = await get(deps, url);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url}: not JSON (${text.slice(0, 40).replace(/\s+/g, ' ')}...)`);
  }
}

async function spfRanges(deps: RefreshDeps, domain: string, seen: Set<string>): Promise<string[]> {
  const key = domain.toLowerCase().replace(/\.$/, '');
  if (seen.has(key)) return [];
  seen.add(key);
  if (seen.size > 20) throw new Error(`spf: more than 20 records under ${[...seen][0]}`);
  const records = (await deps.resolveTxt(key)).map((chunks) => chunks.join('')).filter((r) => /^v=spf1(\s|$)/i.test(r));
  if (records.length !== 1) throw new Error(`spf: ${key} has ${records.length} SPF records`);
  const rec = parseSpfRecord(records[0]!);
  if (rec.unsupported.length) deps.log(`  note: ${key}: ignored ${rec.unsupported.join(' ')} (names, not ranges)`);
  const ranges = [...rec.ranges];
  for (const inc of rec.includes) ranges.push(...(await spfRanges(deps, inc, seen)));
  if (rec.redirect) ranges.push(...(await spfRanges(deps, rec.redirect, seen)));
  return ranges;
}

async function fetchService(spec: RefreshSpec, deps: RefreshDeps): Promise<Fetched> {
  const read = deps.today;
  switch (spec.type) {
    case 'microsoft-endpoints': {
      // Microsoft asks every caller for a client request id (a GUID); the answer is the same for all.
      const id = randomUUID();
      const base = `https://endpoints.office.com/endpoints/${spec.instance.toLowerCase()}`;
      const ranges = parseMicrosoftEndpoints(await getJson(deps, `${base}?clientrequestid=${id}`), spec.ids);
      const source: Source = { url: base, read };
      try {
        const v = (await getJson(deps, `https://endpoints.office.com/version/${spec.instance}?clientrequestid=${id}`)) as { latest?: unknown };
        if (typeof v?.latest === 'string') source.version = v.latest;
      } catch (e) {
        deps.log(`  note: endpoints version not read: ${(e as Error).message}`);
      }
      return { ranges, sources: [source] };
    }
    case 'google-json': {
      const ranges: string[] = [];
      const sources: Source[] = [];
      for (const url of spec.urls) {
        const doc = parseGoogleRanges(await getJson(deps, url));
        ranges.push(...doc.ranges);
        sources.push(doc.creationTime ? { url, read, creationTime: doc.creationTime } : { url, read });
      }
      return { ranges, sources };
    }
    case 'apple-csv':
      return { ranges: parseAppleCsv(await (await get(deps, spec.url)).text()), sources: [{ url: spec.url, read }] };
    case 'spf': {
      const ranges: string[] = [];
      const seen = new Set<string>();
      for (const d of spec.domains) ranges.push(...(await spfRanges(deps, d, seen)));
      if (!ranges.length) throw new Error(`spf: ${spec.domains.join(', ')} name no ranges`);
      return { ranges, sources: spec.domains.map((d) => ({ url: `dns:TXT ${d}`, read })) };
    }
    case 'html-cidr':
      return { ranges: parseHtmlCidrs(await (await get(deps, spec.url)).text(), spec.label), sources: [{ url: spec.url, read }] };
    default:
      throw new Error(`unknown refresh type ${JSON.stringify((spec as { type?: unknown }).type)}`);
  }
}

function addressCount(ranges: readonly string[], family: 4 | 6): bigint {
  let n = 0n;
  for (const r of ranges) {
    const c = parseCidr(r);
    if (c && c.family === family) n += c.end - c.start + 1n;
  }
  return n;
}

/** A download that lost most of a list is more likely a broken source than a vendor leaving its network. */
function checkShrink(before: readonly string[], after: readonly string[]): void {
  for (const family of [4, 6] as const) {
    const was = addressCount(before, family);
    const now = addressCount(after, family);
    if (was > 0n && now * 2n < was) {
      throw new Error(`IPv${family} addresses would fall from ${was} to ${now}; refused (check the source by hand, or remove the old ranges from the file)`);
    }
  }
}

export type ServiceResult =
  | { id: string; status: 'updated' | 'unchanged'; before: number; after: number }
  | { id: string; status: 'failed'; reason: string }
  | { id: string; status: 'manual' };

function describeRead(s: NetworkService): string {
  return [...new Set(s.sources.map((x) => x.read))].join(', ') || 'unknown';
}

/** Refreshes every service of one parsed file in place; returns what happened to each. */
export async function refreshFile(file: NetworkFile, deps: RefreshDeps): Promise<ServiceResult[]> {
  const results: ServiceResult[] = [];
  for (const service of file.services) {
    const spec = service.refresh as RefreshSpec | null | undefined;
    if (!spec) {
      deps.log(`${service.id}: kept as shipped (read ${describeRead(service)}): published only as a page for people; check by hand`);
      results.push({ id: service.id, status: 'manual' });
      continue;
    }
    try {
      const fetched = await fetchService(spec, deps);
      const ranges = collapseRanges(fetched.ranges);
      checkShrink(service.ranges, ranges);
      const before = service.ranges.length;
      const same = ranges.length === before && ranges.every((r, i) => r === service.ranges[i]);
      service.ranges = ranges;
      for (const src of fetched.sources) {
        const old = service.sources.find((s) => s.url === src.url);
        if (old) {
          delete old.via; // read from the publisher itself now
          Object.assign(old, src);
        } else {
          service.sources.push(src);
        }
      }
      const status = same ? 'unchanged' : 'updated';
      const extra = fetched.sources.map((s) => s.version ?? s.creationTime).filter(Boolean);
      deps.log(`${service.id}: ${status}, ${before} -> ${ranges.length} ranges${extra.length ? ` (${extra.join(', ')})` : ''}`);
      results.push({ id: service.id, status, before, after: ranges.length });
    } catch (e) {
      const reason = (e as Error).message;
      deps.log(`${service.id}: FAILED: ${reason}; kept the shipped list (read ${describeRead(service)})`);
      results.push({ id: service.id, status: 'failed', reason });
    }
  }
  return results;
}

export function formatNetworkFile(file: NetworkFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Refreshes the given files and rewrites those with at least one service read afresh.
 * Returns the exit status: 1 if every refreshable service failed, else 0.
 */
export async function refreshFiles(paths: readonly (string | URL)[], deps: RefreshDeps, opts: { dryRun?: boolean } = {}): Promise<number> {
  let refreshable = 0;
  let failed = 0;
  for (const path of paths) {
    const name = typeof path === 'string' ? path : fileURLToPath(path);
    const file = JSON.parse(await readFile(path, 'utf8')) as NetworkFile;
    deps.log(`== ${name}`);
    const results = await refreshFile(file, deps);
    const ok = results.filter((r) => r.status === 'updated' || r.status === 'unchanged').length;
    refreshable += results.filter((r) => r.status !== 'manual').length;
    failed += results.filter((r) => r.status === 'failed').length;
    if (ok === 0) {
      deps.log(`   nothing read afresh; ${name} left as it was`);
      continue;
    }
    file.generated = deps.today;
    if (opts.dryRun) {
      deps.log(`   --dry-run: ${name} not written`);
      continue;
    }
    const tmp = `${name}.tmp-${process.pid}`;
    await writeFile(tmp, formatNetworkFile(file));
    await rename(tmp, name);
    deps.log(`   wrote ${name}`);
  }
  const code = refreshable > 0 && failed === refreshable ? 1 : 0;
  deps.log(
    failed === 0
      ? 'done.'
      : `done: ${failed} of ${refreshable} refreshable source(s) failed and kept their shipped lists${code ? '; all failed (no network?)' : ''}.`,
  );
  return code;
}

export async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--dry-run');
  if (unknown.length) {
    console.error(`usage: npm run networks:refresh [-- --dry-run]   (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  return refreshFiles([SCANNER_NETWORKS_FILE, APPLE_RELAY_FILE], {
    fetch: (url, init) => fetch(url, init),
    resolveTxt: dnsResolveTxt,
    today: new Date().toISOString().slice(0, 10),
    log: (line) => console.log(line),
  }, { dryRun: argv.includes('--dry-run') });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
