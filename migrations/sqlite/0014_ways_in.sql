-- Ways in without a Latchkey password (issue 25): one-time portal links minted through the
-- operator API, the sessions they open, and people signing in with the SaaS's OpenID provider.

CREATE TABLE portal_links (
    -- SHA-256 of the token: the link itself is stored nowhere.
    token_hash TEXT    PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_only  INTEGER NOT NULL,
    return_url TEXT,
    next_path  TEXT,
    -- The operator token's name, for the audit trail of the redemption.
    minted_by  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX portal_links_expires ON portal_links (expires_at);

-- A portal session is pinned to its tenant (no switcher), may be capped at member, keeps the
-- operator's own idle window, and may carry the way back to the SaaS.
ALTER TABLE sessions ADD COLUMN portal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN idle_ms INTEGER;
ALTER TABLE sessions ADD COLUMN return_url TEXT;
CREATE INDEX sessions_tenant ON sessions (tenant_id);

-- People who sign in through the OpenID provider, by (issuer, subject), never by email alone.
CREATE TABLE user_identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
