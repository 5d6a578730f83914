-- The per-key request log, written in batches off the request path (never one write per call).
-- `key_id` is the api_keys row; `tenant_id` is repeated so every read is scoped by tenant.
CREATE TABLE request_logs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id      INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    client_ip   TEXT,
    latency_us  INTEGER NOT NULL,
    request_id  TEXT    NOT NULL
);
CREATE INDEX request_logs_key ON request_logs (key_id, id);
-- Retention prunes by time.
CREATE INDEX request_logs_at ON request_logs (created_at);
