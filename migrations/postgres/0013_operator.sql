-- The operator API (issue 24): tokens the SaaS backend calls `/v1/admin` with, tenants and
-- members keyed by the SaaS's own ids, minting gates (requirements), resources a key may be
-- limited to, and the answers kept for `Idempotency-Key` replays.

CREATE TABLE operator_tokens (
    id         BIGSERIAL PRIMARY KEY,
    public_id  TEXT   NOT NULL UNIQUE,
    name       TEXT   NOT NULL UNIQUE,
    scopes     TEXT   NOT NULL,
    -- HMAC-SHA-256 of the whole token under the pepper, like keys: a leaked table replays nothing.
    digest     TEXT   NOT NULL UNIQUE,
    masked     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- An opaque public id (`org_…`) in place of the sequential one; the SaaS's id where it set one.
ALTER TABLE tenants ADD COLUMN public_id TEXT;
UPDATE tenants SET public_id = 'org_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20);
CREATE UNIQUE INDEX tenants_public_id ON tenants (public_id);
ALTER TABLE tenants ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX tenants_external_id ON tenants (external_id);
ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'deleted'));
-- A JSON object of at most 1 KiB, handed to host services with every verdict.
ALTER TABLE tenants ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
-- The operator's per-tenant limits; NULL: the plan's.
ALTER TABLE tenants ADD COLUMN max_keys BIGINT;
ALTER TABLE tenants ADD COLUMN rate_per_minute BIGINT;
ALTER TABLE tenants ADD COLUMN deleted_at BIGINT;

-- The SaaS's user id; an email change follows it.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_external_id ON users (external_id);

-- Minting gates: while one is unmet, no key is created or rolled in the tenant.
CREATE TABLE tenant_requirements (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    met        BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Things a key may be limited to (bank accounts, projects), of types the operator declares.
CREATE TABLE tenant_resources (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, type, id)
);

-- A limited key's type (NULL: not limited) and the resources it covers. A deleted resource's
-- rows go, the type stays: the key then refuses it and stays limited (fails closed).
ALTER TABLE api_keys ADD COLUMN resource_type TEXT;
CREATE TABLE key_resources (
    key_id      BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    tenant_id   BIGINT NOT NULL,
    type        TEXT   NOT NULL,
    resource_id TEXT   NOT NULL,
    PRIMARY KEY (key_id, resource_id)
);
CREATE INDEX key_resources_resource ON key_resources (tenant_id, type, resource_id);

-- Losing a resource changes what a key may do: every replica hears it.
CREATE FUNCTION latchkey_announce_key_resource() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latchkey_invalidate', 'key:' || digest) FROM api_keys WHERE id = OLD.key_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER key_resources_announce_delete
AFTER DELETE ON key_resources
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key_resource();

-- Suspension, metadata and limits change every verdict of the tenant.
CREATE TRIGGER tenants_announce_operator
AFTER UPDATE OF status, metadata, max_keys, rate_per_minute, external_id ON tenants
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

-- `Idempotency-Key` answers, per operator token, replayed for 24 hours (pruned after).
-- `status` NULL: the first call is still running.
CREATE TABLE idempotency_keys (
    token_id     BIGINT NOT NULL,
    key          TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    status       BIGINT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
