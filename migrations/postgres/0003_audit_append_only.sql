-- The audit log stays append-only against TRUNCATE too: row triggers (0001) do not fire for it.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
