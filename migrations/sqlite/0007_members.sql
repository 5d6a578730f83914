-- Members and roles: invitations (single-use, only the token's SHA-256 stored, 7 days,
-- revocable), single-use password-reset links, and each person's last sign-in.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email           TEXT   NOT NULL,
    role            TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash      TEXT   NOT NULL UNIQUE,
    invited_by      TEXT   NOT NULL,
    invited_by_user INTEGER,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    accepted_at     INTEGER,
    accepted_by     INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, id);

CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
