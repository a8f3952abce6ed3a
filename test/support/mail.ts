import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { TestServer } from './server.ts';

/** The outbox's mails whose file name starts with `prefix` (`<message>-` for a message's, `test-<message>-` for its test sends), parsed. */
export async function outboxMails(s: Pick<TestServer, 'ctx'>, prefix: string): Promise<{ file: string; mail: ParsedMail }[]> {
  const dir = s.ctx.config.outbox;
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.eml')).sort();
  return Promise.all(files.map(async (file) => ({ file, mail: await simpleParser(readFileSync(join(dir, file))) })));
}

/** A header exactly as written (unfolded), or undefined: mailparser's own reading of List-* headers drops what tests check. */
export function headerLine(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}
