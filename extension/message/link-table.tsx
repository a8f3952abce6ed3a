import type { LinkHeat } from '../overlay/link-heat.ts';
import { downloadCsv, type CsvCell } from './csv.ts';

/** The Links CSV; the share is a number rounded to 4 places, not a string, so it stays a number. */
export function linkCsvRows(rows: readonly LinkHeat[]): CsvCell[][] {
  return [
    ['link id', 'text', 'url', 'human clicks', 'people', 'suspected bots', 'share of clicks'],
    ...rows.map((h) => [h.linkId, h.text, h.url, h.clicks, h.unique, h.bot, Math.round(h.share * 10_000) / 10_000]),
  ];
}

export function LinkTable({ heats, subject }: { heats: LinkHeat[]; subject: string }) {
  const rows = [...heats].sort((a, b) => b.clicks - a.clicks);
  const exportCsv = () => downloadCsv(`${subject} - links.csv`, linkCsvRows(rows));
  return (
    <section class="links">
      <h2>
        Links <button type="button" onClick={exportCsv}>Export CSV</button>
      </h2>
      <table>
        <thead>
          <tr>
            <th>Link</th>
            <th class="num">Clicks</th>
            <th class="num">People</th>
            <th class="num">Bots</th>
            <th class="num">Share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => (
            <tr key={h.linkId} data-link-id={h.linkId}>
              <td class="text" title={h.url}>
                <span class="swatch" style={{ background: h.colour }} />
                {h.text || h.url}
              </td>
              <td class="num clicks">{h.clicks}</td>
              <td class="num">{h.unique}</td>
              <td class="num">{h.bot}</td>
              <td class="num">{Math.round(h.share * 100)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
