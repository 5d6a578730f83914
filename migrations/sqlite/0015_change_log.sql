-- The change log behind `GET /v1/changes`: `cache_invalidations` (0008) already gives every
-- announcement a monotonic id (AUTOINCREMENT never reuses one); the stream also names the
-- key's and the tenant's public ids, so the triggers now write those too.
ALTER TABLE cache_invalidations ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE cache_invalidations ADD COLUMN key_id TEXT;
ALTER TABLE cache_invalidations ADD COLUMN tenant TEXT NOT NULL DEFAULT '';

DROP TRIGGER api_keys_announce_update;
DROP TRIGGER api_keys_announce_delete;
DROP TRIGGER tenants_announce_update;
DROP TRIGGER tenants_announce_delete;
DROP TRIGGER key_resources_announce_delete;
DROP TRIGGER tenants_announce_operator;

CREATE TRIGGER api_keys_announce_update
AFTER UPDATE OF name, mode, scopes, allowlist, digest, status, expires_at, disabled_at,
    rolled_to, tenant_id ON api_keys
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES ('key:' || OLD.digest, 'key', OLD.public_id,
        COALESCE((SELECT public_id FROM tenants WHERE id = OLD.tenant_id), ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER api_keys_announce_delete
AFTER DELETE ON api_keys
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES ('key:' || OLD.digest, 'key', OLD.public_id,
        COALESCE((SELECT public_id FROM tenants WHERE id = OLD.tenant_id), ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER tenants_announce_update
AFTER UPDATE OF plan, name, slug ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES ('tenant:' || OLD.id, 'tenant', NULL, COALESCE(OLD.public_id, ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER tenants_announce_delete
AFTER DELETE ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES ('tenant:' || OLD.id, 'tenant', NULL, COALESCE(OLD.public_id, ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER key_resources_announce_delete
AFTER DELETE ON key_resources
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    SELECT 'key:' || k.digest, 'key', k.public_id, COALESCE(t.public_id, ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id
    WHERE k.id = OLD.key_id;
END;

CREATE TRIGGER tenants_announce_operator
AFTER UPDATE OF status, metadata, max_keys, rate_per_minute, external_id ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, kind, key_id, tenant, created_at)
    VALUES ('tenant:' || OLD.id, 'tenant', NULL, COALESCE(OLD.public_id, ''),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
