/** settings: one row, the settings as JSON. */
export const settingsSql = {
  get: 'SELECT data FROM settings WHERE id = 1',
  /** A patch merges into what is stored, in one statement: two nodes changing different settings both keep theirs. */
  put: `INSERT INTO settings (id, data) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET data = (settings.data::jsonb || excluded.data::jsonb)::text
        RETURNING data`,
} as const;
