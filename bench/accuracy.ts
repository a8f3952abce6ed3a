/**
 * npm run accuracy: how well classify.ts tells people's clicks from machines', against public
 * real-world data shipped in npm packages (no network at run time):
 *   - user-agents: real-traffic browser profiles (its dist/user-agents.json, every entry, in file
 *     order, so runs repeat) sent as a person's click: none should be called a bot;
 *   - crawler-user-agents: every `instances` string of every crawler: all should be.
 * It is a report and exits 0; test/server/accuracy.test.ts asserts the goals.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clickReason, machineHint, type HitSignals, type MachineHint } from '../server/tracking/classify.ts';

export const GOALS = { browsersCalledBots: 0.001, crawlersMissed: 0.005 } as const;

const require = createRequire(import.meta.url);

interface UserAgentEntry {
  userAgent: string;
  weight: number;
}
interface CrawlerEntry {
  pattern: string;
  instances: string[];
}

/** Neither package exports its package.json: find it beside the resolved entry point. */
function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

function loadUserAgents(): { version: string; entries: UserAgentEntry[] } {
  const dist = dirname(require.resolve('user-agents')); // …/user-agents/dist/index.cjs
  const entries = JSON.parse(readFileSync(join(dist, 'user-agents.json'), 'utf8')) as UserAgentEntry[];
  return { version: packageVersion(dirname(dist)), entries };
}

function loadCrawlers(): { version: string; entries: CrawlerEntry[] } {
  const file = require.resolve('crawler-user-agents'); // …/crawler-user-agents/crawler-user-agents.json
  const entries = JSON.parse(readFileSync(file, 'utf8')) as CrawlerEntry[];
  return { version: packageVersion(dirname(file)), entries };
}

/** A person's click an hour after delivery, from a browser that says what language it reads. */
function personClick(userAgent: string, at: number): HitSignals {
  return {
    method: 'GET',
    userAgent,
    purpose: '',
    acceptLanguage: 'en-US,en;q=0.9',
    ip: '198.51.100.7',
    network: null,
    at,
    sentAt: at - 3_600_000,
    scannerWindowMs: 10_000,
  };
}

const major = (ua: string, engine: RegExp) => {
  const m = engine.exec(ua);
  return m ? Number(m[1]) : null;
};
const CHROME = /(?:Chrome|CriOS)\/(\d+)/;
const FIREFOX = /(?:Firefox|FxiOS)\/(\d+)/;

/** Chromium build numbers (MAJOR.0.BUILD.PATCH) of a few majors; they rise steadily in between. */
const CHROME_BUILDS: [number, number][] = [
  [40, 2214], [60, 3112], [80, 3987], [100, 4896], [120, 6099], [130, 6723], [140, 7339],
];
function expectedBuild(major: number): number {
  const [first] = CHROME_BUILDS;
  let [m0, b0] = first!;
  for (const [m1, b1] of CHROME_BUILDS.slice(1)) {
    if (major <= m1) return b0 + ((b1 - b0) * (major - m0)) / (m1 - m0);
    [m0, b0] = [m1, b1];
  }
  return b0 + 62 * (major - m0);
}
/**
 * For judging the old-browser hint, not for the classifier: a Chrome UA whose build number does
 * not belong to its major (Chrome/53.0.7149.1690: Chrome 53 was build 2785), or a four-digit patch,
 * was made up by a UA generator, so it is a machine's even inside "real traffic" data.
 */
export function isMadeUpChrome(userAgent: string): boolean {
  const m = /(?:Chrome|CriOS)\/(\d+)\.0\.(\d+)\.(\d+)/.exec(userAgent);
  if (!m || m[2] === '0') return false; // reduced UAs say MAJOR.0.0.0
  // Patch numbers stay in the hundreds; generators pick any four digits.
  return Math.abs(Number(m[2]) - expectedBuild(Number(m[1]))) > 200 || Number(m[3]) >= 1000;
}

export interface AccuracyReport {
  at: number;
  browsers: {
    source: string;
    /** Entries measured (profiles; the same UA string can appear in several). */
    total: number;
    distinct: number;
    calledBots: number;
    share: number;
    /** The same, weighted by the package's own traffic weights. */
    weightedShare: number;
    reasons: Record<string, number>;
    botExamples: string[];
    hints: Record<MachineHint, number>;
    hintShare: number;
    /** old-browser hints on UAs with a made-up Chrome build (see isMadeUpChrome): machines in the data. */
    oldMadeUp: number;
    /** old-browser hints on plausible UAs: the ones that may be people on a stale browser. */
    oldPlausible: number;
    /** Up to 10 distinct hinted UAs, plausible ones first. */
    hintExamples: { hint: MachineHint; userAgent: string; madeUp: boolean }[];
    newestChrome: number | null;
    newestFirefox: number | null;
    /** Where the old-browser rule drew its line in this data: newest major flagged, oldest not. */
    chromeFlaggedUpTo: number | null;
    firefoxFlaggedUpTo: number | null;
  };
  crawlers: {
    source: string;
    patterns: number;
    total: number;
    missed: number;
    share: number;
    missedExamples: { pattern: string; userAgent: string; hint: MachineHint | null }[];
    /** Misses that machineHint would at least flag. */
    missedWithHint: number;
  };
}

export function measureAccuracy(options: { at?: number; sample?: number } = {}): AccuracyReport {
  const at = options.at ?? Date.now();
  const ua = loadUserAgents();
  const sample = options.sample ? ua.entries.slice(0, options.sample) : ua.entries;

  const reasons: Record<string, number> = {};
  const hints: Record<MachineHint, number> = { headless: 0, 'no-accept-language': 0, 'old-browser': 0 };
  const botExamples = new Set<string>();
  const plausibleExamples = new Map<string, MachineHint>();
  const madeUpExamples = new Map<string, MachineHint>();
  let oldMadeUp = 0;
  let calledBots = 0;
  let hinted = 0;
  let botWeight = 0;
  let totalWeight = 0;
  let newestChrome: number | null = null;
  let newestFirefox: number | null = null;
  let chromeFlaggedUpTo: number | null = null;
  let firefoxFlaggedUpTo: number | null = null;

  for (const { userAgent, weight } of sample) {
    const signals = personClick(userAgent, at);
    const reason = clickReason(signals);
    totalWeight += weight;
    if (reason) {
      calledBots++;
      botWeight += weight;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      if (botExamples.size < 10) botExamples.add(userAgent);
    }
    const hint = machineHint(signals);
    const chrome = major(userAgent, CHROME);
    const firefox = chrome === null ? major(userAgent, FIREFOX) : null;
    if (chrome !== null) newestChrome = Math.max(newestChrome ?? 0, chrome);
    if (firefox !== null) newestFirefox = Math.max(newestFirefox ?? 0, firefox);
    if (hint) {
      hinted++;
      hints[hint]++;
      const madeUp = isMadeUpChrome(userAgent);
      if (hint === 'old-browser' && madeUp) oldMadeUp++;
      const examples = madeUp ? madeUpExamples : plausibleExamples;
      if (examples.size < 10 && (hint === 'old-browser' || hint === 'headless')) examples.set(userAgent, hint);
      if (hint === 'old-browser' && chrome !== null) chromeFlaggedUpTo = Math.max(chromeFlaggedUpTo ?? 0, chrome);
      if (hint === 'old-browser' && firefox !== null) firefoxFlaggedUpTo = Math.max(firefoxFlaggedUpTo ?? 0, firefox);
    }
  }

  const crawlers = loadCrawlers();
  const missedExamples: AccuracyReport['crawlers']['missedExamples'] = [];
  let total = 0;
  let missed = 0;
  let missedWithHint = 0;
  for (const { pattern, instances } of crawlers.entries) {
    for (const userAgent of instances) {
      total++;
      const signals = personClick(userAgent, at);
      if (clickReason(signals)) continue;
      missed++;
      const hint = machineHint(signals);
      if (hint) missedWithHint++;
      if (missedExamples.length < 15) missedExamples.push({ pattern, userAgent, hint });
    }
  }

  return {
    at,
    browsers: {
      source: `user-agents@${ua.version}`,
      total: sample.length,
      distinct: new Set(sample.map((e) => e.userAgent)).size,
      calledBots,
      share: calledBots / sample.length,
      weightedShare: totalWeight ? botWeight / totalWeight : 0,
      reasons,
      botExamples: [...botExamples],
      hints,
      hintShare: hinted / sample.length,
      oldMadeUp,
      oldPlausible: hints['old-browser'] - oldMadeUp,
      hintExamples: [
        // up to 7 that may be people, then made-up ones to fill 10
        ...[...plausibleExamples].slice(0, 7).map(([userAgent, hint]) => ({ hint, userAgent, madeUp: false })),
        ...[...madeUpExamples].map(([userAgent, hint]) => ({ hint, userAgent, madeUp: true })),
      ].slice(0, 10),
      newestChrome,
      newestFirefox,
      chromeFlaggedUpTo,
      firefoxFlaggedUpTo,
    },
    crawlers: {
      source: `crawler-user-agents@${crawlers.version}`,
      patterns: crawlers.entries.length,
      total,
      missed,
      share: total ? missed / total : 0,
      missedExamples,
      missedWithHint,
    },
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatReport(r: AccuracyReport): string {
  const b = r.browsers;
  const c = r.crawlers;
  const lines = [
    '== accuracy ==',
    `real browsers (${b.source}, ${b.total} UAs, ${b.distinct} distinct): called bots ${b.calledBots} ` +
      `(${pct(b.share)}, weighted ${pct(b.weightedShare)}, goal ≤ ${pct(GOALS.browsersCalledBots)})` +
      `   machine hint: old-browser ${b.hints['old-browser']}, headless ${b.hints.headless}` +
      `, no-accept-language ${b.hints['no-accept-language']} (${pct(b.hintShare)})`,
    `  old-browser: ${b.oldMadeUp} have a made-up Chrome version (build not their major's, or a 4-digit patch: ` +
      `machines in the data), ${b.oldPlausible} plausible (${pct(b.oldPlausible / b.total)}: maybe people on a stale browser)`,
  ];
  if (b.calledBots) lines.push(`  called bots (${JSON.stringify(b.reasons)}):`, ...b.botExamples.map((u) => `    ${u}`));
  lines.push(
    `  newest in data: Chrome ${b.newestChrome ?? '-'}, Firefox ${b.newestFirefox ?? '-'}; ` +
      `old-browser flagged up to Chrome ${b.chromeFlaggedUpTo ?? '-'}, Firefox ${b.firefoxFlaggedUpTo ?? '-'} ` +
      `(at ${new Date(r.at).toISOString().slice(0, 10)})`,
  );
  if (b.hintExamples.length) lines.push('  hinted:', ...b.hintExamples.map((h) => `    ${h.hint}${h.madeUp ? ' (made-up build)' : ''}: ${h.userAgent}`));
  lines.push(
    `crawlers (${c.source}, ${c.total} instances of ${c.patterns} patterns): missed ${c.missed} ` +
      `(${pct(c.share)}, goal ≤ ${pct(GOALS.crawlersMissed)}), of which machineHint flags ${c.missedWithHint}`,
  );
  if (c.missedExamples.length) {
    lines.push(
      '  missed:',
      ...c.missedExamples.map((m) => `    [${m.pattern}]${m.hint ? ` (hint: ${m.hint})` : ''} ${m.userAgent}`),
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatReport(measureAccuracy()));
}
