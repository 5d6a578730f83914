-- Several processes on one database. Cache invalidations travel by NOTIFY on PostgreSQL (no
-- table); `server_meta` holds what every replica must agree on, such as the pepper's check value.
CREATE TABLE server_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every change to what a key or a tenant may do announces itself on the `latchkey_invalidate`
-- channel, whoever makes it (any replica, the operator CLI, or SQL by hand): the triggers run
-- inside the writer's transaction and PostgreSQL delivers the NOTIFY on commit, to every
-- replica listening on this database. `last_used_at` (the usage batches) is left out on purpose.
CREATE FUNCTION latchkey_announce_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latchkey_invalidate', 'key:' || OLD.digest);
    RETURN NULL;
END
$$;

CREATE FUNCTION latchkey_announce_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latchkey_invalidate', 'tenant:' || OLD.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_announce_update
AFTER UPDATE OF name, mode, scopes, allowlist, digest, status, expires_at, disabled_at,
    rolled_to, tenant_id ON api_keys
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key();

CREATE TRIGGER api_keys_announce_delete
AFTER DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_key();

CREATE TRIGGER tenants_announce_update
AFTER UPDATE OF plan, name, slug ON tenants
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

CREATE TRIGGER tenants_announce_delete
AFTER DELETE ON tenants
FOR EACH ROW EXECUTE FUNCTION latchkey_announce_tenant();

-- A key's request log reads newest first by time: with several replicas, each writing its batch
-- when its own interval ends, row ids do not follow time.
CREATE INDEX request_logs_key_time ON request_logs (key_id, created_at, id);
