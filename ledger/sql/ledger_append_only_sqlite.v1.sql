-- The append-only guards on SQLite, version 1 (migration 0001): UPDATE and DELETE on the
-- ledger's history tables are refused (PostgreSQL's are in ledger_append_only.v1.sql).

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on ledger_entries refused'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on ledger_entries refused'); END;
CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on ledger_postings refused'); END;
CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on ledger_postings refused'); END;
CREATE TRIGGER ledger_chain_no_update BEFORE UPDATE ON ledger_chain
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on ledger_chain refused'); END;
CREATE TRIGGER ledger_chain_no_delete BEFORE DELETE ON ledger_chain
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on ledger_chain refused'); END;
