import Papa from 'papaparse';
import { AddRecipientsBody } from '../../api/schemas.ts';
import type { AddRecipientsBody as RecipientsBody } from '../../api/types.ts';

/** One recipient as `POST /api/messages/:id/recipients` takes it. */
export type Recipient = RecipientsBody['recipients'][number];

/** What is wrong with one line of what the marketer pasted or loaded (1-based, as an editor numbers them). */
export interface LineProblem {
  line: number;
  problem: string;
}

export type ParsedRecipients =
  | { ok: true; recipients: Recipient[]; /** The CSV's attribute columns, in file order; [] for pasted lines. */ attributes: string[] }
  | { ok: false; problems: LineProblem[] };

/** "line 4: not an email address (“bob@”)". */
export const describeProblem = (p: LineProblem) => `line ${p.line}: ${p.problem}`;

// The server's own check of a recipient: what passes here passes there, so an import is never refused halfway.
const RecipientSchema = AddRecipientsBody.shape.recipients.element;

const unquote = (s: string) => s.trim().replace(/^"(.*)"$/s, '$1').trim();

/**
 * Pasted text: one recipient a line, as `email`, `Name <email>` or `email,name` (a tab for
 * the comma too, as a spreadsheet column pastes). Text whose first line names columns
 * (`email,name,plan`) is read as CSV instead, as if it had been loaded from a file.
 */
export function parseRecipients(text: string): ParsedRecipients {
  const firstLine = stripBom(text).split(/\r?\n/).find((l) => l.trim()) ?? '';
  if (looksLikeHeader(firstLine)) return parseRecipientsCsv(text);
  const recipients: Recipient[] = [];
  const problems: LineProblem[] = [];
  stripBom(text)
    .split(/\r\n|\n|\r/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line) return;
      const angle = /^(.*?)\s*<([^<>]*)>$/.exec(line);
      const comma = angle ? -1 : line.search(/[,\t]/);
      const email = angle ? angle[2]!.trim() : comma >= 0 ? line.slice(0, comma).trim() : line;
      const name = angle ? unquote(angle[1]!) : comma >= 0 ? unquote(line.slice(comma + 1)) : '';
      const checked = check({ email, ...(name ? { name } : {}) });
      if (typeof checked === 'string') problems.push({ line: i + 1, problem: checked });
      else recipients.push(checked);
    });
  return problems.length ? { ok: false, problems } : { ok: true, recipients, attributes: [] };
}

/**
 * A CSV file whose first row names the columns: `email` (required), `name` (optional), any
 * other column an attribute of that name. Column names are matched without regard to case;
 * the delimiter is found by papaparse (`;` and tab files from spreadsheets work too).
 */
export function parseRecipientsCsv(text: string): ParsedRecipients {
  const source = stripBom(text);
  const rows: { cells: string[]; line: number; quotesOpen: boolean }[] = [];
  // Each row's first line, from where the row before it ended: a quoted value may span lines.
  let start = 0;
  let line = 1;
  Papa.parse<string[]>(source, {
    skipEmptyLines: false,
    step: (result) => {
      rows.push({ cells: result.data, line, quotesOpen: result.errors.some((e) => e.type === 'Quotes') });
      const end = result.meta.cursor;
      for (let i = start; i < end; i++) if (source.charCodeAt(i) === 10 || (source.charCodeAt(i) === 13 && source.charCodeAt(i + 1) !== 10)) line++;
      start = end;
    },
  });
  const filled = rows.filter((r) => r.cells.some((c) => c.trim()));
  const header = filled.shift();
  if (!header) return { ok: false, problems: [{ line: 1, problem: 'the file is empty' }] };

  const names = header.cells.map((c) => c.trim());
  const problems: LineProblem[] = [];
  const headerProblem = (problem: string) => problems.push({ line: header.line, problem });
  const lower = names.map((n) => n.toLowerCase());
  const emailColumn = lower.indexOf('email');
  const nameColumn = lower.indexOf('name');
  if (emailColumn < 0) headerProblem(`the first row names no “email” column (it has ${names.map((n) => `“${n}”`).join(', ')})`);
  lower.forEach((n, i) => {
    if (n && lower.indexOf(n) !== i) headerProblem(`two columns are called “${names[i]}”`);
    if (names[i]!.length > 100) headerProblem(`column ${i + 1}'s name is longer than 100 characters`);
    // A column with no name but values is someone's data we would drop; an empty one is a spreadsheet's trailing comma.
    if (!n && filled.some((r) => r.cells[i]?.trim())) headerProblem(`column ${i + 1} has values but no name`);
  });
  if (problems.length) return { ok: false, problems };

  const attributes = names.filter((n, i) => n && i !== emailColumn && i !== nameColumn);
  const recipients: Recipient[] = [];
  for (const row of filled) {
    if (row.quotesOpen) {
      problems.push({ line: row.line, problem: 'a quoted value is never closed' });
      continue;
    }
    if (row.cells.length > names.length) {
      problems.push({ line: row.line, problem: `${row.cells.length} values, but the first row names ${names.length} columns` });
      continue;
    }
    const cell = (i: number) => (row.cells[i] ?? '').trim();
    const values: Record<string, string> = {};
    // An empty cell is no value: the tag's fallback (or a missing-value warning) applies, as for a recipient without the column.
    names.forEach((n, i) => n && i !== emailColumn && i !== nameColumn && cell(i) && (values[n] = cell(i)));
    const name = nameColumn >= 0 ? cell(nameColumn) : '';
    const checked = check({ email: cell(emailColumn), ...(name ? { name } : {}), ...(Object.keys(values).length ? { attributes: values } : {}) });
    if (typeof checked === 'string') problems.push({ line: row.line, problem: checked });
    else recipients.push(checked);
  }
  return problems.length ? { ok: false, problems } : { ok: true, recipients, attributes };
}

/** The recipient as the server will take it, or what is wrong with it in the marketer's words. */
function check(recipient: Recipient): Recipient | string {
  if (!recipient.email) return 'no email address';
  const parsed = RecipientSchema.safeParse(recipient);
  if (parsed.success) return recipient;
  const issue = parsed.error.issues[0]!;
  const [field, key] = issue.path;
  if (field === 'email') return `not an email address (“${recipient.email}”)`;
  if (field === 'name') return 'the name is longer than 200 characters';
  if (field === 'attributes') return `the value of “${String(key)}” is longer than 2,000 characters`;
  return issue.message;
}

function looksLikeHeader(line: string): boolean {
  if (line.includes('@')) return false;
  const cells = Papa.parse<string[]>(line).data[0] ?? [];
  return cells.some((c) => c.trim().toLowerCase() === 'email');
}

const stripBom = (s: string) => s.replace(/^\uFEFF/, '');
