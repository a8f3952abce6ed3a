/** people: leads keyed by email, verified users keyed by their user id (migration 5). */

/** A person's email as the team sees it: a lead's key, or the attribute a verified user gave. */
export const PERSON_EMAIL = 'coalesce(p.email, p.user_email)';

export const peopleSql = {
  byId: `SELECT id, name, ${PERSON_EMAIL} AS email FROM people p WHERE id = ?`,
  /** The one way a lead is made or renamed: recipients, click cookies and POST /api/events all come here. */
  upsertLead: `INSERT INTO people (email, name, created_at) VALUES (?, ?, ?)
               ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, people.name)
               RETURNING id, name, email`,
  upsertVerified: `INSERT INTO people (user_id, user_email, name, created_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET user_email = excluded.user_email, name = coalesce(excluded.name, people.name)
                   RETURNING id, name, user_email AS email`,
} as const;
