// The server's own grammar of tags, imported so the extension never disagrees with what was sent.
import { scanTags, tagValue } from '../../server/rewrite/merge-tags.ts';
import type { PersonStats } from '../../api/types.ts';

/**
 * A subject or a link's text as the team reads it: tags filled for a sample recipient where
 * that recipient's values are known (name and email: attributes never reach the extension),
 * everything else shown as a named placeholder. Never the raw `{{…}}`.
 */
export type ShownPart = { text: string } | { placeholder: string };

export type SampleRecipient = Pick<PersonStats, 'email' | 'name'>;

/** A person's own words for a tag: `{{attributes.invoice_id}}` → "invoice id", `{{ .Name }}` → "Name". */
function placeholderLabel(raw: string, name: string | undefined): string {
  const inner = name ?? raw.replace(/^\{+|\}+$/g, '');
  const label = inner
    .replace(/^attributes\./, '')
    .replace(/\|.*$/, '')
    .replace(/^[\s.#/^>&!]+/, '')
    .replace(/[_.\-\s]+/g, ' ')
    .trim();
  return label || 'tag';
}

export function showMergeTags(s: string, sample?: SampleRecipient | null): ShownPart[] {
  const parts: ShownPart[] = [];
  let pos = 0;
  const text = (t: string) => {
    if (!t) return;
    const last = parts.at(-1);
    if (last && 'text' in last) last.text += t;
    else parts.push({ text: t });
  };
  for (const o of scanTags(s)) {
    text(s.slice(pos, o.index));
    pos = o.index + o.raw.length;
    // A value the sample lacks would go out empty: a placeholder says more than a gap.
    const value = o.tag && sample ? tagValue(o.tag, { email: sample.email ?? '', name: sample.name, attributes: {} }) : null;
    if (value) text(value);
    else parts.push({ placeholder: placeholderLabel(o.raw, o.tag?.name) });
  }
  text(s.slice(pos));
  return parts;
}

/** The same as plain text (titles, file names): placeholders in ‹ ›. */
export function mergeTagsAsText(s: string, sample?: SampleRecipient | null): string {
  return showMergeTags(s, sample)
    .map((p) => ('text' in p ? p.text : `‹${p.placeholder}›`))
    .join('');
}

/** Whether `s` has anything in double braces to fill or stand in for. */
export const hasMergeTags = (s: string) => scanTags(s).length > 0;

/** The recipient whose values fill the message's tags: the first one with a name, or else the first. */
export const sampleRecipient = (people: readonly PersonStats[] | undefined): SampleRecipient | null =>
  people?.find((p) => p.name) ?? people?.[0] ?? null;

/** `text` with its tags filled or as placeholders (styled `.placeholder` by the page). */
export function MergeTagText({ text, sample }: { text: string; sample?: SampleRecipient | null }) {
  return (
    <>
      {showMergeTags(text, sample).map((p, i) =>
        'text' in p ? (
          p.text
        ) : (
          <span class="placeholder" key={i} title="A merge tag: each recipient sees their own value">
            {p.placeholder}
          </span>
        ),
      )}
    </>
  );
}
