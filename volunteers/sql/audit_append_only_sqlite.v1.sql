-- The audit log's guards on SQLite, version 1 (migration 0016): UPDATE and DELETE refused
-- (SQLite has no TRUNCATE).

CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_events refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_events refused'); END;
