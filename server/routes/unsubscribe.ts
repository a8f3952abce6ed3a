import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { escapeHtml } from '../rewrite/merge-tags.ts';
import { NO_RECIPIENT, unsubscribeToken } from '../tokens/tokens.ts';
import { LINK_NOT_FOUND_PAGE } from '../tracking/hits.ts';

/**
 * /u/:token, public: a marketing email's unsubscribe link and its List-Unsubscribe URL.
 * POST unsubscribes: RFC 8058's one-click (a mail client posts `List-Unsubscribe=One-Click`,
 * answered in a word) or the page's own button (answered with a page). GET only shows that
 * page: mail scanners fetch every link, and must unsubscribe nobody. The token alone names
 * the recipient; the pages show their address masked, and nothing of it goes in a log.
 */
export function unsubscribeRoutes({ store, keys }: AppContext): Hono {
  const app = new Hono();

  app.get('/u/:token', async (c) => {
    const found = await recipientOf(c);
    if (found === null) return notFoundPage(c);
    if (found === 'test') return page(c, 'This link is from a test mail', '<p>Nobody is unsubscribed by it: in the mail a recipient gets, it unsubscribes them.</p>');
    return page(
      c,
      'Unsubscribe',
      `<p>Stop getting these emails at <strong>${escapeHtml(masked(found.email))}</strong>?</p>` +
        // No action: the form posts back to this very address, whatever path the server is under.
        `<form method="post"><input type="hidden" name="confirm" value="yes">` +
        `<button type="submit" style="font:inherit;padding:.5em 1.2em;cursor:pointer">Unsubscribe</button></form>`,
    );
  });

  app.post('/u/:token', async (c) => {
    const found = await recipientOf(c);
    if (found === null) return notFoundPage(c);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const oneClick = form['List-Unsubscribe'] === 'One-Click';
    if (!oneClick && form.confirm !== 'yes') {
      return page(c, 'Nothing changed', '<p>This request did not say to unsubscribe. Open the link from the email again.</p>', 400);
    }
    if (found !== 'test') await store.unsubscribe(found.id, Date.now());
    if (oneClick) return plain(c, found === 'test' ? 'A test mail: nobody was unsubscribed.' : 'Unsubscribed.');
    if (found === 'test') return page(c, 'This link is from a test mail', '<p>Nobody was unsubscribed.</p>');
    return page(c, 'You are unsubscribed', `<p>No more of these emails will go to <strong>${escapeHtml(masked(found.email))}</strong>.</p>`);
  });

  /** The recipient the token names, 'test' for a test send's, null for a forged or unknown one. */
  async function recipientOf(c: Context): Promise<{ id: number; email: string } | 'test' | null> {
    const ids = unsubscribeToken.verify(keys, c.req.param('token') ?? '');
    if (!ids) return null;
    if (ids.recipientId === NO_RECIPIENT) return 'test';
    const recipient = await store.getRecipient(ids.recipientId);
    // Only an email carries the link, and an email's recipient has an address.
    return recipient?.email ? { id: recipient.id, email: recipient.email } : null;
  }

  return app;
}

/** `michelle@shop.test` → `m•••@shop.test`: enough for a reader with several addresses, nothing for anyone else. */
function masked(email: string): string {
  const at = email.lastIndexOf('@');
  return at <= 0 ? '•••' : `${email[0]}•••${email.slice(at)}`;
}

/** The token is in the address: no referrer carries it on, no cache keeps it, no other site frames the button. */
const HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function page(c: Context, title: string, body: string, status: 200 | 400 = 200): Response {
  const html =
    `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${title}</title><main style="font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:30em;padding:0 1em">` +
    `<h1 style="font-size:1.5em">${title}</h1>${body}</main></html>`;
  return c.html(html, status, HEADERS);
}

const plain = (c: Context, text: string) => c.text(text, 200, HEADERS);
const notFoundPage = (c: Context) => c.html(LINK_NOT_FOUND_PAGE, 404, HEADERS);
