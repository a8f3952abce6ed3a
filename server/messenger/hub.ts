/**
 * How a hub hears of the other server processes' wake-ups and tells them of its own: the
 * cluster's primary between the workers of one machine (server/cluster.ts), or PostgreSQL's
 * NOTIFY between every server on one database (server/store/postgres/hub-link.ts).
 */
export interface HubLink {
  publish(channel: string): void;
  subscribe(listener: (channel: string) => void): void;
  close?(): void;
}

/**
 * Wake-ups for live streams. A notification carries no data: each stream then reads what is
 * new from the store after the last id it sent, so ids reach a client in order and once,
 * whatever order concurrent writers notify in, and whichever process wrote it: a link
 * carries the channel names to the other processes.
 */
export class Hub {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly closing = new AbortController();

  constructor(private readonly link: HubLink | null = null) {
    link?.subscribe((channel) => this.wake(channel));
  }

  /** Aborted when the server stops: streams end so the HTTP server can close. */
  get closed(): AbortSignal {
    return this.closing.signal;
  }

  on(channel: string, listener: () => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(channel);
    };
  }

  notify(channel: string): void {
    this.wake(channel);
    this.link?.publish(channel);
  }

  private wake(channel: string): void {
    for (const listener of this.listeners.get(channel) ?? []) listener();
  }

  close(): void {
    this.closing.abort();
    this.link?.close?.();
  }
}

export const channels = {
  team: 'team',
  visitor: (id: number) => `visitor:${id}`,
  verifiedPerson: (id: number) => `person:${id}`,
};
