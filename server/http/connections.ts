import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** A connection that has sent no request for this long is closed: nothing legitimate waits that long to speak. */
export const SILENT_MS = 10_000;
/** File descriptors kept free for the click journal, the database, the writer thread and outgoing mail. */
const RESERVE_FDS = 128;

export interface ConnectionLimits {
  /** Open connections at most; past it the longest-idle one makes room. */
  maxConnections: number;
  silentMs: number;
}

/** The soft limit on open files (Linux), or null where it cannot be read. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function defaultLimits(): ConnectionLimits {
  const fds = openFileLimit();
  return { maxConnections: Math.max(32, (fds ?? 10_000) - RESERVE_FDS), silentMs: SILENT_MS };
}

/**
 * Keeps silent connections from taking the server offline. Node never closes a socket that
 * sends nothing (headersTimeout starts at the first byte), and each one holds a file
 * descriptor: enough of them and accept(), the journal and the database all fail with
 * EMFILE. So: a socket that sends no request within silentMs is closed; open connections stay
 * under the open-file limit with a reserve; and at that cap the oldest socket that has sent
 * nothing at all is closed to admit the new one, so a flood of them cannot keep people's
 * clicks out. (A socket idle after a request is closed by keepAliveTimeout, one that sends
 * its headers slowly by headersTimeout.) Nothing here runs per request but one comparison.
 */
export function guardConnections(server: Server, limits: ConnectionLimits = defaultLimits()): void {
  // Oldest first: a Set keeps insertion order.
  const open = new Set<Socket>();
  server.headersTimeout = Math.min(server.headersTimeout, limits.silentMs);
  server.requestTimeout = Math.min(server.requestTimeout, 60_000);

  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections) {
      let made = false;
      for (const old of open) {
        if (old.bytesRead === 0) {
          old.destroy();
          open.delete(old);
          made = true;
          break;
        }
      }
      // Every connection is in use: the newest waits its turn (the client retries).
      if (!made) return socket.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.setTimeout(limits.silentMs, () => socket.destroy());
  });

  // A request has begun: from here on keepAliveTimeout and requestTimeout apply, and a
  // long answer (a large send) must not be cut off by the silence timer.
  server.on('request', (req) => {
    if (req.socket.timeout === limits.silentMs) req.socket.setTimeout(0);
  });
}
