-- The change log behind `GET /v1/changes`: every announcement the triggers make is also a row
-- with a monotonic id, so a stream can resume from `Last-Event-ID` and any replica can serve
-- it. SQLite already keeps such a table (`cache_invalidations`, 0008); PostgreSQL gets the same
-- one, and both gain the key's and the tenant's public ids that the stream names.
CREATE TABLE cache_invalidations (
    id         BIGSERIAL PRIMARY KEY,
    target     TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    key_id     TEXT,
    tenant     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cache_invalidations_created ON cache_invalidations (created_at);

-- Writers of the log take one transaction-scoped lock first, so ids are handed out in commit
-- order: a reader that has seen id N has seen every id below it, and resuming after N misses
-- nothing (a sequence alone hands out ids that may commit out of order).
CREATE OR REPLACE FUNCTION latchkey_log_change(target TEXT, kind TEXT, key_id TEXT, tenant TEXT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7415, 1);
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES (target, kind, key_id, COALESCE(tenant, ''),
            (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT);
    PERFORM pg_notify('latchkey_invalidate', target);
END
$$;

CREATE OR REPLACE FUNCTION latchkey_announce_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM latchkey_log_change('key:' || OLD.digest, 'key', OLD.public_id,
        (SELECT public_id FROM tenants WHERE id = OLD.tenant_id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION latchkey_announce_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM latchkey_log_change('tenant:' || OLD.id, 'tenant', NULL, OLD.public_id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION latchkey_announce_key_resource() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM latchkey_log_change('key:' || k.digest, 'key', k.public_id, t.public_id)
    FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id
    WHERE k.id = OLD.key_id;
    RETURN NULL;
END
$$;
