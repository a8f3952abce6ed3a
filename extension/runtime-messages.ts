import type { ResolvedLink, TeamEvent } from '../api/types.ts';
import type { MessageData } from './overlay/link-heat.ts';

/** What the extension's parts say to each other through runtime.sendMessage. */
export type RuntimeMessage =
  /** From an extension page: paint the overlay on this tab. */
  | { type: 'overlay.inject'; tabId: number }
  /** From the overlay script: which of these hrefs are tracked links, and their messages' numbers. */
  | { type: 'overlay.data'; hrefs: string[] }
  /** From the service worker to open extension pages: something happened on the team's side. */
  | { type: 'team.event'; event: TeamEvent };

export type OverlayDataReply =
  | { ok: true; links: ResolvedLink[]; messages: Record<number, MessageData & { subject: string }> }
  | { ok: false; error: string };

export type InjectReply = { ok: true } | { ok: false; error: string };
