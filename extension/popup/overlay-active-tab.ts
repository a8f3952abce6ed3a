import { WEBMAIL_ORIGINS } from '../webmail-origins.ts';
import { browser } from '../platform/browser.ts';
import type { InjectReply, RuntimeMessage } from '../runtime-messages.ts';

/**
 * Paints the overlay on the tab the popup was opened over. activeTab lets that happen on
 * any site; Gmail and Outlook also get their host permission asked for here, the first
 * time, so the overlay can keep working as their single-page apps move between mails.
 * Returns what went wrong, or null.
 */
export async function overlayActiveTab(): Promise<string | null> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  if (tab?.id === undefined) return 'No tab to overlay.';
  const webmail = tab.url ? WEBMAIL_ORIGINS.find((pattern) => new URL(pattern.replace('/*', '/')).origin === new URL(tab.url!).origin) : undefined;
  if (webmail && !(await browser.permissions.contains({ origins: [webmail] }))) {
    await browser.permissions.request({ origins: [webmail] });
  }
  const reply: InjectReply = await browser.runtime.sendMessage({ type: 'overlay.inject', tabId: tab.id } satisfies RuntimeMessage);
  return reply.ok ? null : reply.error;
}
