-- Per-key request counters by UTC hour and HTTP status, kept by the batched usage writer (one
-- upsert per key, hour and status a batch), so charts never scan the request log. Pruned with
-- the request log's retention.
CREATE TABLE key_usage_hourly (
    key_id    INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour      INTEGER NOT NULL,
    status    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (key_id, hour, status)
);
CREATE INDEX key_usage_hourly_hour ON key_usage_hourly (hour);

-- The keys that count against the plan, kept by triggers so the count is no scan of the
-- tenant's keys: active and not rolled. Those among them already past their expiry are
-- subtracted at read time through the partial index below (only expiring keys are in it).
ALTER TABLE tenants ADD COLUMN counted_keys INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET counted_keys = (
    SELECT COUNT(*) FROM api_keys k
    WHERE k.tenant_id = tenants.id AND k.status = 'active' AND k.rolled_to IS NULL
);
CREATE INDEX api_keys_counted_expiry ON api_keys (tenant_id, expires_at)
    WHERE status = 'active' AND rolled_to IS NULL AND expires_at IS NOT NULL;

CREATE TRIGGER api_keys_count_insert
AFTER INSERT ON api_keys
WHEN NEW.status = 'active' AND NEW.rolled_to IS NULL
BEGIN
    UPDATE tenants SET counted_keys = counted_keys + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER api_keys_count_delete
AFTER DELETE ON api_keys
WHEN OLD.status = 'active' AND OLD.rolled_to IS NULL
BEGIN
    UPDATE tenants SET counted_keys = counted_keys - 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER api_keys_count_update
AFTER UPDATE OF status, rolled_to, tenant_id ON api_keys
BEGIN
    UPDATE tenants SET counted_keys = counted_keys - 1
    WHERE id = OLD.tenant_id AND OLD.status = 'active' AND OLD.rolled_to IS NULL;
    UPDATE tenants SET counted_keys = counted_keys + 1
    WHERE id = NEW.tenant_id AND NEW.status = 'active' AND NEW.rolled_to IS NULL;
END;

-- Name search by substring through a trigram index (three characters or more; shorter
-- searches scan, and stop at a page's worth). External content: the names live in api_keys.
CREATE VIRTUAL TABLE api_keys_name_search USING fts5 (
    name, content = 'api_keys', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO api_keys_name_search (api_keys_name_search) VALUES ('rebuild');

CREATE TRIGGER api_keys_search_insert
AFTER INSERT ON api_keys
BEGIN
    INSERT INTO api_keys_name_search (rowid, name) VALUES (NEW.id, NEW.name);
END;

CREATE TRIGGER api_keys_search_delete
AFTER DELETE ON api_keys
BEGIN
    INSERT INTO api_keys_name_search (api_keys_name_search, rowid, name)
    VALUES ('delete', OLD.id, OLD.name);
END;

CREATE TRIGGER api_keys_search_update
AFTER UPDATE OF name ON api_keys
BEGIN
    INSERT INTO api_keys_name_search (api_keys_name_search, rowid, name)
    VALUES ('delete', OLD.id, OLD.name);
    INSERT INTO api_keys_name_search (rowid, name) VALUES (NEW.id, NEW.name);
END;
