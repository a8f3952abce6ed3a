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
  // 2: clicks and opens, and the counters kept up to date as they are committed
  `
  ALTER TABLE recipients ADD COLUMN human_clicks INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE recipients ADD COLUMN human_opens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE recipients ADD COLUMN opened_at INTEGER;
  ALTER TABLE recipients ADD COLUMN goal_at INTEGER;
  ALTER TABLE links ADD COLUMN honeypot INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE clicks (
    id INTEGER PRIMARY KEY,
    link_id INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    bot_reason TEXT,
    ip TEXT,
    user_agent TEXT
  );
  CREATE INDEX clicks_by_recipient ON clicks (recipient_id, at);
  CREATE TABLE opens (
    id INTEGER PRIMARY KEY,
    recipient_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    bot_reason TEXT,
    ip TEXT,
    user_agent TEXT
  );
  CREATE INDEX opens_by_recipient ON opens (recipient_id, at);
  CREATE TABLE recipient_link_counts (
    recipient_id INTEGER NOT NULL,
    link_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    human INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    first_at INTEGER, -- of the human clicks
    last_at INTEGER,
    PRIMARY KEY (recipient_id, link_id)
  ) WITHOUT ROWID;
  CREATE INDEX recipient_link_counts_by_message ON recipient_link_counts (message_id);
  CREATE TABLE link_counts (
    link_id INTEGER PRIMARY KEY,
    total INTEGER NOT NULL DEFAULT 0,
    uniq INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE message_counts (
    message_id INTEGER PRIMARY KEY,
    clicks_total INTEGER NOT NULL DEFAULT 0,
    clicks_unique INTEGER NOT NULL DEFAULT 0,
    clicks_bot INTEGER NOT NULL DEFAULT 0,
    opens_total INTEGER NOT NULL DEFAULT 0,
    opens_unique INTEGER NOT NULL DEFAULT 0,
    opens_bot INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE click_hours (
    message_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    human INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, hour)
  ) WITHOUT ROWID;
  `,
  // 3: the messenger: visitor sessions, conversations, lead visits, the team's event log, goals
  `
  CREATE TABLE visitors (
    id INTEGER PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    person_id INTEGER REFERENCES people(id),
    identified_by TEXT,
    recipient_id INTEGER,
    link_id INTEGER,
    created_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
  );
  CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id),
    person_id INTEGER REFERENCES people(id),
    identified_by TEXT,
    page_url TEXT,
    started_at INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    last_message TEXT NOT NULL
  );
  CREATE INDEX conversations_by_visitor ON conversations (visitor_id);
  CREATE INDEX conversations_by_person ON conversations (person_id);
  CREATE INDEX conversations_by_last_message ON conversations (last_message_at);
  CREATE TABLE conversation_messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    author TEXT NOT NULL CHECK (author IN ('visitor', 'team')),
    body TEXT NOT NULL,
    client_id TEXT UNIQUE,
    at INTEGER NOT NULL
  );
  CREATE INDEX conversation_messages_by_conversation ON conversation_messages (conversation_id, id);
  CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    visitor_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    referrer TEXT,
    recipient_id INTEGER,
    link_id INTEGER,
    at INTEGER NOT NULL
  );
  CREATE INDEX visits_by_person_page ON visits (person_id, url, at);
  CREATE TABLE team_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    delivered_through INTEGER NOT NULL
  );
  CREATE TABLE person_events (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX person_events_by_person ON person_events (person_id, name, at);
  INSERT INTO settings (id, data) VALUES (1, '{}') ON CONFLICT (id) DO NOTHING;
  UPDATE settings SET data = json_set(data,
    '$.identitySecret', lower(hex(randomblob(32))),
    '$.webhookSecret', lower(hex(randomblob(32))))
  WHERE id = 1;
  `,
  // 4: how far the click journal has been folded into the tables above
  `
  CREATE TABLE click_journal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    segment INTEGER NOT NULL,
    offset INTEGER NOT NULL
  );
  `,
];
