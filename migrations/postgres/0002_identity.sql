-- Identity: Discord membership, site roles from an admin-editable mapping, linked accounts whose
-- tokens are encrypted at rest (AES-256-GCM ciphertexts with a key id, see platform/auth/token_cipher).

-- The role granted by hand (`pitwall user grant`, the members panel): a floor the Discord mapping
-- can raise but never lower. site_role stays the effective role every request reads.
ALTER TABLE users ADD COLUMN granted_role TEXT CHECK (granted_role IN ('owner', 'admin', 'member', 'guest'));
ALTER TABLE users ADD COLUMN nickname TEXT;            -- the Discord server nickname, shown first
ALTER TABLE users ADD COLUMN preferred_locale TEXT;    -- chosen by the member; NULL: follow the browser
ALTER TABLE users ADD COLUMN discord_roles TEXT NOT NULL DEFAULT '[]';  -- JSON array of role ids
ALTER TABLE users ADD COLUMN guild_member BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

UPDATE users SET granted_role = site_role WHERE site_role IN ('owner', 'admin');

CREATE TABLE role_mappings (
    discord_role_id TEXT PRIMARY KEY,
    site_role       TEXT NOT NULL CHECK (site_role IN ('owner', 'admin', 'member', 'guest')),
    label           TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL
);

CREATE TABLE linked_accounts (
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL CHECK (provider IN ('iracing', 'garage61')),
    subject            TEXT NOT NULL,  -- iRacing customer id, Garage61 /me.id
    display_name       TEXT NOT NULL DEFAULT '',
    slug               TEXT,           -- Garage61 driver slug (mutable)
    slug_source        TEXT,           -- id_token, userinfo or me: which step resolved it
    access_token       TEXT,           -- ciphertext
    refresh_token      TEXT,           -- ciphertext
    access_expires_at  BIGINT,
    refresh_expires_at BIGINT,
    scope              TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'revoked', 'error')),
    last_sync_at       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (user_id, provider),
    UNIQUE (provider, subject)
);
