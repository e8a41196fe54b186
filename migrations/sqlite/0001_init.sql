-- The first schema. Times are integer milliseconds since the Unix epoch (UTC) in both dialects.
-- STRICT makes SQLite refuse values of the wrong type, as PostgreSQL does.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_id  TEXT UNIQUE,
    username    TEXT NOT NULL,
    global_name TEXT,
    avatar      TEXT,
    site_role   TEXT NOT NULL DEFAULT 'guest' CHECK (site_role IN ('owner', 'admin', 'member', 'guest')),
    locale      TEXT NOT NULL DEFAULT 'en',
    time_zone   TEXT NOT NULL DEFAULT 'UTC',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT NOT NULL,
    target        TEXT,
    before_json   TEXT,
    after_json    TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_log_created_at ON audit_log (created_at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
