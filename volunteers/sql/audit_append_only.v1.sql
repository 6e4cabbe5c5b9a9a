-- The audit log's guards on PostgreSQL, version 1 (migration 0016): UPDATE and DELETE of a
-- row and TRUNCATE of the table are refused by audit_refuse_change. (A test database is
-- emptied with session_replication_role = replica, which only a superuser may set.)

DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
