import { createIsbotFromList, list } from 'isbot';
import type { BotReason } from '../../api/types.ts';
import { loadAppleRelay, loadScannerNetworks, NetworkList } from './networks/networks.ts';

/** What a hit says about itself. */
export interface HitSignals {
  method: string;
  userAgent: string;
  /** Purpose / Sec-Purpose / X-Purpose / X-Moz header, lower-cased. */
  purpose: string;
  /** Accept-Language; every browser a person uses sends one. */
  acceptLanguage: string;
  /** The whole address: held in memory for the decision, only its network is stored. */
  ip: string | null;
  /** The mail-security service whose network the address is in (scannerNetwork()), if any. */
  network: string | null;
  at: number;
  /** When the message went to this recipient (null: never sent, e.g. a preview). */
  sentAt: number | null;
  scannerWindowMs: number;
}

/** Image proxies that fetch when the reader opens the mail: a real open, just not from the reader's address. */
const OPENING_PROXIES = /GoogleImageProxy|YahooMailProxy/i;

function requestReason(s: HitSignals): BotReason | null {
  if (s.method === 'HEAD') return 'head';
  if (s.purpose.includes('prefetch') || s.purpose.includes('preview')) return 'prefetch';
  return null;
}

// isbot 5.2 misses these page testers, screenshotters and IDE fetchers (crawler-user-agents lists them).
const isbot = createIsbotFromList([...list, 'gtmetrix', 'miniature\\.io', 'ylt chrome', 'tsm-turingos', ' code/\\d', ' trae/']);

/** What a user agent's text says, worked out once: the same few agents click most links, and isbot's pattern is long. */
interface AgentFacts {
  bot: boolean;
  headless: boolean;
  /** The browser's release train and major version, when it is on one. */
  train: (typeof RELEASE_TRAINS)[number] | null;
  major: number;
}

const agents = new Map<string, AgentFacts>();
function agentFacts(userAgent: string): AgentFacts {
  let facts = agents.get(userAgent);
  if (facts === undefined) {
    facts = { bot: !userAgent || isbot(userAgent), headless: /headless/i.test(userAgent), train: null, major: 0 };
    for (const train of RELEASE_TRAINS) {
      const m = train.engine.exec(userAgent);
      if (!m) continue;
      facts.train = train;
      facts.major = Number(m[1]);
      break;
    }
    if (agents.size >= 10_000) agents.clear();
    agents.set(userAgent, facts);
  }
  return facts;
}

const isBotAgent = (userAgent: string) => agentFacts(userAgent).bot;

const tooSoon = (s: HitSignals) => s.sentAt !== null && s.at - s.sentAt < s.scannerWindowMs;

const builtInScanners = loadScannerNetworks();
const appleRelay = loadAppleRelay();
// The settings' own list, built again only when the setting changes.
let extraScanners: { ranges: readonly string[]; list: NetworkList } | null = null;

/**
 * The mail-security service whose network an address is in: the built-in lists (each with its
 * published source, server/tracking/networks/), then settings.scannerNetworks ('settings').
 */
export function scannerNetwork(ip: string | null, settingsRanges: readonly string[]): string | null {
  if (!ip) return null;
  const builtIn = builtInScanners.match(ip);
  if (builtIn || settingsRanges.length === 0) return builtIn;
  if (extraScanners?.ranges !== settingsRanges) {
    extraScanners = { ranges: settingsRanges, list: new NetworkList(settingsRanges.map((range) => ({ range, service: 'settings' }))) };
  }
  return extraScanners.list.match(ip);
}

/**
 * A click's verdict from the request alone (the recipient's recent history is judged by
 * RecentHits). A scanner's network is a verdict: nothing in one request can show a person
 * behind it, and identifying someone from a gateway's fetch is the harm to avoid.
 */
export function clickReason(s: HitSignals): BotReason | null {
  return (
    requestReason(s) ??
    (isBotAgent(s.userAgent) ? 'bot-ua' : null) ??
    (s.network ? 'scanner-network' : null) ??
    (tooSoon(s) ? 'too-soon' : null)
  );
}

/** Why a hit that passed as a browser's still looks like a machine's: not enough alone, a second opinion. */
export type MachineHint = 'no-accept-language' | 'old-browser' | 'headless';

const DAY = 86_400_000;
/**
 * Browsers update themselves every four weeks; a version two years behind is what scanners
 * pin (Safe Links has been seen with Chrome 57), not what a person runs. The current major is
 * reckoned from release dates, so the rule does not age.
 */
const RELEASE_TRAINS: { engine: RegExp; major: number; at: number }[] = [
  // Chrome for iOS (CriOS) is WebKit and lags with the App Store: not what scanners pin.
  { engine: /Chrome\/(\d+)/, major: 120, at: Date.UTC(2023, 11, 5) },
  { engine: /(?:Firefox|FxiOS)\/(\d+)/, major: 121, at: Date.UTC(2023, 11, 19) },
];
const OLD_VERSIONS = 26; // about two years of four-week releases

function isOldBrowser(userAgent: string, at: number): boolean {
  const { train, major } = agentFacts(userAgent);
  if (!train) return false;
  const current = train.major + Math.floor((at - train.at) / (28 * DAY));
  return major <= current - OLD_VERSIONS;
}

/** The first thing about a browser-looking request that a person's browser would not do. */
export function machineHint(s: HitSignals): MachineHint | null {
  if (agentFacts(s.userAgent).headless) return 'headless';
  if (!s.acceptLanguage) return 'no-accept-language';
  if (isOldBrowser(s.userAgent, s.at)) return 'old-browser';
  return null;
}

export function openReason(s: HitSignals): BotReason | null {
  const fromRequest = requestReason(s);
  if (fromRequest) return fromRequest;
  // Mail Privacy Protection preloads every image, read or not, with a bare "Mozilla/5.0",
  // through iCloud Private Relay's egress (Apple's published list).
  if (s.userAgent === 'Mozilla/5.0' || appleRelay.match(s.ip)) return 'apple-mpp';
  if (OPENING_PROXIES.test(s.userAgent)) return null;
  if (isBotAgent(s.userAgent)) return 'bot-ua';
  if (s.network) return 'scanner-network';
  return tooSoon(s) ? 'too-soon' : null;
}
