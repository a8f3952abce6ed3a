/** Mail on the web: optional host permissions, asked for the first time the overlay is used there. */
export const WEBMAIL_ORIGINS = ['https://mail.google.com/*', 'https://outlook.office.com/*', 'https://outlook.live.com/*'];
