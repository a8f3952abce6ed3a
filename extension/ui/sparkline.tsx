import type { MessageStats } from '../../api/types.ts';
import { humanClicks } from './numbers.ts';

const HOUR = 3_600_000;
/** The chart always spans at least a day, so a message clicked only this hour shows one bar at the end, not a wall. */
const MIN_HOURS = 24;
const MAX_HOURS = 96;

/** Clicks per hour as columns: people in orange, suspected bots stacked on top in grey. */
export function Sparkline({ timeline, width = 120, height = 32, now = Date.now() }: { timeline: MessageStats['timeline']; width?: number; height?: number; now?: number }) {
  const byHour = new Map(timeline.map((t) => [Date.parse(t.hour), t]));
  const last = Math.max(Math.floor(now / HOUR) * HOUR, ...byHour.keys());
  const first = Math.min(...byHour.keys(), last);
  const hours = Math.min(MAX_HOURS, Math.max(MIN_HOURS, Math.round((last - first) / HOUR) + 1));
  const buckets = Array.from({ length: hours }, (_, i) => byHour.get(last - (hours - 1 - i) * HOUR) ?? { human: 0, bot: 0 });
  const max = Math.max(1, ...buckets.map((b) => b.human + b.bot));
  const step = width / hours;
  const bar = Math.max(1, step - 1);
  const scale = (v: number) => (v / max) * (height - 2);
  const total = timeline.reduce((s, t) => s + t.human, 0);
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${humanClicks(total)} over the last ${hours} hours`}>
      <line x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} stroke="#d1d9e0" />
      {buckets.map((b, i) => {
        const h = scale(b.human);
        const bot = scale(b.bot);
        return (
          <g key={i}>
            {b.human > 0 && <rect class="human" x={i * step} y={height - 1 - h} width={bar} height={h} fill="#e8590c" rx="1" />}
            {b.bot > 0 && <rect class="bot" x={i * step} y={height - 1 - h - bot} width={bar} height={bot} fill="#afb8c1" rx="1" />}
          </g>
        );
      })}
    </svg>
  );
}
