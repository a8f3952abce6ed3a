/**
 * The identity cookie set by a human click on a tracked link (Domain=CLICKTRAIL_COOKIE_DOMAIN)
 * and read by the widget on the customer's site. Its value is the click's own link token and
 * the click's time (server/tokens identityCookie): never an email address or anything else.
 */
export const IDENTITY_COOKIE = 'clicktrail_id';

/** The longest cookie value boot takes (tokens are far shorter): the widget sends no longer one. */
export const MAX_IDENTITY_CHARS = 200;

/**
 * The query parameter a reply email's link adds to the conversation's page (`?clicktrail_conversation=12`):
 * the widget there opens on that conversation, when it is this browser's to see. It names a
 * conversation, never a person, and grants nothing: the widget's session decides what shows.
 */
export const RETURN_TO_CONVERSATION_PARAM = 'clicktrail_conversation';
