-- The audit chain is keyed: from here on each event's link is HMAC-SHA-256 under a key derived
-- from the pepper (which never enters the database), so a database writer can no longer
-- recompute links after an edit. Events written before this migration keep their plain SHA-256
-- links; `audit_legacy` records, per chain, where that older part ends (place and hash). The
-- first process that starts with the pepper checks those links and seals the row with a MAC;
-- from then on `audit verify` checks the older part under the old rule up to that MAC'd end.
CREATE TABLE audit_legacy (
    chain        BIGINT PRIMARY KEY,
    -- Where the sealed walk started (the chain's retention checkpoint then, or its start).
    from_seq     BIGINT NOT NULL DEFAULT 0,
    from_hash    TEXT   NOT NULL
                 DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    through_seq  BIGINT NOT NULL,
    through_hash TEXT   NOT NULL,
    -- NULL until a process holding the pepper has checked and sealed this older part.
    mac          TEXT
);
INSERT INTO audit_legacy (chain, through_seq, through_hash)
SELECT chain, seq, hash FROM audit_heads WHERE seq > 0;

CREATE FUNCTION audit_legacy_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_legacy is written only by migration 0011 and sealed once';
END;
$$ LANGUAGE plpgsql;
-- Written by this migration only, sealed once, never removed.
CREATE TRIGGER audit_legacy_no_insert_or_delete BEFORE INSERT OR DELETE ON audit_legacy
    FOR EACH ROW EXECUTE FUNCTION audit_legacy_guard();
CREATE TRIGGER audit_legacy_sealed_once BEFORE UPDATE ON audit_legacy
    FOR EACH ROW WHEN (OLD.mac IS NOT NULL) EXECUTE FUNCTION audit_legacy_guard();
CREATE TRIGGER audit_legacy_no_truncate BEFORE TRUNCATE ON audit_legacy
    FOR EACH STATEMENT EXECUTE FUNCTION audit_legacy_guard();

-- A retention checkpoint carries a MAC (over chain, place and hash), so a forged one fails
-- verification even where the trigger below was dropped. NULL on checkpoints from before.
ALTER TABLE audit_checkpoints ADD COLUMN mac TEXT;

-- Only a prune writes checkpoints: it opens this one-row guard in its own transaction (the
-- update locks the row, so prunes on several replicas take turns), inserts, and closes it again;
-- an INSERT with the guard closed is refused.
CREATE TABLE audit_prune_guard (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    open INTEGER NOT NULL
);
INSERT INTO audit_prune_guard (id, open) VALUES (1, 0);
CREATE FUNCTION audit_checkpoints_by_prune() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_prune_guard WHERE open = 1) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_checkpoints are written only by retention';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoints_only_by_prune BEFORE INSERT ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_by_prune();
