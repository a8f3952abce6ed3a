/**
 * In-process wake-ups for live streams. A notification carries no data: each stream then
 * reads what is new from the store after the last id it sent, so ids reach a client in
 * order and once, whatever order concurrent writers notify in.
 */
export class Hub {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly closing = new AbortController();

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
    for (const listener of this.listeners.get(channel) ?? []) listener();
  }

  close(): void {
    this.closing.abort();
  }
}

export const channels = {
  team: 'team',
  visitor: (id: number) => `visitor:${id}`,
  verifiedPerson: (id: number) => `person:${id}`,
};
