import type { LinkHeat } from '../link-heat.ts';
import { heatGradientCss, NO_CLICKS_COLOUR } from '../heat-scale.ts';
import { HoverCard } from './hover-card.tsx';
import { botHits, humanClicks, type MessageTotals } from '../../ui/numbers.ts';

export interface PaintedLink {
  /** The whole link, for placing the hover card. */
  rect: DOMRect;
  /** One per line the link runs over, so a wrapped link is painted as text, not as the block around it. */
  lines: DOMRect[];
  heat: LinkHeat;
}

export interface OverlayLayerProps {
  links: PaintedLink[];
  hovered: number | null;
  viewport: { width: number; height: number };
  visible: boolean;
  subjects: string[];
  totals: MessageTotals;
  onToggle(): void;
  onClose(): void;
}

export function OverlayLayer(props: OverlayLayerProps) {
  const { links, hovered, visible } = props;
  const hover = hovered === null ? undefined : links[hovered];
  return (
    <div class="layer">
      {visible &&
        links.map(({ lines, heat }, i) =>
          lines.map((line, j) => (
            <div
              key={`${i}:${j}`}
              class="box"
              style={{
                '--heat': heat.colour,
                left: `${line.left - 2}px`,
                top: `${line.top - 2}px`,
                width: `${line.width + 4}px`,
                height: `${line.height + 4}px`,
              }}
            >
              {j === 0 && (
                <span class={heat.clicks ? 'badge' : 'badge cold'} data-link-id={heat.linkId} data-rank={heat.rank}>
                  {heat.clicks}
                </span>
              )}
            </div>
          )),
        )}
      {visible && hover && <HoverCard rect={hover.rect} heat={hover.heat} viewport={props.viewport} />}
      <Legend {...props} />
    </div>
  );
}

function Legend({ visible, subjects, totals, onToggle, onClose }: OverlayLayerProps) {
  return (
    <div class="legend" role="region" aria-label="Clicktrail heatmap legend">
      <header>
        <strong>Clicktrail heat</strong>
        <span>
          <button type="button" class="toggle" onClick={onToggle}>
            {visible ? 'Hide' : 'Show'}
          </button>
          <button type="button" class="close" aria-label="Remove overlay" onClick={onClose}>
            ×
          </button>
        </span>
      </header>
      {subjects.map((s) => (
        <div class="subject" title={s} key={s}>
          {s}
        </div>
      ))}
      <div class="bar" style={{ background: heatGradientCss() }} />
      <div class="scale">
        <span>0%</span>
        <span>share of human clicks</span>
        <span>100%</span>
      </div>
      <div class="nodata">
        <i style={{ background: NO_CLICKS_COLOUR }} /> no human clicks
      </div>
      <div class="totals">
        <span class="human">{humanClicks(totals.clicks)}</span> · <span class="bot">{botHits(totals.bot)} set apart</span>
        {totals.hidden > 0 && <span class="hidden"> ({totals.hidden} on the hidden link)</span>}
      </div>
    </div>
  );
}
