import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export interface Mail {
  from: string;
  to: string | { name: string; address: string };
  subject: string;
  html: string;
  text?: string | undefined;
  /** Names the outbox file; unique per (message, recipient). */
  key: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP when a URL is given (pooled), otherwise an outbox folder of .eml files, so nothing needs a mail server. */
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
      const info = await transport.sendMail(mail);
      await writeFile(join(opts.outbox, `${key}.eml`), info.message as Buffer);
    },
    close: () => transport.close(),
  };
}
