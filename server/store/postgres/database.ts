import pg from 'pg';
import { clickCountsSql, clicksSql, journalSql, opensSql } from './sql/clicks.ts';
import { linksSql, messagesSql } from './sql/messages.ts';
import { conversationMessagesSql, conversationsSql, personEventsSql, teamEventsSql, visitorsSql, visitsSql } from './sql/messenger.ts';
import { peopleSql } from './sql/people.ts';
import { recipientsSql } from './sql/recipients.ts';
import { replyEmailsSql } from './sql/reply-emails.ts';
import { settingsSql } from './sql/settings.ts';
import { suppressionsSql } from './sql/suppressions.ts';

/** A statement under its name: each connection prepares it once (`group.name`), then only binds. */
export interface Statement {
  name: string;
  text: string;
}

/** Runs a statement on a connection (a transaction's) or the pool. */
export type Run = (statement: Statement, values?: unknown[]) => Promise<pg.QueryResult>;

/**
 * Sends rows in COPY's text format (copyRow) to a `COPY … FROM STDIN` statement on a
 * transaction's connection: the bulk insert, with no array parameters to build and parse and
 * its rows put in a page at a time. Its statement is never prepared (COPY cannot be).
 */
export type CopyIn = (statement: Statement, rows: string) => Promise<void>;

/**
 * An array parameter's literal, made here for the arrays of a batch (a value per hit, pair or
 * recipient): pg would quote and escape each number of them one by one. Each element is as pg
 * makes it (NULL; a number's text, which needs no quotes; anything else quoted as pg quotes it),
 * so the database reads the same values, and refuses the same ones.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) literal += ',';
    if (v === null || v === undefined) literal += 'NULL';
    else if (typeof v === 'number') literal += String(v);
    else if (Array.isArray(v)) throw new TypeError(`an array is not a column's value: ${JSON.stringify(v)}`);
    else literal += '"' + (typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  }
  return literal + '}';
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A row of COPY's text format. Each value is what pg would send for it as an element of an
 * array parameter (a string as it is, a number's or a boolean's text, an object's JSON; null
 * and undefined are NULL), so a line of the journal lands as it did through unnest, and a value
 * its column does not take is refused by the database the same way (SQLSTATE class 22 or 23).
 * An array is no column's value (through unnest it made the array parameter malformed): refused.
 */
export function copyRow(values: unknown[]): string {
  let row = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let field: string;
    if (v === null || v === undefined) field = '\\N';
    else if (Array.isArray(v)) throw new TypeError(`an array is not a column's value: ${JSON.stringify(v)}`);
    else {
      const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      field = /[\\\n\r\t]/.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : text;
    }
    row += i === 0 ? field : '\t' + field;
  }
  return row + '\n';
}

function named<T extends Record<string, string>>(group: string, sql: T): { [K in keyof T]: Statement } {
  return Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, { name: `${group}.${name}`, text }])) as { [K in keyof T]: Statement };
}

export const statements = {
  settings: named('settings', settingsSql),
  messages: named('messages', messagesSql),
  links: named('links', linksSql),
  people: named('people', peopleSql),
  recipients: named('recipients', recipientsSql),
  clicks: named('clicks', clicksSql),
  opens: named('opens', opensSql),
  counts: named('counts', clickCountsSql),
  journal: named('journal', journalSql),
  visitors: named('visitors', visitorsSql),
  conversations: named('conversations', conversationsSql),
  conversationMessages: named('conversationMessages', conversationMessagesSql),
  visits: named('visits', visitsSql),
  teamEvents: named('teamEvents', teamEventsSql),
  personEvents: named('personEvents', personEventsSql),
  suppressions: named('suppressions', suppressionsSql),
  replyEmails: named('replyEmails', replyEmailsSql),
};
export type Statements = typeof statements;

const INT8 = 20;
const NUMERIC = 1700;
/**
 * BIGINT (ids, millisecond times, counts) and the NUMERIC a sum() makes come back as numbers,
 * as SQLite gives them: all of them stay far below 2^53.
 */
export const numberTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PoolOptions {
  /** How long to wait for a connection before the call fails (the database is down or unreachable). */
  connectionTimeoutMs: number;
  /** How long a statement may wait for another transaction's row lock (SQLite's busy timeout). */
  lockTimeoutMs: number;
  max: number;
}

export function createPool(url: string, opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: opts.connectionTimeoutMs,
    lock_timeout: opts.lockTimeoutMs,
    // A transaction left open by a process that hangs must not hold its locks for ever.
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'clicktrail',
    allowExitOnIdle: true,
    types: numberTypes,
  });
  // An idle connection the server closed (a restart, a failover): the pool drops it and makes another when asked.
  pool.on('error', (err) => console.error('[clicktrail] a PostgreSQL connection failed:', err.message));
  return pool;
}

/**
 * An error of the database about a statement, after which the connection goes on; not one of
 * the connection itself (it failed, or the server ended it: class 08, 57, or a FATAL one).
 */
export function isStatementError(err: unknown): boolean {
  return err instanceof pg.DatabaseError && err.severity !== 'FATAL' && err.severity !== 'PANIC' && !/^(08|57)/.test(err.code ?? '');
}
