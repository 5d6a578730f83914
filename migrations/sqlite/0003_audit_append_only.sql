-- The audit log stays append-only against INSERT OR REPLACE (and REPLACE INTO): the REPLACE
-- conflict resolution deletes the old row without firing the DELETE trigger (0001), so an insert
-- that names an existing id is refused before it can replace anything.
CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
    WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
