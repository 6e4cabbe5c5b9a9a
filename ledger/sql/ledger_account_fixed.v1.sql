-- ledger_account_fixed, version 1 (migration 0018): an account's code, unit, kind and
-- no_overdraft never change after it is opened (changing kind moves a wallet between
-- Liabilities and Assets in every export; clearing no_overdraft switches off the overdraft
-- guard). A different account is a new account. Its balances and closed flag still change.

CREATE OR REPLACE FUNCTION ledger_account_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code IS DISTINCT FROM OLD.code OR NEW.unit IS DISTINCT FROM OLD.unit
       OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.no_overdraft IS DISTINCT FROM OLD.no_overdraft THEN
        RAISE EXCEPTION 'account % : code, unit, kind and no_overdraft are fixed at opening',
            OLD.code USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
