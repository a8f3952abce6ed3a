import type { SendWarning } from '../../api/types.ts';
import { hasAttribute, lookup, scanTags, splitMergeTags } from './merge-tags.ts';
import type { CompiledMessage, CompiledTag, MergeValues } from './template.ts';

const MAX_LISTED = 100;

/**
 * Who lacks a value for which tag of ours, over one send. Reads the tags the compiler listed
 * (those without a fallback), never a rendered mail, so it costs a few lookups per recipient.
 */
export class MissingValues {
  private readonly tags: CompiledTag[];
  private readonly lacking: { emails: string[]; count: number; absent: number }[];
  private seen = 0;

  constructor(msg: CompiledMessage, subject: string) {
    // A message compiled with its subject lists the subject's tags too.
    this.tags = msg.tags ?? tagsOfSegments(msg, subject);
    this.lacking = this.tags.map(() => ({ emails: [], count: 0, absent: 0 }));
  }

  add(email: string, values: MergeValues): void {
    this.seen++;
    for (const [i, t] of this.tags.entries()) {
      const absent = t.bare && !hasAttribute(t.name, values);
      if (!absent && lookup(t.name, values) !== '') continue;
      const l = this.lacking[i]!;
      l.count++;
      if (absent) l.absent++;
      if (l.emails.length < MAX_LISTED) l.emails.push(email);
    }
  }

  /** `missing` ones are what `allowMissing: false` refuses; a bare tag nobody has is another language's. */
  warnings(): SendWarning[] {
    const out: SendWarning[] = [];
    for (const [i, t] of this.tags.entries()) {
      const l = this.lacking[i]!;
      if (l.count === 0) continue;
      const reason = t.bare && l.absent === this.seen ? 'not-an-attribute' : 'missing';
      out.push({ tag: t.tag, where: t.where, reason, recipients: l.emails, count: l.count });
    }
    return out;
  }
}

/** For a message compiled before the compiler listed its tags: the same, with coarser places. */
function tagsOfSegments(msg: CompiledMessage, subject: string): CompiledTag[] {
  const byRaw = new Map<string, CompiledTag>();
  const add = (raw: string, name: string, bare: boolean, where: string) => {
    const known = byRaw.get(raw);
    if (!known) byRaw.set(raw, { tag: raw, name, bare, where });
    else if (!known.where.split(', ').includes(where)) known.where += `, ${where}`;
  };
  for (const o of scanTags(subject)) if (o.tag && !o.tag.fallback) add(o.raw, o.tag.name, o.tag.bare, 'subject');
  for (const [part, segs] of [['html', msg.html], ['text', msg.text ?? []]] as const) {
    for (const s of segs) {
      if (typeof s === 'string' || 'link' in s || 'footer' in s) continue;
      const name = 'merge' in s ? s.merge : s.hrefMerge;
      // Before bare tags were told apart, every one was filled for everybody: it counts as ours.
      if (!s.fallback) add(s.asWritten ?? `{{${name}}}`, name, s.asWritten !== undefined, part);
    }
  }
  for (const l of msg.links) {
    if (!l.tracked) continue;
    for (const p of splitMergeTags(l.url)) if (typeof p !== 'string' && !p.fallback) add(p.raw, p.name, p.bare, `link ${l.position}`);
  }
  return [...byRaw.values()];
}
