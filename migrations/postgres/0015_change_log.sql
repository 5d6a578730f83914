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
-- nothing (a sequence alone hands out ids that may commit out of order). The triggers below run
-- at commit, so the lock is held only for the commit itself.
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

-- The announcements run as the writer commits (deferred constraint triggers): the log's lock is
-- then taken after every row lock the writer holds, so it can never close a deadlock cycle, and
-- it is held only for the commit itself.
DROP TRIGGER api_keys_announce_update ON api_keys;
CREATE CONSTRAINT TRIGGER api_keys_announce_update
AFTER UPDATE OF name, mode, scopes, allowlist, digest, status, expires_at, disabled_at,
    rolled_to, tenant_id ON api_keys
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key();

DROP TRIGGER api_keys_announce_delete ON api_keys;
CREATE CONSTRAINT TRIGGER api_keys_announce_delete
AFTER DELETE ON api_keys
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key();

DROP TRIGGER tenants_announce_update ON tenants;
CREATE CONSTRAINT TRIGGER tenants_announce_update
AFTER UPDATE OF plan, name, slug ON tenants
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

DROP TRIGGER tenants_announce_delete ON tenants;
CREATE CONSTRAINT TRIGGER tenants_announce_delete
AFTER DELETE ON tenants
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

DROP TRIGGER tenants_announce_operator ON tenants;
CREATE CONSTRAINT TRIGGER tenants_announce_operator
AFTER UPDATE OF status, metadata, max_keys, rate_per_minute, external_id ON tenants
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

DROP TRIGGER key_resources_announce_delete ON key_resources;
CREATE CONSTRAINT TRIGGER key_resources_announce_delete
AFTER DELETE ON key_resources
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key_resource();
