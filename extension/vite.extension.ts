import { resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { crx } from '@crxjs/vite-plugin';
import type { Plugin, UserConfig } from 'vite';
import manifest from './manifest.config.ts';

const here = import.meta.dirname;

/**
 * crxjs lists every script file as web-accessible to all sites, but the overlay goes in
 * through scripting.executeScript, which needs no such exposure: keep pages from probing
 * for (and so fingerprinting) the extension.
 */
const noWebAccessibleOverlay: Plugin = {
  name: 'clicktrail:no-web-accessible-overlay',
  // After crxjs has written the manifest: its own hooks add the entry late.
  writeBundle({ dir }) {
    const path = resolve(dir!, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { web_accessible_resources?: { resources: string[] }[] };
    const kept = manifest.web_accessible_resources?.filter((entry) => !entry.resources.some((r) => r.startsWith('overlay/')));
    if (kept?.length) manifest.web_accessible_resources = kept;
    else delete manifest.web_accessible_resources;
    writeFileSync(path, JSON.stringify(manifest, null, 2));
  },
};

/** The unpacked extension: `vite build --mode extension` → dist/extension (load it at chrome://extensions). */
export function extensionConfig(): UserConfig {
  return {
    root: here,
    publicDir: resolve(here, 'public'),
    plugins: [crx({ manifest }), noWebAccessibleOverlay],
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir: resolve(here, '../dist/extension'),
      emptyOutDir: true,
      rollupOptions: {
        // Pages the manifest doesn't name: opened from the popup (the message view, the inbox, the composer) and from notifications.
        input: {
          message: resolve(here, 'message/message.html'),
          inbox: resolve(here, 'inbox/inbox.html'),
          compose: resolve(here, 'compose/compose.html'),
        },
      },
    },
  };
}
