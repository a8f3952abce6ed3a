import { isbot } from 'isbot';
import type { BotReason } from '../../api/types.ts';
import { isAppleNetwork } from './client-ip.ts';

/** What a hit says about itself. */
export interface HitSignals {
  method: string;
  userAgent: string;
  /** Purpose / Sec-Purpose / X-Purpose / X-Moz header, lower-cased. */
  purpose: string;
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

export function openReason(s: HitSignals): BotReason | null {
  const fromRequest = requestReason(s);
  if (fromRequest) return fromRequest;
  // Mail Privacy Protection preloads every image, read or not, with a bare "Mozilla/5.0".
  if (s.userAgent === 'Mozilla/5.0' || isAppleNetwork(s.ip)) return 'apple-mpp';
  if (OPENING_PROXIES.test(s.userAgent)) return null;
  if (isBotAgent(s.userAgent)) return 'bot-ua';
  return tooSoon(s) ? 'too-soon' : null;
}
