-- The trigger of ledger_account_fixed (ledger_account_fixed.v1.sql), version 1 (migration
-- 0018).

DROP TRIGGER IF EXISTS ledger_accounts_fixed ON ledger_accounts;
CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE ON ledger_accounts
FOR EACH ROW EXECUTE FUNCTION ledger_account_fixed();
