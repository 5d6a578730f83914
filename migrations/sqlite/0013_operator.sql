-- The operator API (issue 24): tokens the SaaS backend calls `/v1/admin` with, tenants and
-- members keyed by the SaaS's own ids, minting gates (requirements), resources a key may be
-- limited to, and the answers kept for `Idempotency-Key` replays.

CREATE TABLE operator_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id  TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL,
    -- HMAC-SHA-256 of the whole token under the pepper, like keys: a leaked table replays nothing.
    digest     TEXT    NOT NULL UNIQUE,
    masked     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

-- An opaque public id (`org_…`) in place of the sequential one; the SaaS's id where it set one.
ALTER TABLE tenants ADD COLUMN public_id TEXT;
UPDATE tenants SET public_id = 'org_' || lower(hex(randomblob(10)));
CREATE UNIQUE INDEX tenants_public_id ON tenants (public_id);
ALTER TABLE tenants ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX tenants_external_id ON tenants (external_id);
ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'deleted'));
-- A JSON object of at most 1 KiB, handed to host services with every verdict.
ALTER TABLE tenants ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
-- The operator's per-tenant limits; NULL: the plan's.
ALTER TABLE tenants ADD COLUMN max_keys INTEGER;
ALTER TABLE tenants ADD COLUMN rate_per_minute INTEGER;
ALTER TABLE tenants ADD COLUMN deleted_at INTEGER;

-- The SaaS's user id; an email change follows it.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_external_id ON users (external_id);

-- Minting gates: while one is unmet, no key is created or rolled in the tenant.
CREATE TABLE tenant_requirements (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    met        INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Things a key may be limited to (bank accounts, projects), of types the operator declares.
CREATE TABLE tenant_resources (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, type, id)
);

-- A limited key's type (NULL: not limited) and the resources it covers. A deleted resource's
-- rows go, the type stays: the key then refuses it and stays limited (fails closed).
ALTER TABLE api_keys ADD COLUMN resource_type TEXT;
CREATE TABLE key_resources (
    key_id      INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    tenant_id   INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    PRIMARY KEY (key_id, resource_id)
);
CREATE INDEX key_resources_resource ON key_resources (tenant_id, type, resource_id);

-- Losing a resource changes what a key may do: every process hears it.
CREATE TRIGGER key_resources_announce_delete
AFTER DELETE ON key_resources
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    SELECT 'key:' || digest, CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM api_keys WHERE id = OLD.key_id;
END;

-- Suspension, metadata and limits change every verdict of the tenant.
CREATE TRIGGER tenants_announce_operator
AFTER UPDATE OF status, metadata, max_keys, rate_per_minute, external_id ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    VALUES ('tenant:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

-- `Idempotency-Key` answers, per operator token, replayed for 24 hours (pruned after).
-- `status` NULL: the first call is still running.
CREATE TABLE idempotency_keys (
    token_id     INTEGER NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    body         TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
