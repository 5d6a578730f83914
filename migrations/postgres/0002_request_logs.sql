-- The per-key request log, written in batches off the request path (never one write per call).
-- `key_id` is the api_keys row; `tenant_id` is repeated so every read is scoped by tenant.
CREATE TABLE request_logs (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id      BIGINT  NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    method      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    status      BIGINT  NOT NULL,
    client_ip   TEXT,
    latency_us  BIGINT  NOT NULL,
    request_id  TEXT    NOT NULL
);
CREATE INDEX request_logs_key ON request_logs (key_id, id);
-- Retention prunes by time.
CREATE INDEX request_logs_at ON request_logs (created_at);
