-- Lifecycle webhooks: each organisation's endpoints, an outbox of deliveries written in the
-- same transaction as the change they announce (no foreign key to the endpoint: removing one
-- deletes its rows itself, so a key change racing a removal never fails on it), each endpoint's last attempts, and the
-- time-based notices already sent (so a scan never sends one twice). Plus what a leak report
-- left on a key, and the organisation's key-safety choices.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT    NOT NULL UNIQUE,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    -- Space-separated event names.
    events          TEXT    NOT NULL,
    -- The signing secret is derived from the pepper and this nonce: storage never holds it.
    secret_nonce    TEXT    NOT NULL,
    previous_nonce  TEXT,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    created_by_name TEXT    NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The `webhook-id` header: the same on every retry, so receivers dedupe.
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- A worker's claim: until then no other worker takes it (a crashed worker's lapses), and
    -- only the holder of `claim` may record the attempt.
    claim           TEXT,
    locked_until    INTEGER,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (created_at) WHERE state <> 'pending';

CREATE TABLE webhook_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id   INTEGER NOT NULL,
    delivery_id   INTEGER NOT NULL,
    event_id      TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    status_code   INTEGER,
    latency_ms    INTEGER NOT NULL,
    error         TEXT,
    next_retry_at INTEGER
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);

-- `kind` is expiring_7d, expiring_1d, expired or unused; `basis` is the expiry, or the last use
-- the unused notice counted from (a key used again can be reported unused again later).
CREATE TABLE key_notices (
    key_id INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    kind   TEXT    NOT NULL,
    basis  INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (key_id, kind, basis)
);

ALTER TABLE api_keys ADD COLUMN leaked_at INTEGER;
ALTER TABLE api_keys ADD COLUMN leak_url TEXT;
ALTER TABLE tenants ADD COLUMN leak_policy TEXT NOT NULL DEFAULT 'revoke' CHECK (leak_policy IN ('revoke', 'disable'));
ALTER TABLE tenants ADD COLUMN unused_days INTEGER NOT NULL DEFAULT 30;
