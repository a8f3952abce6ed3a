/**
 * The heat of a link: its share of the message's human clicks, on a sequential
 * yellow-to-red scale (ColorBrewer YlOrRd, which stays readable for the common forms of
 * colour blindness and in greyscale). Bot hits never heat a link.
 */

const STOPS: readonly [number, number, number][] = [
  [255, 237, 160],
  [254, 178, 76],
  [253, 141, 60],
  [240, 59, 32],
  [189, 0, 38],
];

/** A link nobody (human) clicked: grey, so "cold" and "no data" don't look alike. */
export const NO_CLICKS_COLOUR = '#adb5bd';

export function heatShare(linkClicks: number, messageClicks: number): number {
  if (!(messageClicks > 0) || !(linkClicks > 0)) return 0;
  return Math.min(1, linkClicks / messageClicks);
}

const hex = (n: number) => Math.round(n).toString(16).padStart(2, '0');

/** The colour for a share in [0, 1]; out-of-range input is clamped, a share of 0 is grey. */
export function heatColour(share: number): string {
  if (!(share > 0)) return NO_CLICKS_COLOUR;
  const t = Math.min(1, share) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t));
  const f = t - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  return `#${[0, 1, 2].map((k) => hex(a[k]! + (b[k]! - a[k]!) * f)).join('')}`;
}

/** The scale as a CSS gradient, for the legend bar (0% at the left, 100% at the right). */
export function heatGradientCss(): string {
  const stops = STOPS.map((c, i) => `rgb(${c.join(',')}) ${(i / (STOPS.length - 1)) * 100}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
