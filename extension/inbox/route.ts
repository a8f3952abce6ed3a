/** What the inbox is pointed at: `#conversation=<id>` from a notification, or `#person=<id>` for a lead's visit. */
export type InboxRoute = { conversation: number } | { person: number } | null;

export function parseRoute(hash: string): InboxRoute {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const conversation = Number(params.get('conversation'));
  if (Number.isSafeInteger(conversation) && conversation > 0) return { conversation };
  const person = Number(params.get('person'));
  if (Number.isSafeInteger(person) && person > 0) return { person };
  return null;
}
