-- The bot bridge: the DM queue's records, each member's DM status, and one-time codes that link a
-- Discord account to a site account (/link). The KV queue "dm" carries message ids; this table is
-- the record admins see and the source of truth for "was it delivered". Times are Unix milliseconds.

CREATE TABLE dm_messages (
    id                 TEXT PRIMARY KEY,  -- random; also the Discord message nonce (exactly-once)
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_key        TEXT NOT NULL,     -- locale key, rendered in the member's language at send time
    args               TEXT NOT NULL DEFAULT '{}',  -- JSON object of message arguments
    dedupe_key         TEXT UNIQUE,       -- a feature's own idempotency key (e.g. stint reminder + minute)
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'in_flight', 'delivered', 'failed', 'dead', 'discarded')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    queue_item         TEXT,              -- the KV queue item carrying it now
    last_error         TEXT,              -- error code of the last failed attempt
    discord_code       INTEGER,              -- Discord's JSON error code (50007: DMs closed)
    discord_message_id TEXT,
    next_attempt_at    INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    delivered_at       INTEGER
) STRICT;
CREATE INDEX dm_messages_by_status ON dm_messages (status, updated_at);
CREATE INDEX dm_messages_by_user ON dm_messages (user_id, created_at);

-- Whether Discord accepts DMs from the bot for this member: unknown until the first DM, closed after
-- error 50007 (shown on the profile with how to fix it), open again after a delivered DM.
ALTER TABLE users ADD COLUMN dm_status TEXT NOT NULL DEFAULT 'unknown' CHECK (dm_status IN ('unknown', 'open', 'closed'));
ALTER TABLE users ADD COLUMN dm_status_at INTEGER;

-- /link: the bot hands a Discord user a one-time code; a signed-in member confirms it on the web.
CREATE TABLE link_codes (
    code_hash        TEXT PRIMARY KEY,  -- SHA-256 of the code; the code itself is never stored
    discord_id       TEXT NOT NULL,
    discord_username TEXT NOT NULL DEFAULT '',
    expires_at       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
