import { isbot } from 'isbot';
import type { BotReason } from '../../api/types.ts';
import { isAppleNetwork } from './client-ip.ts';

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

// isbot's pattern is long and the same few agents click most links: remember its verdicts.
const botAgents = new Map<string, boolean>();
function isBotAgent(userAgent: string): boolean {
  let verdict = botAgents.get(userAgent);
  if (verdict === undefined) {
    verdict = !userAgent || isbot(userAgent);
    if (botAgents.size >= 10_000) botAgents.clear();
    botAgents.set(userAgent, verdict);
  }
  return verdict;
}

const tooSoon = (s: HitSignals) => s.sentAt !== null && s.at - s.sentAt < s.scannerWindowMs;

/** A click's verdict from the request alone (the recipient's recent history is judged by RecentHits). */
export function clickReason(s: HitSignals): BotReason | null {
  return requestReason(s) ?? (isBotAgent(s.userAgent) ? 'bot-ua' : null) ?? (tooSoon(s) ? 'too-soon' : null);
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
  { engine: /(?:Chrome|CriOS)\/(\d+)/, major: 120, at: Date.UTC(2023, 11, 5) },
  { engine: /(?:Firefox|FxiOS)\/(\d+)/, major: 121, at: Date.UTC(2023, 11, 19) },
];
const OLD_VERSIONS = 26; // about two years of four-week releases

function isOldBrowser(userAgent: string, at: number): boolean {
  for (const train of RELEASE_TRAINS) {
    const m = train.engine.exec(userAgent);
    if (!m) continue;
    const current = train.major + Math.floor((at - train.at) / (28 * DAY));
    return Number(m[1]) <= current - OLD_VERSIONS;
  }
  return false;
}

/** The first thing about a browser-looking request that a person's browser would not do. */
export function machineHint(s: HitSignals): MachineHint | null {
  if (/headless/i.test(s.userAgent)) return 'headless';
  if (!s.acceptLanguage) return 'no-accept-language';
  if (isOldBrowser(s.userAgent, s.at)) return 'old-browser';
  return null;
}

export function openReason(s: HitSignals): BotReason | null {
  const fromRequest = requestReason(s);
  if (fromRequest) return fromRequest;
  // Mail Privacy Protection preloads every image, read or not, with a bare "Mozilla/5.0".
  if (s.userAgent === 'Mozilla/5.0' || isAppleNetwork(s.ip)) return 'apple-mpp';
  if (OPENING_PROXIES.test(s.userAgent)) return null;
  if (isBotAgent(s.userAgent)) return 'bot-ua';
  return tooSoon(s) ? 'too-soon' : null;
}
