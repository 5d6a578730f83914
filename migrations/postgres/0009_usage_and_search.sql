-- Per-key request counters by UTC hour and HTTP status, kept by the batched usage writer (one
-- upsert per key, hour and status a batch), so charts never scan the request log. Pruned with
-- the request log's retention.
CREATE TABLE key_usage_hourly (
    key_id    BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour      BIGINT NOT NULL,
    status    BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (key_id, hour, status)
);
CREATE INDEX key_usage_hourly_hour ON key_usage_hourly (hour);

-- No key changes between the initial count and the trigger's first update (a replica of the
-- previous version may still be serving while this runs).
LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE;

-- The keys that count against the plan, kept by triggers so the count is no scan of the
-- tenant's keys: active and not rolled. Those among them already past their expiry are
-- subtracted at read time through the partial index below (only expiring keys are in it).
ALTER TABLE tenants ADD COLUMN counted_keys BIGINT NOT NULL DEFAULT 0;
UPDATE tenants SET counted_keys = (
    SELECT COUNT(*) FROM api_keys k
    WHERE k.tenant_id = tenants.id AND k.status = 'active' AND k.rolled_to IS NULL
);
CREATE INDEX api_keys_counted_expiry ON api_keys (tenant_id, expires_at)
    WHERE status = 'active' AND rolled_to IS NULL AND expires_at IS NOT NULL;

CREATE FUNCTION latchkey_count_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' AND OLD.rolled_to IS NULL THEN
        UPDATE tenants SET counted_keys = counted_keys - 1 WHERE id = OLD.tenant_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'active' AND NEW.rolled_to IS NULL THEN
        UPDATE tenants SET counted_keys = counted_keys + 1 WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_count
AFTER INSERT OR DELETE OR UPDATE OF status, rolled_to, tenant_id ON api_keys
FOR EACH ROW EXECUTE FUNCTION latchkey_count_keys();

-- Name search by substring through a trigram index (pg_trgm is a trusted extension: the
-- database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX api_keys_name_trgm ON api_keys USING gin (LOWER(name) gin_trgm_ops);
