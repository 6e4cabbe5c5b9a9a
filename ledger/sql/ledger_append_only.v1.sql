-- The append-only guards on PostgreSQL, version 1 (migration 0001): UPDATE and DELETE on the
-- ledger's history tables are refused by ledger_refuse_change (ledger_refuse_change.v1.sql).
-- TRUNCATE is not guarded: no request issues one, and tests reset their databases with it.

DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_postings_append_only ON ledger_postings;
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_chain_append_only ON ledger_chain;
CREATE TRIGGER ledger_chain_append_only BEFORE UPDATE OR DELETE ON ledger_chain
FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
