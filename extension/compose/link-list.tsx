import type { LinkPlacement } from '../../api/types.ts';
import { plural } from '../ui/numbers.ts';
import { UNTRACKED } from '../ui/reasons.ts';

/** The "Links" section: every link of the saved draft, numbered as in the preview, tracked or not and why. */
export function LinkList({ links }: { links: LinkPlacement[] }) {
  const tracked = links.filter((l) => l.tracked).length;
  return (
    <section class="links" aria-labelledby="links-title">
      <h2 id="links-title">
        Links <span class="count">{`${tracked} of ${plural(links.length, 'link')} tracked`}</span>
      </h2>
      {links.length === 0 ? (
        <p class="muted">No links in this mail.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th class="num">#</th>
              <th>Link</th>
              <th>Tracked</th>
            </tr>
          </thead>
          <tbody>
            {[...links]
              .sort((a, b) => a.position - b.position)
              .map((l) => (
                <tr key={l.id} data-link-id={l.id} class={l.tracked ? 'tracked' : 'untracked'}>
                  <td class="num">{l.position + 1}</td>
                  <td class="text" title={l.url}>
                    <div>{l.text || l.url}</div>
                    <div class="url muted">
                      {l.url}
                      {l.part === 'text' && ' (plain text only)'}
                    </div>
                  </td>
                  <td class="mark">
                    {l.tracked ? <span class="ok">✓ tracked</span> : <span class="muted">not tracked: {l.reason ? UNTRACKED[l.reason] : 'left as written'}</span>}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
