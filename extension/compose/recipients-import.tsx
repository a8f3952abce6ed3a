import { useRef, useState } from 'preact/hooks';
import type { RecipientsAdded } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { wholeNumber } from '../ui/format.ts';
import { plural } from '../ui/numbers.ts';
import { describeProblem, parseRecipients, parseRecipientsCsv, type LineProblem, type ParsedRecipients, type Recipient } from './parse-recipients.ts';

interface Props {
  /** Recipients the saved draft has. */
  count: number;
  readOnly: boolean;
  /** The draft's id, saving it first when it has none yet (recipients belong to a saved message); null when it cannot be saved. */
  draftId(): Promise<number | null>;
  onImported(draftId: number): void;
}

const recipients = (n: number) => `${wholeNumber(n)} ${n === 1 ? 'recipient' : 'recipients'}`;

/** Lines shown of a long list of problems; the rest are counted. */
const SHOWN_PROBLEMS = 20;
/** Recipients a request: the server takes up to 10,000, in a body of at most 2 MB. */
const BATCH = 1000;

/** The "Recipients" section: paste lines or load a CSV; nothing is imported while any line is wrong. */
export function RecipientsImport({ count, readOnly, draftId, onImported }: Props) {
  const [text, setText] = useState('');
  const [problems, setProblems] = useState<{ from: string; list: LineProblem[] } | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const csvFile = useRef<HTMLInputElement>(null);

  async function add(parsed: ParsedRecipients, from: string): Promise<boolean> {
    setResult(null);
    if (!parsed.ok) {
      setProblems({ from, list: parsed.problems });
      return false;
    }
    setProblems(null);
    if (!parsed.recipients.length) {
      setResult({ ok: false, text: `No recipients in ${from}.` });
      return false;
    }
    setBusy(true);
    try {
      const id = await draftId();
      if (id === null) {
        setResult({ ok: false, text: 'Give the message a subject and HTML first: recipients are kept with the saved draft.' });
        return false;
      }
      const total = await addInBatches(id, parsed.recipients);
      const columns = parsed.attributes.length ? ` (attributes: ${parsed.attributes.join(', ')})` : '';
      const updated = total.updated ? `, ${wholeNumber(total.updated)} already there updated` : '';
      setResult({ ok: true, text: `Added ${recipients(total.added)} from ${from}${updated}${columns}.` });
      onImported(id);
      return true;
    } catch (err) {
      setResult({ ok: false, text: err instanceof PartlyImported ? err.message : `Not imported: ${(err as Error).message}` });
      return false;
    } finally {
      setBusy(false);
    }
  }

  const addPasted = async () => {
    if (await add(parseRecipients(text), 'the pasted lines')) setText('');
  };
  const addFile = async (file: File | undefined) => {
    if (file) await add(parseRecipientsCsv(await file.text()), file.name);
  };

  return (
    <section class="recipients" aria-labelledby="recipients-title">
      <h2 id="recipients-title">
        Recipients <span class="count">{recipients(count)}</span>
      </h2>
      {!readOnly && (
        <>
          <label for="recipients-text">
            Paste them, one a line: <code>email</code>, <code>Name &lt;email&gt;</code> or <code>email,name</code>
          </label>
          <textarea
            id="recipients-text"
            name="recipients"
            class="code"
            rows={5}
            spellcheck={false}
            placeholder={'ada@shop.example\nGrace Hopper <grace@shop.example>\nalan@shop.example, Alan Turing'}
            value={text}
            aria-describedby="recipients-hint"
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <small id="recipients-hint" class="hint">
            Or load a CSV whose first row names its columns: <code>email</code>, optionally <code>name</code>, and any other column becomes an
            attribute (<code>{'{{plan}}'}</code>). Someone already on the list is updated, not added twice.
          </small>
          <div class="buttons">
            <button type="button" class="add" disabled={busy || !text.trim()} onClick={addPasted}>
              Add recipients
            </button>
            <button type="button" class="load-csv" disabled={busy} onClick={() => csvFile.current?.click()}>
              Load CSV…
            </button>
            <input
              ref={csvFile}
              type="file"
              name="recipients-csv"
              accept=".csv,text/csv"
              hidden
              onChange={(e) => {
                void addFile(e.currentTarget.files?.[0]);
                e.currentTarget.value = '';
              }}
            />
          </div>
        </>
      )}
      {problems && (
        <div class="line-problems" role="alert">
          <p>
            Nothing imported from {problems.from}: {problems.list.length === 1 ? 'fix this line' : `fix these ${problems.list.length} lines`} and try
            again.
          </p>
          <ul>
            {problems.list.slice(0, SHOWN_PROBLEMS).map((p) => (
              <li key={p.line}>{describeProblem(p)}</li>
            ))}
            {problems.list.length > SHOWN_PROBLEMS && <li class="muted">and {plural(problems.list.length - SHOWN_PROBLEMS, 'more line')}</li>}
          </ul>
        </div>
      )}
      {!readOnly && (
        <p class={`result ${result ? (result.ok ? 'ok' : 'error') : ''}`} role="status">
          {result?.text}
        </p>
      )}
    </section>
  );
}

/**
 * Every recipient was checked with the server's own schema before the first request, so a
 * batch is refused only for a reason outside the list (the network, the server); adding
 * again then updates those already in rather than doubling them.
 */
async function addInBatches(id: number, recipients: Recipient[]): Promise<RecipientsAdded> {
  const total: RecipientsAdded = { added: 0, updated: 0 };
  for (let i = 0; i < recipients.length; i += BATCH) {
    try {
      const r = await clicktrail.addRecipients(id, recipients.slice(i, i + BATCH));
      total.added += r.added;
      total.updated += r.updated;
    } catch (err) {
      if (i === 0) throw err;
      throw new PartlyImported(i, recipients.length, err as Error);
    }
  }
  return total;
}

class PartlyImported extends Error {
  constructor(done: number, of: number, cause: Error) {
    super(`Only ${done.toLocaleString('en')} of ${of.toLocaleString('en')} imported: ${cause.message}. Add the list again to finish (those already in are updated, not added twice).`);
  }
}
