import { describe, expect, it } from 'vitest';
import { GOALS, isMadeUpChrome, measureAccuracy } from '../../bench/accuracy.ts';

/**
 * classify.ts against public real-world data shipped in npm packages (user-agents,
 * crawler-user-agents): real browsers sent as a person's click must pass, crawlers must not.
 */
describe('click classification accuracy on real user agents', () => {
  const report = measureAccuracy();

  it(`calls at most ${GOALS.browsersCalledBots * 100}% of real browsers' clicks bots`, () => {
    expect(report.browsers.total).toBeGreaterThanOrEqual(10_000);
    expect(report.browsers.share, JSON.stringify(report.browsers.botExamples, null, 1)).toBeLessThanOrEqual(
      GOALS.browsersCalledBots,
    );
  });

  it(`misses at most ${GOALS.crawlersMissed * 100}% of crawler instances`, () => {
    expect(report.crawlers.total).toBeGreaterThan(1_000);
    expect(report.crawlers.share, JSON.stringify(report.crawlers.missedExamples, null, 1)).toBeLessThanOrEqual(
      GOALS.crawlersMissed,
    );
  });

  it('tells a made-up Chrome version from a real one (the bench uses it to judge the old-browser hint)', () => {
    const chrome = (version: string) =>
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Safari/537.36`;
    expect(isMadeUpChrome(chrome('53.0.7149.1690'))).toBe(true); // Chrome 53 was build 2785
    expect(isMadeUpChrome(chrome('56.0.3101.1819'))).toBe(true); // four-digit patch
    expect(isMadeUpChrome(chrome('133.0.6943.141'))).toBe(false);
    expect(isMadeUpChrome(chrome('69.0.3497.128'))).toBe(false);
    expect(isMadeUpChrome(chrome('142.0.0.0'))).toBe(false); // reduced UA
  });
});
