-- Foundation: people, tenants, memberships, sessions, the append-only audit log, API keys.
-- Times are Unix milliseconds (INTEGER) so the same SQL runs on SQLite and PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    plan       TEXT    NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise')),
    -- Bumped inside key-creating transactions: the row lock serialises concurrent creates.
    key_seq    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a leaked table cannot be replayed as cookies.
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  INTEGER REFERENCES tenants (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER,
    actor_user_id INTEGER,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target_type   TEXT,
    target_id     TEXT,
    client_ip     TEXT,
    details       TEXT    NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);
CREATE INDEX audit_events_target ON audit_events (tenant_id, target_id, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT    NOT NULL UNIQUE,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    mode            TEXT    NOT NULL CHECK (mode IN ('live', 'test')),
    scopes          TEXT    NOT NULL,
    allowlist       TEXT    NOT NULL DEFAULT '',
    digest          TEXT    NOT NULL UNIQUE,
    hash_version    INTEGER NOT NULL,
    masked          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
    expires_at      INTEGER,
    created_at      INTEGER NOT NULL,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_by_name TEXT    NOT NULL,
    last_used_at    INTEGER,
    revoked_at      INTEGER,
    revoked_by      TEXT,
    revoke_reason   TEXT
);
CREATE INDEX api_keys_tenant_status ON api_keys (tenant_id, status, id);
