-- Several processes on one database. `cache_invalidations` is the change table a SQLite server
-- polls, so a change made by another process (the operator CLI) reaches its caches within a
-- poll; rows are written in the same transaction as the change and pruned after an hour.
-- `server_meta` holds what every process must agree on, such as the pepper's check value.
CREATE TABLE cache_invalidations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    target     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX cache_invalidations_created ON cache_invalidations (created_at);

CREATE TABLE server_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every change to what a key or a tenant may do announces itself, whoever makes it (the
-- server, the operator CLI, or SQL by hand): the triggers run inside the writer's transaction.
-- `last_used_at` (written by the usage batches) is left out on purpose.
CREATE TRIGGER api_keys_announce_update
AFTER UPDATE OF name, mode, scopes, allowlist, digest, status, expires_at, disabled_at,
    rolled_to, tenant_id ON api_keys
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    VALUES ('key:' || OLD.digest, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER api_keys_announce_delete
AFTER DELETE ON api_keys
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    VALUES ('key:' || OLD.digest, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER tenants_announce_update
AFTER UPDATE OF plan, name, slug ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    VALUES ('tenant:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

CREATE TRIGGER tenants_announce_delete
AFTER DELETE ON tenants
BEGIN
    INSERT INTO cache_invalidations (target, created_at)
    VALUES ('tenant:' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

-- A key's request log reads newest first by time: with several replicas, each writing its batch
-- when its own interval ends, row ids do not follow time.
CREATE INDEX request_logs_key_time ON request_logs (key_id, created_at, id);
