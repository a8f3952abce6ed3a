import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'vite';
import { WIDGET_BUILD } from '../../server/messenger/widget-script.ts';
import { widgetConfig } from '../../widget/vite.widget.ts';

const ROOT = join(import.meta.dirname, '../..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * dist/widget/widget.js, built now if missing or older than its sources (`npm test` builds it
 * first; this keeps `npx vitest run` honest after an edit). Built aside and renamed into
 * place, so test files building at the same time never see half a file.
 */
export async function ensureWidgetBuilt(): Promise<string> {
  const sources = Math.max(newestSource(join(ROOT, 'widget')), newestSource(join(ROOT, 'api')));
  try {
    if (statSync(WIDGET_BUILD).mtimeMs >= sources) return WIDGET_BUILD;
  } catch {
    // not built yet
  }
  const aside = join(ROOT, 'dist', `.widget-${process.pid}-${Date.now()}`);
  await build({ ...widgetConfig(aside), configFile: false, logLevel: 'warn' });
  mkdirSync(dirname(WIDGET_BUILD), { recursive: true });
  renameSync(join(aside, 'widget.js'), WIDGET_BUILD);
  rmSync(aside, { recursive: true, force: true });
  return WIDGET_BUILD;
}
