import type { ConversationMessage } from '../api/types.ts';

/**
 * The live stream of a visitor's messages. EventSource reconnects by itself after a
 * dropped connection, resuming with Last-Event-ID; when it gives up (the server refused the
 * token, or answered with an error), a fresh URL resumes after the last message we have.
 */
export class LiveStream {
  private source: EventSource | null = null;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    /** A fresh stream URL (re-boots when the token may have expired). */
    private readonly url: () => Promise<string>,
    private readonly onMessage: (m: ConversationMessage) => void,
  ) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    let url: string;
    try {
      url = await this.url();
    } catch {
      return this.retry();
    }
    const source = (this.source = new EventSource(url));
    source.onopen = () => {
      this.retryMs = 1000;
    };
    source.addEventListener('message', (e) => this.onMessage(JSON.parse((e as MessageEvent<string>).data)));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.retry();
      }
    };
  }

  private retry(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.start(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.source?.close();
  }
}
