-- Foundation: people, tenants, memberships, sessions, the append-only audit log, API keys.
-- Times are Unix milliseconds (BIGINT) so the same SQL runs on SQLite and PostgreSQL.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE tenants (
    id         BIGSERIAL PRIMARY KEY,
    slug       TEXT   NOT NULL UNIQUE,
    name       TEXT   NOT NULL,
    plan       TEXT   NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise')),
    -- Bumped inside key-creating transactions: the row lock serialises concurrent creates.
    key_seq    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a leaked table cannot be replayed as cookies.
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  BIGINT REFERENCES tenants (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_events (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT,
    actor_user_id BIGINT,
    actor         TEXT   NOT NULL,
    action        TEXT   NOT NULL,
    target_type   TEXT,
    target_id     TEXT,
    client_ip     TEXT,
    details       TEXT   NOT NULL DEFAULT '{}',
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);
CREATE INDEX audit_events_target ON audit_events (tenant_id, target_id, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE api_keys (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT   NOT NULL UNIQUE,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT   NOT NULL,
    description     TEXT   NOT NULL DEFAULT '',
    mode            TEXT   NOT NULL CHECK (mode IN ('live', 'test')),
    scopes          TEXT   NOT NULL,
    allowlist       TEXT   NOT NULL DEFAULT '',
    digest          TEXT   NOT NULL UNIQUE,
    hash_version    BIGINT NOT NULL,
    masked          TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('active', 'revoked')),
    expires_at      BIGINT,
    created_at      BIGINT NOT NULL,
    created_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_by_name TEXT   NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT,
    revoked_by      TEXT,
    revoke_reason   TEXT
);
CREATE INDEX api_keys_tenant_status ON api_keys (tenant_id, status, id);
