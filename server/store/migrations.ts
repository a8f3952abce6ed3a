/**
 * Schema versions, applied in order at start; PRAGMA user_version records how far a file
 * has come, so a database made by an older release opens and upgrades. Never edit a
 * migration that has shipped: add the next one.
 */
export const migrations: string[] = [
  // 1: messages, their links, people and recipients with delivery state, settings
  `
  CREATE TABLE settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
  );
  CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT,
    channel TEXT NOT NULL,
    goal_event TEXT,
    goal_within_days INTEGER,
    compiled TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    position INTEGER NOT NULL,
    part TEXT NOT NULL,
    url TEXT NOT NULL,
    text TEXT NOT NULL,
    tracked INTEGER NOT NULL,
    reason TEXT,
    UNIQUE (message_id, position)
  );
  CREATE TABLE recipients (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    email TEXT NOT NULL,
    name TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    added_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    sent_at INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (message_id, person_id)
  );
  CREATE INDEX recipients_by_status ON recipients (message_id, status);
  `,
];
