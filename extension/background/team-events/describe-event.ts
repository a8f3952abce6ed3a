import type { PersonRef, TeamEvent } from '../../../api/types.ts';

export interface EventNotice {
  title: string;
  message: string;
  context?: string;
  conversationId: number | null;
  personId: number | null;
}

const who = (p: PersonRef | null) => (p ? p.name || p.email : 'A visitor');

/** What the team is told about an event, or null for events that are not news (the team's own replies). */
export function describeEvent(event: TeamEvent): EventNotice | null {
  switch (event.type) {
    case 'lead.visit':
      return {
        title: `${who(event.person)} is on your site`,
        message: event.url,
        context: event.messageSubject
          ? `From “${event.messageSubject}”${event.identifiedBy === 'email-click' ? ' (identified by email click)' : ''}`
          : event.identifiedBy === 'verified'
            ? 'Verified visitor'
            : 'Identified by email click',
        conversationId: null,
        personId: event.person.id,
      };
    case 'conversation.created':
      return {
        title: `New conversation: ${who(event.conversation.person)}`,
        message: event.conversation.lastMessage,
        ...(event.conversation.pageUrl ? { context: event.conversation.pageUrl } : {}),
        conversationId: event.conversation.id,
        personId: event.conversation.person?.id ?? null,
      };
    case 'conversation.message':
      if (event.message.author !== 'visitor') return null;
      return {
        title: `${who(event.person)} wrote`,
        message: event.message.body,
        conversationId: event.conversationId,
        personId: event.person?.id ?? null,
      };
  }
}
