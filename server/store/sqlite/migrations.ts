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
  // 5: a verified user (the widget's identify, signed by userHash) is a person of their own,
  // keyed by the site's user id alone; the email they give is an attribute, never a key, so
  // it can't lead to the person a recipient row knows by that email. SQLite can't relax
  // people.email's NOT NULL in place: the table is copied out and back under the same ids
  // (foreign keys deferred, so the references to it are checked once it is whole again).
  // Sessions verified under the old rule may have named someone else's person: they boot again.
  `
  PRAGMA defer_foreign_keys = ON;
  CREATE TEMP TABLE people_v4 AS SELECT * FROM people;
  DROP TABLE people;
  CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    email TEXT UNIQUE COLLATE NOCASE, -- a lead's key (recipients, click cookies, POST /api/events); NULL for a verified user
    user_id TEXT UNIQUE,              -- a verified user's key
    user_email TEXT,                  -- the email a verified user gave
    name TEXT,
    created_at INTEGER NOT NULL,
    CHECK ((email IS NULL) <> (user_id IS NULL))
  );
  INSERT INTO people (id, email, name, created_at) SELECT id, email, name, created_at FROM temp.people_v4;
  DROP TABLE temp.people_v4;
  UPDATE visitors SET person_id = NULL, identified_by = NULL, recipient_id = NULL, link_id = NULL
  WHERE identified_by = 'verified';
  `,
  // 6: a click counted as a person's but identifying nobody has a suspect reason; clicks by
  // reason are counted per recipient and link, so stats and people say why without scanning clicks.
  `
  ALTER TABLE clicks ADD COLUMN suspect_reason TEXT;
  ALTER TABLE link_counts ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE message_counts ADD COLUMN clicks_suspect INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE recipient_link_counts ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE click_reasons (
    recipient_id INTEGER NOT NULL,
    link_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('bot', 'suspect')),
    reason TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (recipient_id, link_id, verdict, reason)
  ) WITHOUT ROWID;
  CREATE INDEX click_reasons_by_message ON click_reasons (message_id);
  INSERT INTO click_reasons (recipient_id, link_id, message_id, verdict, reason, n)
    SELECT recipient_id, link_id, message_id, 'bot', bot_reason, count(*) FROM clicks
    WHERE bot_reason IS NOT NULL GROUP BY recipient_id, link_id, bot_reason;
  `,
  // 7: one journal position per node (each server folds its own click journal into the
  // shared database); the single position of before is node '' until a node takes it over.
  `
  CREATE TABLE click_journals (
    node TEXT PRIMARY KEY,
    segment INTEGER NOT NULL,
    offset INTEGER NOT NULL
  );
  INSERT INTO click_journals (node, segment, offset) SELECT '', segment, offset FROM click_journal;
  DROP TABLE click_journal;
  `,
  // 8: sending as a marketer would, and in-app and push messages. A message keeps its From,
  // Reply-To and kind, its audience (in-app) and push content (as JSON), and when its first send
  // or publication started (sent_at: null is a draft, which alone may be edited or deleted; for
  // the messages already sent, their recipients' earliest send, or the latest recipient a send
  // reached without mailing). Editing or deleting a draft removes link placements, and SQLite
  // hands the largest rowid out again: links are made AUTOINCREMENT (copied out and back under
  // the same ids), so a placement id is never another's, whatever a redirect (of any worker)
  // still has cached. An in-app message gets a recipient row when it is shown: to a person, or
  // to an anonymous visitor (no person, no email; visitor_id names the widget session), once per
  // message each; dismissed_at is when they closed the card. SQLite can't relax recipients' NOT
  // NULLs in place: that table is made again and the rows copied across under the same ids
  // (nothing references it by foreign key). A recipient keeps when they unsubscribed; the
  // suppression list holds the addresses (lower-cased) no marketing email goes to.
  `
  ALTER TABLE links RENAME TO links_v7;
  CREATE TABLE links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    position INTEGER NOT NULL,
    part TEXT NOT NULL,
    url TEXT NOT NULL,
    text TEXT NOT NULL,
    tracked INTEGER NOT NULL,
    reason TEXT,
    honeypot INTEGER NOT NULL DEFAULT 0,
    UNIQUE (message_id, position)
  );
  INSERT INTO links (id, message_id, position, part, url, text, tracked, reason, honeypot)
    SELECT id, message_id, position, part, url, text, tracked, reason, honeypot FROM links_v7;
  DROP TABLE links_v7;
  ALTER TABLE messages ADD COLUMN from_address TEXT;
  ALTER TABLE messages ADD COLUMN reply_to TEXT;
  ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'marketing';
  ALTER TABLE messages ADD COLUMN sent_at INTEGER;
  ALTER TABLE messages ADD COLUMN audience TEXT;
  ALTER TABLE messages ADD COLUMN push TEXT;
  UPDATE messages SET sent_at = (
    SELECT coalesce(min(r.sent_at), max(r.added_at)) FROM recipients r WHERE r.message_id = messages.id AND r.status <> 'pending');
  CREATE INDEX messages_published_in_app ON messages (sent_at) WHERE channel = 'in_app';
  CREATE TABLE recipients_v8 (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    person_id INTEGER REFERENCES people(id),
    visitor_id INTEGER REFERENCES visitors(id),
    email TEXT,
    name TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    added_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    sent_at INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    human_clicks INTEGER NOT NULL DEFAULT 0,
    human_opens INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER,
    goal_at INTEGER,
    dismissed_at INTEGER,
    unsubscribed_at INTEGER,
    UNIQUE (message_id, person_id),
    UNIQUE (message_id, visitor_id)
  );
  INSERT INTO recipients_v8 (id, message_id, person_id, email, name, attributes, added_at, status, sent_at, error, attempts,
                             human_clicks, human_opens, opened_at, goal_at)
    SELECT id, message_id, person_id, email, name, attributes, added_at, status, sent_at, error, attempts,
           human_clicks, human_opens, opened_at, goal_at FROM recipients;
  DROP TABLE recipients;
  ALTER TABLE recipients_v8 RENAME TO recipients;
  CREATE INDEX recipients_by_status ON recipients (message_id, status);
  CREATE TABLE suppressions (
    email TEXT NOT NULL PRIMARY KEY,
    reason TEXT NOT NULL,
    message_id INTEGER,
    recipient_id INTEGER,
    at INTEGER NOT NULL
  );
  CREATE INDEX suppressions_by_time ON suppressions (at);
  CREATE INDEX suppressions_by_message ON suppressions (message_id);
  `,
  // 9: many machines on one database. A claim of a send names the node that made it
  // (claimed_by), so a node's start gives back its own claims a crash cut short, never those
  // of another node that may be mid-send; claims made before (NULL) are given back by a
  // machine's first node. The webhook cursor gets a lease (holder, lease_until: milliseconds
  // by the database's clock): one node of all delivers, and only it moves the cursor.
  `
  ALTER TABLE recipients ADD COLUMN claimed_by TEXT;
  ALTER TABLE webhook_cursor ADD COLUMN holder TEXT;
  ALTER TABLE webhook_cursor ADD COLUMN lease_until INTEGER;
  `,
  // 10: replies by email. A conversation keeps how far its visitor has seen it (seen_through, a
  // message id), how far its team replies were taken for mailing (mailed_through), and when the
  // oldest reply past both was written (unseen_reply_at; null: none waits), so the sender finds
  // what is due through an index, however many conversations there are. Conversations from before
  // count as taken up to their last message: nothing written before the upgrade is mailed. A
  // visitor may leave an address for replies (contact_email: theirs alone, never a person's key).
  // Each mail of replies is a reply_emails row, claimed before it is sent, so one process sends it
  // however many there are.
  `
  ALTER TABLE conversations ADD COLUMN seen_through INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN mailed_through INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN unseen_reply_at INTEGER;
  UPDATE conversations SET mailed_through = coalesce((SELECT max(id) FROM conversation_messages WHERE conversation_id = conversations.id), 0);
  CREATE INDEX conversations_with_unseen_replies ON conversations (unseen_reply_at) WHERE unseen_reply_at IS NOT NULL;
  ALTER TABLE visitors ADD COLUMN contact_email TEXT;
  CREATE TABLE reply_emails (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    after_id INTEGER NOT NULL,
    through_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'seen')),
    attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL,
    sent_at INTEGER,
    error TEXT,
    clicked_at INTEGER
  );
  CREATE INDEX reply_emails_by_conversation ON reply_emails (conversation_id);
  CREATE INDEX reply_emails_unfinished ON reply_emails (claimed_at) WHERE status IN ('sending', 'failed');
  `,
  // 11: a recipient's human clicks are the sum of its recipient_link_counts rows' (both were
  // always written together, since 2), read from there rather than kept twice: a recipient row
  // is written by the click ingest only for a human open.
  `
  ALTER TABLE recipients DROP COLUMN human_clicks;
  `,
];
