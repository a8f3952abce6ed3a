import { useId } from 'preact/hooks';
import type { SendWarning, TagWarning } from '../../api/types.ts';
import { plural } from '../ui/numbers.ts';

const MEANING: Record<TagWarning['reason'] | SendWarning['reason'], string> = {
  foreign: 'not a Clicktrail tag: it goes out as written, and a link holding it is not tracked',
  attribute: 'filled from each recipient’s attribute of that name; left as written for anyone without one',
  missing: 'went out empty for recipients with no value for it',
  'not-an-attribute': 'no recipient has this attribute, so it went out as written (write {{attributes.X}} to make it ours)',
};

/** The draft's tags worth a look before sending (compose), or what a send found missing (send). */
export function ComposeWarnings({ warnings, title = 'Warnings' }: { warnings: readonly (TagWarning | SendWarning)[]; title?: string }) {
  const titleId = useId();
  if (!warnings.length) return null;
  return (
    <section class="warnings" aria-labelledby={titleId}>
      <h2 id={titleId}>
        {title} <span class="count">{warnings.length}</span>
      </h2>
      <ul>
        {warnings.map((w, i) => (
          <li key={i} class={w.reason}>
            <code>{w.tag}</code> <span class="where muted">({w.where})</span>: {MEANING[w.reason]}
            {'count' in w && (
              <span class="who muted">
                {' '}
                — {plural(w.count, 'recipient')}: {w.recipients.slice(0, 5).join(', ')}
                {w.count > 5 ? ', …' : ''}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
