import type { LinkHeat } from '../link-heat.ts';
import type { BadgeShows } from '../badge-numbers.ts';
import { botHits } from '../../ui/numbers.ts';
import { MergeTagText } from '../../ui/merge-tag-text.tsx';

const CARD_WIDTH = 280;
const CARD_ROOM = 260;

function when(iso: string | null): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Who clicked a link; the number its badge shows stands out. Everything from the server is rendered as text nodes by Preact, never as HTML. */
export function HoverCard({ rect, heat, viewport, shows }: { rect: DOMRect; heat: LinkHeat; viewport: { width: number; height: number }; shows: BadgeShows }) {
  const view = rect.bottom + CARD_ROOM < viewport.height ? rect.bottom + 8 : Math.max(8, rect.top - CARD_ROOM);
  const left = Math.max(8, Math.min(rect.left, viewport.width - CARD_WIDTH - 8));
  return (
    <div class="card" role="tooltip" data-link-id={heat.linkId} style={{ left: `${left}px`, top: `${view}px` }}>
      <h3>
        <MergeTagText text={heat.text || heat.url} />
      </h3>
      <div class="url">
        <MergeTagText text={heat.url} />
      </div>
      <div class="numbers">
        <span class={shows === 'clicks' ? 'shown' : undefined}>
          <b>{heat.clicks}</b> {heat.clicks === 1 ? 'click' : 'clicks'}
        </span>
        <span class={shows === 'people' ? 'shown' : undefined}>
          <b>{heat.unique}</b> {heat.unique === 1 ? 'person' : 'people'}
        </span>
        <span class={shows === 'share' ? 'shown' : undefined}>
          <b>{Math.round(heat.share * 100)}%</b> of clicks
        </span>
      </div>
      {heat.people.length ? (
        <ul>
          {heat.people.map((p) => (
            <li class="person" key={p.who}>
              <span class="who">{p.who}</span>
              <span class="when">
                ×{p.count} · {when(p.lastAt)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <div class="none">Nobody has clicked this link yet.</div>
      )}
      <div class="bots">{botHits(heat.bot)} on this link set apart</div>
    </div>
  );
}
