/**
 * The identity cookie set by a human click on a tracked link (Domain=CLICKTRAIL_COOKIE_DOMAIN)
 * and read by the widget on the customer's site. Its value is an opaque signed token
 * (server/tokens) naming the person: never an email address or anything else.
 */
export const IDENTITY_COOKIE = 'clicktrail_id';
