import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { HubLink } from '../../messenger/hub.ts';

const CHANNEL = 'clicktrail_hub';
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * The hub's wake-ups between every server on one PostgreSQL database, on any machine: NOTIFY
 * on one connection of this process's own, LISTENed to by all. A wake-up carries only a
 * channel name (the streams read what is new from the store), so one lost while the
 * connection is down costs at most a stream's next keep-alive read.
 */
export function postgresHubLink(url: string): HubLink {
  const me = randomUUID();
  const listeners: ((channel: string) => void)[] = [];
  let client: pg.Client | null = null;
  let closed = false;
  let retries = 0;

  const connect = () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => {
      const payload = n.payload ?? '';
      const at = payload.indexOf(':');
      // Its own wake-ups this process has given its listeners already.
      if (at === -1 || payload.slice(0, at) === me) return;
      for (const listener of listeners) listener(payload.slice(at + 1));
    });
    const lost = () => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => {});
      if (closed) return;
      setTimeout(connect, Math.min(RETRY_MS * 2 ** retries++, MAX_RETRY_MS)).unref();
    };
    c.on('error', lost);
    c.on('end', lost);
    client = c;
    c.connect()
      .then(() => c.query(`LISTEN ${CHANNEL}`))
      .then(() => (retries = 0))
      .catch(lost);
  };
  connect();

  return {
    publish(channel) {
      client?.query('SELECT pg_notify($1, $2)', [CHANNEL, `${me}:${channel}`]).catch(() => {});
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    close() {
      closed = true;
      const c = client;
      client = null;
      void c?.end().catch(() => {});
    },
  };
}
