-- The audit log becomes a hash chain per tenant (tenant-less events form chain 0): each event
-- stores its place in the chain, the previous event's hash and its own. `audit_heads` holds each
-- chain's newest link; writers lock its row, so concurrent writers never fork a chain. Events
-- from before this migration get their place (chain_seq) but no hash: `audit verify` reports them
-- as unsealed rather than inventing hashes for rows nobody can vouch for.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

DROP TRIGGER audit_events_no_change ON audit_events;
-- The membership actions take the names of the one list (domain/src/audit.rs) before any
-- event is sealed: `membership.*` became `member.*`.
UPDATE audit_events SET action = 'member.' || SUBSTR(action, 12) WHERE action LIKE 'membership.%';
UPDATE audit_events SET chain_seq = s.rn
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY COALESCE(tenant_id, 0) ORDER BY id) AS rn
      FROM audit_events) AS s
WHERE s.id = audit_events.id;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE audit_heads (
    chain BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT   NOT NULL,
    at    BIGINT NOT NULL
);
INSERT INTO audit_heads (chain, seq, hash, at)
SELECT COALESCE(tenant_id, 0), MAX(chain_seq),
       '0000000000000000000000000000000000000000000000000000000000000000', MAX(created_at)
FROM audit_events GROUP BY COALESCE(tenant_id, 0);

-- What retention removed: every event of `chain` up to `through_seq`, whose hash was
-- `through_hash`, so the chain still verifies from there. Append-only like the events.
CREATE TABLE audit_checkpoints (
    id           BIGSERIAL PRIMARY KEY,
    chain        BIGINT NOT NULL,
    through_seq  BIGINT NOT NULL,
    through_hash TEXT   NOT NULL,
    cut_off      BIGINT NOT NULL,
    removed      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_checkpoints_chain ON audit_checkpoints (chain, through_seq);
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Only what a checkpoint covers may be deleted (retention); everything else stays append-only.
CREATE FUNCTION audit_events_prunable() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_checkpoints c
               WHERE c.chain = COALESCE(OLD.tenant_id, 0) AND OLD.chain_seq <= c.through_seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_prunable();

CREATE UNIQUE INDEX audit_events_chain ON audit_events ((COALESCE(tenant_id, 0)), chain_seq);
-- The page's filters, each a keyset walk on id within the tenant.
CREATE INDEX audit_events_action ON audit_events (tenant_id, action, id);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, id);
-- A time range becomes an id range (created_at never decreases along a chain).
CREATE INDEX audit_events_time ON audit_events (tenant_id, created_at, id);
