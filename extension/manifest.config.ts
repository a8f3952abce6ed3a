import { defineManifest } from '@crxjs/vite-plugin';
import pkg from '../package.json' with { type: 'json' };
import { WEBMAIL_ORIGINS } from './webmail-origins.ts';


/**
 * Test builds only: host patterns granted up front, because an automated browser cannot
 * answer the permission prompt the options page raises for the server's origin.
 */
const testGrants = (process.env.CLICKTRAIL_EXTENSION_TEST_HOSTS ?? '').split(',').filter(Boolean);

export default defineManifest({
  manifest_version: 3,
  name: 'Clicktrail',
  description: 'Click heatmaps and per-person stats over your sent email, lead notifications and replies.',
  version: pkg.version,
  icons: { 16: 'icons/icon-16.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' },
  action: { default_popup: 'popup/popup.html', default_title: 'Clicktrail' },
  options_ui: { page: 'options/options.html', open_in_tab: true },
  background: { service_worker: 'background/service-worker.ts', type: 'module' },
  permissions: ['activeTab', 'scripting', 'storage', 'notifications', 'alarms'],
  // The server's origin is asked for when it is saved in the options; webmail when first overlaid.
  optional_host_permissions: [...WEBMAIL_ORIGINS, 'http://*/*', 'https://*/*'],
  ...(testGrants.length ? { host_permissions: testGrants } : {}),
});
