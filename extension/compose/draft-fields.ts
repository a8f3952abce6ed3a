import { CreateMessageBody, MailAddress } from '../../api/schemas.ts';
import type { CreateMessageBody as CreateAnyBody, Message, MessageKind, PatchMessageBody } from '../../api/types.ts';

/** The composer writes emails. */
type CreateBody = Extract<CreateAnyBody, { channel: 'email' }>;

/** The composer's fields as typed: strings, an empty one meaning "none" (or the server's default). */
export interface DraftFields {
  subject: string;
  html: string;
  text: string;
  from: string;
  replyTo: string;
  kind: MessageKind;
  goalEvent: string;
  goalDays: string;
}

export type FieldProblems = Partial<Record<keyof DraftFields, string>>;

export const EMPTY_DRAFT: DraftFields = { subject: '', html: '', text: '', from: '', replyTo: '', kind: 'marketing', goalEvent: '', goalDays: '7' };

export function fieldsOf(m: Message): DraftFields {
  return {
    subject: m.subject,
    html: m.html,
    text: m.text ?? '',
    from: m.from ?? '',
    replyTo: m.replyTo ?? '',
    kind: m.kind,
    goalEvent: m.goal?.event ?? '',
    goalDays: String(m.goal?.withinDays ?? 7),
  };
}

export const sameFields = (a: DraftFields, b: DraftFields) => (Object.keys(a) as (keyof DraftFields)[]).every((k) => a[k] === b[k]);

/**
 * The message as `POST /api/messages` takes it, or what is wrong field by field. Checked
 * with the server's own schema, so a draft the page lets through is never refused there.
 */
export function createBody(f: DraftFields): { body: CreateBody } | { problems: FieldProblems } {
  const problems: FieldProblems = {};
  if (!f.subject.trim()) problems.subject = 'Write a subject.';
  if (!f.html.trim()) problems.html = 'Write, paste or load the HTML of the mail.';
  for (const field of ['from', 'replyTo'] as const) {
    const checked = f[field].trim() && MailAddress.safeParse(f[field]);
    if (checked && !checked.success) problems[field] = `This ${checked.error.issues[0]!.message}.`;
  }
  const days = Number(f.goalDays);
  if (f.goalEvent.trim() && !(Number.isInteger(days) && days >= 1 && days <= 365)) problems.goalDays = 'A whole number of days, 1 to 365.';
  const body: CreateBody = {
    channel: 'email',
    subject: f.subject.trim(),
    html: f.html,
    kind: f.kind,
    ...(f.text.trim() ? { text: f.text } : {}),
    ...(f.from.trim() ? { from: f.from.trim() } : {}),
    ...(f.replyTo.trim() ? { replyTo: f.replyTo.trim() } : {}),
    ...(f.goalEvent.trim() ? { goal: { event: f.goalEvent.trim(), withinDays: days } } : {}),
  };
  if (Object.keys(problems).length) return { problems };
  const parsed = CreateMessageBody.safeParse(body);
  if (!parsed.success) {
    // Limits the checks above do not name (a subject over 998 characters, an HTML over 1 MB).
    for (const issue of parsed.error.issues) {
      const field = ({ subject: 'subject', html: 'html', text: 'text', goal: issue.path[1] === 'event' ? 'goalEvent' : 'goalDays' } as const)[issue.path[0] as string] ?? 'subject';
      problems[field] ??= issue.code === 'too_big' ? `Too long: at most ${issue.maximum.toLocaleString('en')} characters.` : issue.message;
    }
    return { problems };
  }
  return { body };
}

/** The same message as `PATCH /api/messages/:id` takes it: every field given, null clearing what was set. */
export function patchBody(body: CreateBody): PatchMessageBody {
  return {
    subject: body.subject,
    html: body.html,
    kind: body.kind,
    text: body.text ?? null,
    from: body.from ?? null,
    replyTo: body.replyTo ?? null,
    goal: body.goal ?? null,
  };
}
