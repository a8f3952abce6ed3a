import type { LinkHeat } from '../overlay/link-heat.ts';
import { mergeTagsAsText, MergeTagText } from '../ui/merge-tag-text.tsx';
import { downloadCsv, type CsvCell } from './csv.ts';

/** The Links CSV; the share is a number rounded to 4 places, not a string, so it stays a number. */
export function linkCsvRows(rows: readonly LinkHeat[], hidden = 0): CsvCell[][] {
  return [
    ['link id', 'text', 'url', 'human clicks', 'people', 'suspected-bot hits', 'share of clicks'],
    ...rows.map((h) => [h.linkId, h.text, h.url, h.clicks, h.unique, h.bot, Math.round(h.share * 10_000) / 10_000]),
    // The honeypot's hits, so the column adds up to the message's suspected-bot hits.
    ...(hidden > 0 ? [['', HIDDEN_LINK, '', 0, 0, hidden, 0]] : []),
  ];
}

const HIDDEN_LINK = 'hidden link (no person can see it)';

export function LinkTable({ heats, subject, hidden = 0 }: { heats: LinkHeat[]; subject: string; hidden?: number }) {
  const rows = [...heats].sort((a, b) => b.clicks - a.clicks);
  const exportCsv = () => downloadCsv(`${mergeTagsAsText(subject)} - links.csv`, linkCsvRows(rows, hidden));
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
            <th class="num" title="Suspected-bot hits on this link">Bot hits</th>
            <th class="num">Share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => (
            <tr key={h.linkId} data-link-id={h.linkId}>
              <td class="text" title={mergeTagsAsText(h.url)}>
                <span class="swatch" style={{ background: h.colour }} />
                <MergeTagText text={h.text || h.url} />
              </td>
              <td class="num clicks">{h.clicks}</td>
              <td class="num">{h.unique}</td>
              <td class="num">{h.bot}</td>
              <td class="num">{Math.round(h.share * 100)}%</td>
            </tr>
          ))}
          {hidden > 0 && (
            <tr class="hidden-link" title="Every mail carries a link no person can see: whatever follows it is a machine">
              <td class="text muted">{HIDDEN_LINK}</td>
              <td class="num">0</td>
              <td class="num">0</td>
              <td class="num">{hidden}</td>
              <td class="num">—</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
