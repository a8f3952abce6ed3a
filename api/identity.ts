/**
 * The identity cookie set by a human click on a tracked link (Domain=CLICKTRAIL_COOKIE_DOMAIN)
 * and read by the widget on the customer's site. Its value is an opaque signed token
 * (server/tokens) naming the person: never an email address or anything else.
 */
export const IDENTITY_COOKIE = 'clicktrail_id';

/** The longest cookie value boot takes (tokens are far shorter): the widget sends no longer one. */
export const MAX_IDENTITY_CHARS = 200;
