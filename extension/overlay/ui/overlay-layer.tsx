import type { LinkHeat } from '../link-heat.ts';
import { HoverCard } from './hover-card.tsx';
import { badgeNumber } from '../badge-numbers.ts';
import { Legend, type LegendProps } from './legend.tsx';

/** The translucent band around a link, outside it (overlay-styles.ts draws it as the box's border): the link itself stays as its author made it. */
const BAND = 3;

export interface PaintedLink {
  /** The whole link, for placing the hover card. */
  rect: DOMRect;
  /** One per line the link runs over, so a wrapped link is painted as text, not as the block around it. */
  lines: DOMRect[];
  heat: LinkHeat;
}

export interface OverlayLayerProps extends Omit<LegendProps, 'placement'> {
  links: PaintedLink[];
  hovered: number | null;
  viewport: { width: number; height: number };
  /** Where the legend sits over the mail; null when it is docked beside it instead (the message view). */
  placement: LegendProps['placement'] | null;
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
                left: `${line.left - BAND}px`,
                top: `${line.top - BAND}px`,
                width: `${line.width + 2 * BAND}px`,
                height: `${line.height + 2 * BAND}px`,
              }}
            >
              {j === 0 && (
                <span class={heat.clicks ? 'badge' : 'badge cold'} data-link-id={heat.linkId} data-rank={heat.rank}>
                  {badgeNumber(heat, props.badge)}
                </span>
              )}
            </div>
          )),
        )}
      {visible && hover && <HoverCard rect={hover.rect} heat={hover.heat} viewport={props.viewport} shows={props.badge} />}
      {props.placement && <Legend {...props} placement={props.placement} />}
    </div>
  );
}
