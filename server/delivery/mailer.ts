import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export interface Mail {
  from: string;
  replyTo?: string;
  to: string | { name: string; address: string };
  subject: string;
  html: string;
  text?: string | undefined;
  /** List-* headers (nodemailer's `list`): a nested array is one header line of several URLs. */
  list?: { unsubscribe: string[][] };
  headers?: Record<string, string>;
  /** Names the outbox file; unique per (message, recipient). */
  key: string;
  /** The same for every attempt at one (message, recipient): a repeat after a crash is recognisable as one. */
  messageId: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * SMTP when a URL is given (pooled), otherwise an outbox folder of .eml files, so nothing needs
 * a mail server. An outbox file is written under a temporary name and renamed, so a crash
 * leaves a whole mail or none; a mail whose file is already there was delivered by an attempt
 * that crashed before recording it, and is not written again.
 */
export function createMailer(opts: { smtpUrl: string | null; outbox: string }): Mailer {
  if (opts.smtpUrl) {
    const url = new URL(opts.smtpUrl);
    url.searchParams.set('pool', 'true');
    const transport = nodemailer.createTransport(url.toString());
    return {
      async send({ key: _key, ...mail }) {
        await transport.sendMail(mail);
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let ready: Promise<unknown> | null = null;
  return {
    async send({ key, ...mail }) {
      ready ??= mkdir(opts.outbox, { recursive: true });
      await ready;
      const path = join(opts.outbox, `${key}.eml`);
      if (await exists(path)) return;
      const info = await transport.sendMail(mail);
      // Dot-named: whoever reads the outbox takes *.eml, never a half-written file.
      const partial = join(opts.outbox, `.${key}.eml.partial`);
      await writeFile(partial, info.message as Buffer);
      await rename(partial, path);
    },
    close: () => transport.close(),
  };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
