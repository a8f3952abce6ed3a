import { useEffect, useRef, useState } from 'preact/hooks';
import type { Message, PersonStats, Settings } from '../../api/types.ts';
import { ApiError, clicktrail, NotConfiguredError } from '../api/client.ts';
import { browser } from '../platform/browser.ts';
import { ConfirmDialog } from '../ui/confirm-dialog.tsx';
import { shortDate, wholeNumber } from '../ui/format.ts';
import { MergeTagText } from '../ui/merge-tag-text.tsx';
import { ComposeWarnings } from './compose-warnings.tsx';
import { createBody, EMPTY_DRAFT, fieldsOf, patchBody, sameFields, type DraftFields, type FieldProblems } from './draft-fields.ts';
import { LinkList } from './link-list.tsx';
import { MailPreview } from './mail-preview.tsx';
import { MessageFields } from './message-fields.tsx';
import { RecipientsImport } from './recipients-import.tsx';
import { SendPanel } from './send-panel.tsx';
import { TestSend } from './test-send.tsx';

type Notice = { ok: boolean; text: string } | null;

/** The "New message" page: write a draft, add its recipients, check it as they will get it, test it, send it. */
export function Composer({ id: openedId }: { id: number | null }) {
  const [message, setMessage] = useState<Message | null>(null);
  const [fields, setFields] = useState<DraftFields>(EMPTY_DRAFT);
  /** The fields as last saved (or opened); null: never saved. */
  const [savedFields, setSavedFields] = useState<DraftFields | null>(null);
  const [problems, setProblems] = useState<FieldProblems>({});
  const [notice, setNotice] = useState<Notice>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [people, setPeople] = useState<PersonStats[]>([]);
  const [as, setAs] = useState('');
  const [loading, setLoading] = useState(openedId !== null);
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  // One save at a time: a second click, or a send right after a save, waits for the first.
  const inFlight = useRef<Promise<Message | null> | null>(null);

  const dirty = !savedFields || !sameFields(fields, savedFields);
  // The composer writes email; an in-app or push message is shown, not edited here.
  const notEmail = !!message && message.channel !== 'email';
  const readOnly = message?.status === 'sent' || notEmail;

  useEffect(() => {
    clicktrail
      .settings()
      .then(setSettings)
      .catch((err: Error) => setNotice({ ok: false, text: err instanceof NotConfiguredError ? err.message : `Could not reach the server: ${err.message}` }));
    if (openedId === null) return;
    clicktrail
      .message(openedId)
      .then((m) => {
        setMessage(m);
        setFields(fieldsOf(m));
        setSavedFields(fieldsOf(m));
      })
      .catch((err: Error) => setNotice({ ok: false, text: err instanceof ApiError && err.status === 404 ? 'This message no longer exists.' : err.message }))
      .finally(() => setLoading(false));
  }, []);

  useEffect(() => {
    document.title = message ? `${message.status === 'sent' ? 'Sent' : 'Draft'}: ${message.subject} · Clicktrail` : 'New message · Clicktrail';
  }, [message?.subject, message?.status]);

  // The recipients to preview as: read again whenever the draft is (an import changes it).
  useEffect(() => {
    if (!message) return;
    void clicktrail
      .people(message.id)
      .then((list) => {
        setPeople(list);
        setAs((current) => (list.some((p) => p.email === current) ? current : (list[0]?.email ?? '')));
      })
      .catch(() => undefined);
  }, [message]);

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    const guard = (e: BeforeUnloadEvent) => dirty && !readOnly && fields !== EMPTY_DRAFT && e.preventDefault();
    addEventListener('beforeunload', guard);
    return () => removeEventListener('beforeunload', guard);
  }, [dirty, readOnly, fields]);

  const reload = async (id: number) => {
    const m = await clicktrail.message(id);
    setMessage(m);
    return m;
  };

  async function saveNow(): Promise<Message | null> {
    const checked = createBody(fields);
    if ('problems' in checked) {
      setProblems(checked.problems);
      setNotice({ ok: false, text: 'Not saved: see the fields marked in red.' });
      return null;
    }
    setProblems({});
    const snapshot = fields;
    try {
      let id = message?.id;
      if (id === undefined) {
        id = (await clicktrail.createMessage(checked.body)).id;
        // Reloading (or bookmarking) the page reopens this draft.
        history.replaceState(null, '', `?id=${id}`);
      } else {
        await clicktrail.updateMessage(id, patchBody(checked.body));
      }
      const saved = await reload(id);
      setSavedFields(snapshot);
      setNotice({ ok: true, text: `Draft saved ${shortDate(new Date().toISOString())}.` });
      return saved;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && message) {
        await reload(message.id);
        setNotice({ ok: false, text: 'This message has been sent since you opened it: it can no longer be changed.' });
      } else {
        setNotice({ ok: false, text: `Not saved: ${(err as Error).message}` });
      }
      return null;
    }
  }

  const save = (): Promise<Message | null> => {
    inFlight.current ??= saveNow().finally(() => {
      inFlight.current = null;
      setSaving(false);
    });
    setSaving(true);
    return inFlight.current;
  };
  /** The saved draft as the server has it, saved first when the fields have changed since. */
  const prepare = async () => (message && !dirty ? message : save());

  const deleteDraft = async () => {
    setConfirmDelete(false);
    if (!message) return;
    try {
      await clicktrail.deleteMessage(message.id);
      history.replaceState(null, '', location.pathname);
      setMessage(null);
      setSavedFields(null);
      setFields(EMPTY_DRAFT);
      setPeople([]);
      setAs('');
      setNotice({ ok: true, text: `Draft “${message.subject}” deleted.` });
    } catch (err) {
      setNotice({ ok: false, text: `Not deleted: ${(err as Error).message}` });
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's' && !readOnly) {
      e.preventDefault();
      void save();
    }
  };

  if (loading) return <main class="composer"><p class="muted">Loading…</p></main>;
  const state = message?.status === 'sent' ? 'Sent' : !message ? 'New draft, not saved yet' : dirty && !readOnly ? 'Draft · unsaved changes' : 'Draft · saved';

  return (
    <main class="composer" onKeyDown={onKeyDown}>
      <header class="top">
        <div class="brand">
          <img src="/icons/icon-48.png" alt="" /> Clicktrail
        </div>
        <span class={`state ${readOnly ? 'sent' : dirty ? 'dirty' : 'saved'}`}>{state}</span>
        {!readOnly && (
          <div class="actions">
            <button type="button" class="save" disabled={saving} onClick={() => void save()} title="Ctrl+S">
              {saving ? 'Saving…' : 'Save draft'}
            </button>
            {message && (
              <button type="button" class="danger delete" onClick={() => setConfirmDelete(true)}>
                Delete draft
              </button>
            )}
          </div>
        )}
      </header>
      <h1>
        <MergeTagText text={message?.subject || fields.subject.trim() || 'New message'} />
      </h1>
      <p class={`notice ${notice ? (notice.ok ? 'ok' : 'error') : ''}`} role="status">
        {notice?.text}
        {notice && !notice.ok && !settings && (
          <>
            {' '}
            <a href="#" onClick={(e) => (e.preventDefault(), void browser.runtime.openOptionsPage())}>
              Open the options
            </a>
          </>
        )}
      </p>
      {notEmail && message.status === 'draft' && <p class="sent-banner">This is {message.channel === 'push' ? 'a push' : 'an in-app'} message: the composer writes email only.</p>}
      {message?.status === 'sent' && (
        <p class="sent-banner">
          Sent {shortDate(message.sentAt)} to {wholeNumber(message.delivery.recipients)} {message.delivery.recipients === 1 ? 'recipient' : 'recipients'}: it
          can no longer be edited. <a href={`../message/message.html?id=${message.id}`}>See its clicks and people →</a>
        </p>
      )}
      <div class="columns">
        <div class="write">
          <MessageFields
            fields={fields}
            problems={problems}
            readOnly={readOnly}
            settings={settings}
            onChange={(patch) => {
              setFields((f) => ({ ...f, ...patch }));
              setProblems((p) => Object.fromEntries(Object.entries(p).filter(([k]) => !(k in patch))));
            }}
          />
          <RecipientsImport
            count={message?.delivery.recipients ?? 0}
            readOnly={readOnly}
            draftId={async () => (message ?? (await save()))?.id ?? null}
            onImported={(id) => void reload(id)}
          />
        </div>
        <div class="check">
          {message ? (
            <>
              <ComposeWarnings warnings={message.warnings} />
              {people.length > 0 ? (
                <MailPreview message={message} people={people} as={as} onAs={setAs} stale={dirty && !readOnly} />
              ) : (
                <section class="preview empty" aria-labelledby="preview-title">
                  <h2 id="preview-title">Preview</h2>
                  <p class="muted">Add a recipient to see the mail exactly as they will get it.</p>
                </section>
              )}
              <LinkList links={message.links} />
              {!readOnly && <TestSend as={as || null} prepare={prepare} />}
              {!notEmail && (
                <SendPanel
                  message={message}
                  prepare={prepare}
                  onSent={() => {
                    setNotice(null);
                    void reload(message.id);
                  }}
                />
              )}
            </>
          ) : (
            <section class="preview empty" aria-labelledby="preview-title">
              <h2 id="preview-title">Preview</h2>
              <p class="muted">
                Save the draft and add its recipients: the mail then shows here exactly as each of them will get it, every link marked tracked or
                not, ready for a test send to yourself.
              </p>
            </section>
          )}
        </div>
      </div>
      <ConfirmDialog open={confirmDelete} danger title="Delete this draft?" confirmLabel="Delete draft" onConfirm={deleteDraft} onCancel={() => setConfirmDelete(false)}>
        <p>“{message?.subject}” and its recipients are deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </main>
  );
}
