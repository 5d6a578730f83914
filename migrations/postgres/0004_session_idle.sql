-- Idle timeout beside the absolute one: a session unused for longer than the idle window ends.
-- Existing sessions count as seen when they were created.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
