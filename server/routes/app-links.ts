import { Hono, type Context } from 'hono';
import type { AppLinks } from '../../api/types.ts';
import type { AppContext } from '../context.ts';

/**
 * The files by which an iOS or Android app claims the tracking domain, so a tracked link opens
 * the app directly (which then resolves it: GET /c/:token with Accept: application/json). Made
 * from settings.appLinks; 404 while the platform has none, so an app never claims links by a
 * stale or empty file. Both must be answered with 200 and application/json, never a redirect.
 */

/**
 * Apple's apple-app-site-association, applinks only: one `details` entry per app, its paths as
 * `components` (iOS 13 and later; the legacy `paths` key is not written).
 * https://developer.apple.com/documentation/bundleresources/applinks
 * https://developer.apple.com/documentation/bundleresources/applinks/details-swift.dictionary
 * https://developer.apple.com/documentation/bundleresources/applinks/details-swift.dictionary/components-swift.dictionary
 */
export function appleAppSiteAssociation(apple: AppLinks['apple']) {
  return {
    applinks: {
      details: apple.map((app) => ({ appIDs: [app.appId], components: app.paths.map((path) => ({ '/': path })) })),
    },
  };
}

/**
 * Google's Digital Asset Links statement list: each app may handle all of the domain's URLs.
 * https://developers.google.com/digital-asset-links/v1/statements (syntax)
 * https://developers.google.com/digital-asset-links/v1/create-statement (location, 200, application/json)
 */
export function assetLinks(android: AppLinks['android']) {
  return android.map((app) => ({
    relation: ['delegate_permission/common.handle_all_urls'],
    target: { namespace: 'android_app', package_name: app.packageName, sha256_cert_fingerprints: app.sha256CertFingerprints },
  }));
}

export function appLinkRoutes({ store }: AppContext): Hono {
  const app = new Hono();
  const serve = (c: Context, body: unknown) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(body);
  };
  const notConfigured = (c: Context, platform: string) => c.text(`No ${platform} app is configured (settings.appLinks.${platform}).`, 404);

  app.get('/apple-app-site-association', async (c) => {
    const { apple } = (await store.getSettings()).appLinks;
    return apple.length ? serve(c, appleAppSiteAssociation(apple)) : notConfigured(c, 'apple');
  });
  app.get('/assetlinks.json', async (c) => {
    const { android } = (await store.getSettings()).appLinks;
    return android.length ? serve(c, assetLinks(android)) : notConfigured(c, 'android');
  });
  return app;
}
