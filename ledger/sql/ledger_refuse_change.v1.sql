-- ledger_refuse_change, version 1 (migration 0001): the trigger function behind the
-- append-only guards on ledger history (ledger_append_only.v1.sql).

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
