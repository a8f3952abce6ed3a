import type { MessageRecord, Store } from '../../server/store/store.ts';

/**
 * An email message made straight through a store, its body nothing but these tracked links:
 * for the tests and benchmarks of the click path, which need links and recipients, not mail.
 */
export function messageWithLinks(store: Store, urls: string[], subject = 's'): Promise<MessageRecord> {
  return store.createMessage({
    subject,
    html: 'x',
    text: null,
    channel: 'email',
    goal: null,
    audience: null,
    push: null,
    compiled: { links: urls.map((url, i) => ({ position: i, url, text: `l${i}`, tracked: true, part: 'html' as const })), html: ['x'], text: null },
  });
}
