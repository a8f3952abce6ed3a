import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vite';

/**
 * `vite build --mode widget`: one self-contained IIFE, dist/widget/widget.js, that a
 * customer's page loads with a single <script> tag (no module loader, no chunks).
 */
export function widgetConfig(outDir = fileURLToPath(new URL('../dist/widget', import.meta.url))): UserConfig {
  return {
    publicDir: false,
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2020',
      sourcemap: false,
      lib: {
        entry: fileURLToPath(new URL('./main.tsx', import.meta.url)),
        formats: ['iife'],
        name: 'ClicktrailWidget',
        fileName: () => 'widget.js',
      },
    },
  };
}
