import { Hono } from 'hono';
import { z } from 'zod';
import { trackedLinkToken } from '../../api/tracked-links.ts';
import type { LinksResolved, ResolvedLink } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';
import type { MessageRecord } from '../store/store.ts';
import { clickToken } from '../tokens/tokens.ts';

/** A long newsletter seen in a busy inbox: generous, but a bound. */
const MAX_URLS = 2000;

const ResolveBody = z.strictObject({ urls: z.array(z.string().max(4096)).max(MAX_URLS) });

/**
 * Lets the extension map the tracked links it finds in a page (the sent mail in Gmail,
 * Outlook or anywhere) to their message and placement, without the extension knowing the
 * signing secret: only links this server signed come back.
 */
export function linkRoutes(ctx: AppContext): Hono {
  const app = new Hono();

  app.post('/resolve', async (c) => {
    const { urls } = await jsonBody(c, ResolveBody);
    const messages = new Map<number, Promise<MessageRecord | null>>();
    const messageOf = async (recipientId: number) => {
      const recipient = await ctx.store.getRecipient(recipientId);
      if (!recipient) return null;
      if (!messages.has(recipient.messageId)) messages.set(recipient.messageId, ctx.store.getMessage(recipient.messageId));
      return messages.get(recipient.messageId)!;
    };

    const links: ResolvedLink[] = [];
    for (const url of new Set(urls)) {
      const token = trackedLinkToken(url, ctx.config.publicUrl);
      const ids = token ? clickToken.verify(ctx.keys, token) : null;
      if (!ids) continue;
      const message = await messageOf(ids.recipientId);
      // A validly signed token whose rows are gone names nothing, as at the redirect.
      if (!message?.links.some((l) => l.id === ids.linkId && l.tracked)) continue;
      links.push({ url, messageId: message.id, linkId: ids.linkId, recipientId: ids.recipientId });
    }
    return c.json({ links } satisfies LinksResolved);
  });

  return app;
}
