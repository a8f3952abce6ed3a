/**
 * The one door to the extension APIs. Everything else imports `browser` from here, never
 * `chrome.*` or the polyfill directly, so a test can stand a fake in with vi.mock().
 */
import browser from 'webextension-polyfill';

export type { Browser, Runtime, Tabs, Notifications, Alarms } from 'webextension-polyfill';
export { browser };
