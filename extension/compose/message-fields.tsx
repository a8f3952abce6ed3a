import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import type { Settings } from '../../api/types.ts';
import type { DraftFields, FieldProblems } from './draft-fields.ts';

interface Props {
  fields: DraftFields;
  problems: FieldProblems;
  readOnly: boolean;
  /** For the From and Reply-To placeholders: what an empty field means. */
  settings: Pick<Settings, 'defaultFrom' | 'defaultReplyTo'> | null;
  onChange(patch: Partial<DraftFields>): void;
}

interface A11y {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: boolean;
}

/** A labelled control with its hint and, when there is one, what is wrong with it (read out with the control). */
function Field(props: {
  name: string;
  label: string;
  /** Beside the label, outside it (so it is no part of the control's name): e.g. a button that fills the control. */
  aside?: ComponentChildren;
  hint?: ComponentChildren;
  problem?: string | undefined;
  children: (a11y: A11y) => ComponentChildren;
}) {
  const { name, label, aside, hint, problem, children } = props;
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field ${name}`}>
      <div class="label">
        <label for={id}>{label}</label>
        {aside}
      </div>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), ...(problem ? { 'aria-invalid': true } : {}) })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {problem && (
        <small id={`${id}-problem`} class="problem error">
          {problem}
        </small>
      )}
    </div>
  );
}

/** The "Message" section: what the mail says, who it is from, what kind of mail it is and its goal. */
export function MessageFields({ fields: f, problems, readOnly, settings, onChange }: Props) {
  const htmlFile = useRef<HTMLInputElement>(null);
  const loadHtml = async (file: File | undefined) => {
    if (file) onChange({ html: await file.text() });
  };
  const set = (key: keyof DraftFields) => (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => onChange({ [key]: e.currentTarget.value });

  return (
    <section class="message-fields" aria-labelledby="message-fields-title">
      <h2 id="message-fields-title">Message</h2>
      <Field name="subject" label="Subject" problem={problems.subject}>
        {(a) => <input {...a} name="subject" required readOnly={readOnly} value={f.subject} onInput={set('subject')} />}
      </Field>
      <div class="pair">
        <Field name="from" label="From" hint={`Empty: ${settings?.defaultFrom ?? 'the server’s CLICKTRAIL_FROM'}`} problem={problems.from}>
          {(a) => <input {...a} name="from" readOnly={readOnly} placeholder={settings?.defaultFrom ?? 'Shop Team <team@shop.example>'} value={f.from} onInput={set('from')} />}
        </Field>
        <Field name="replyTo" label="Reply-To" hint={`Empty: ${settings?.defaultReplyTo ?? 'none (replies go to From)'}`} problem={problems.replyTo}>
          {(a) => <input {...a} name="replyTo" readOnly={readOnly} placeholder={settings?.defaultReplyTo ?? 'help@shop.example'} value={f.replyTo} onInput={set('replyTo')} />}
        </Field>
      </div>
      <fieldset class="kind" disabled={readOnly}>
        <legend>Kind</legend>
        <label>
          <input type="radio" name="kind" value="marketing" checked={f.kind === 'marketing'} onChange={() => onChange({ kind: 'marketing' })} />
          Marketing <span class="muted">— an unsubscribe link and header; unsubscribed addresses are skipped</span>
        </label>
        <label>
          <input type="radio" name="kind" value="transactional" checked={f.kind === 'transactional'} onChange={() => onChange({ kind: 'transactional' })} />
          Transactional <span class="muted">— receipts, password resets: no unsubscribe</span>
        </label>
      </fieldset>
      <div class="pair goal">
        <Field name="goalEvent" label="Goal (optional)" hint="An event your site tracks, e.g. order: who does it after a click counts as a completion.">
          {(a) => <input {...a} name="goalEvent" readOnly={readOnly} placeholder="order" value={f.goalEvent} onInput={set('goalEvent')} />}
        </Field>
        <Field name="goalDays" label="within (days)" problem={problems.goalDays}>
          {(a) => <input {...a} name="goalDays" type="number" min={1} max={365} readOnly={readOnly} value={f.goalDays} onInput={set('goalDays')} />}
        </Field>
      </div>
      <Field
        name="html"
        label="HTML"
        aside={
          !readOnly && (
            <button type="button" class="load" onClick={() => htmlFile.current?.click()}>
              Load .html file…
            </button>
          )
        }
        hint={
          <>
            Type or paste it. Merge tags: <code>{'{{first_name}}'}</code>, <code>{'{{name|there}}'}</code>, <code>{'{{plan}}'}</code> (an attribute),{' '}
            <code>{'{{unsubscribe_url}}'}</code> (added to the footer when left out).
          </>
        }
        problem={problems.html}
      >
        {(a) => <textarea {...a} name="html" class="code" rows={16} spellcheck={false} readOnly={readOnly} value={f.html} onInput={set('html')} />}
      </Field>
      <input
        ref={htmlFile}
        type="file"
        name="html-file"
        accept=".html,.htm,text/html"
        hidden
        onChange={(e) => {
          void loadHtml(e.currentTarget.files?.[0]);
          e.currentTarget.value = '';
        }}
      />
      <Field name="text" label="Plain text (optional)" hint="Left empty, it is made from the HTML, links and the unsubscribe line included." problem={problems.text}>
        {(a) => <textarea {...a} name="text" class="code" rows={5} readOnly={readOnly} value={f.text} onInput={set('text')} />}
      </Field>
    </section>
  );
}
