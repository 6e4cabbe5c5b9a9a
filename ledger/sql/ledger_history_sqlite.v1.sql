-- The history guards on SQLite, version 1 (migration 0018): the Merkle tree's nodes and the
-- signed heads are append-only, and an account's code, unit, kind and no_overdraft are fixed
-- at opening (PostgreSQL's: ledger_guard_history.v1.sql, ledger_account_fixed.v1.sql).

CREATE TRIGGER ledger_tree_nodes_no_update BEFORE UPDATE ON ledger_tree_nodes
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on ledger_tree_nodes refused'); END;
CREATE TRIGGER ledger_tree_nodes_no_delete BEFORE DELETE ON ledger_tree_nodes
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on ledger_tree_nodes refused'); END;
CREATE TRIGGER ledger_signed_heads_no_update BEFORE UPDATE ON ledger_signed_heads
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on ledger_signed_heads refused'); END;
CREATE TRIGGER ledger_signed_heads_no_delete BEFORE DELETE ON ledger_signed_heads
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on ledger_signed_heads refused'); END;
CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE OF code, unit, kind, no_overdraft ON ledger_accounts
WHEN NEW.code IS NOT OLD.code OR NEW.unit IS NOT OLD.unit OR NEW.kind IS NOT OLD.kind
     OR NEW.no_overdraft IS NOT OLD.no_overdraft
BEGIN SELECT RAISE(ABORT, 'an account''s code, unit, kind and no_overdraft are fixed at opening'); END;
