/** people: leads keyed by email, verified users keyed by their user id. */

/** A person's email as the team sees it: a lead's key, or the attribute a verified user gave. */
export const PERSON_EMAIL = 'coalesce(p.email, p.user_email)';

/** A lead's key, as SQLite's COLLATE NOCASE compares it (people_by_email indexes it). */
export const EMAIL_KEY = 'lower(email COLLATE "C")';

export const peopleSql = {
  byId: `SELECT id, name, ${PERSON_EMAIL} AS email FROM people p WHERE id = $1`,
  /** The one way a lead is made or renamed: recipients, click cookies and POST /api/events all come here. */
  upsertLead: `INSERT INTO people (email, name, created_at) VALUES ($1, $2, $3)
               ON CONFLICT ((${EMAIL_KEY})) DO UPDATE SET name = coalesce(excluded.name, people.name)
               RETURNING id, name, email`,
  /** upsertLead for many at once (no email twice): their ids in the order given. */
  upsertLeads: `INSERT INTO people (email, name, created_at)
                SELECT email, name, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(email, name, i) ORDER BY i
                ON CONFLICT ((${EMAIL_KEY})) DO UPDATE SET name = coalesce(excluded.name, people.name)
                RETURNING id, ${EMAIL_KEY} AS key`,
  upsertVerified: `INSERT INTO people (user_id, user_email, name, created_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (user_id) DO UPDATE SET user_email = excluded.user_email, name = coalesce(excluded.name, people.name)
                   RETURNING id, name, user_email AS email`,
} as const;
