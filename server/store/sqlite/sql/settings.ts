/** settings: one row, the settings as JSON. */
export const settingsSql = {
  get: 'SELECT data FROM settings WHERE id = 1',
  put: 'INSERT INTO settings (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
} as const;
