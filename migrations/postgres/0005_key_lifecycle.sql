-- Key lifecycle: a reversible disable, and the lineage of a roll (the replacement records the key
-- it replaced and the rolled key its replacement; public ids, as users see them).
ALTER TABLE api_keys ADD COLUMN disabled_at BIGINT;
ALTER TABLE api_keys ADD COLUMN rolled_from TEXT;
ALTER TABLE api_keys ADD COLUMN rolled_to TEXT;
