import { heatGradientCss, NO_CLICKS_COLOUR } from '../heat-scale.ts';
import { describeClicks, type MessageTotals } from '../../ui/numbers.ts';
import { BADGE_CHOICES, type BadgeShows } from '../badge-numbers.ts';
import type { LegendPlacement } from '../legend-placement.ts';

export interface LegendProps {
  visible: boolean;
  subjects: string[];
  totals: MessageTotals;
  badge: BadgeShows;
  /** In a corner over the mail, or docked: in the page beside it (the message view). */
  placement: LegendPlacement | { corner: 'docked'; expanded: boolean; crowded: false };
  onBadge(shows: BadgeShows): void;
  /** Folds (true) or unfolds the legend. */
  onFold(collapsed: boolean): void;
  onToggle(): void;
  onClose(): void;
}

/** What the paint means, the switch for what the badges count, the message's totals; folds to a tab. */
export function Legend({ visible, subjects, totals, badge, placement, onBadge, onFold, onToggle, onClose }: LegendProps) {
  const choice = BADGE_CHOICES.find((c) => c.shows === badge)!;
  const docked = placement.corner === 'docked';
  if (!placement.expanded) {
    return (
      <div class={`legend collapsed ${placement.corner}`} role="region" aria-label="Clicktrail heatmap legend" data-corner={placement.corner}>
        <button
          type="button"
          class="unfold"
          aria-expanded="false"
          title={placement.crowded ? 'Folded to keep clear of the mail’s links and footer' : 'Show the legend'}
          onClick={() => onFold(false)}
        >
          <i style={{ background: heatGradientCss() }} /> Heat: {choice.label.toLowerCase()}
        </button>
      </div>
    );
  }
  return (
    <div class={`legend ${placement.corner}`} role="region" aria-label="Clicktrail heatmap legend" data-corner={placement.corner}>
      <header>
        <strong>Clicktrail heat</strong>
        <span>
          <button type="button" class="toggle" onClick={onToggle}>
            {visible ? 'Hide' : 'Show'}
          </button>
          <button type="button" class="fold" aria-expanded="true" aria-label="Fold the legend" title="Fold the legend" onClick={() => onFold(true)}>
            –
          </button>
          {!docked && (
            <button type="button" class="close" aria-label="Remove overlay" onClick={onClose}>
              ×
            </button>
          )}
        </span>
      </header>
      {/* Docked, it sits under the page's own heading. */}
      {!docked &&
        subjects.map((s) => (
          <div class="subject" title={s} key={s}>
            {s}
          </div>
        ))}
      <div class="badge-switch" role="radiogroup" aria-label="Badges show">
        {BADGE_CHOICES.map((c) => (
          <button type="button" role="radio" key={c.shows} data-shows={c.shows} aria-checked={c.shows === badge} onClick={() => onBadge(c.shows)}>
            {c.label}
          </button>
        ))}
      </div>
      <div class="badge-meaning">{choice.meaning}</div>
      <div class="bar" style={{ background: heatGradientCss() }} />
      <div class="scale">
        <span>0%</span>
        <span>colour: share of human clicks</span>
        <span>100%</span>
      </div>
      <div class="nodata">
        <i style={{ background: NO_CLICKS_COLOUR }} /> no human clicks
      </div>
      <div class="totals">{describeClicks({ total: totals.clicks, unique: totals.people, bot: totals.bot }, totals.hidden)}</div>
    </div>
  );
}
