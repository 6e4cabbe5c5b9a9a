-- ledger_guard_history, version 1 (migration 0018): the guards of one history table, made by
-- ledger.ddl.install_history_guards for each table of ledger.ddl.HISTORY_TABLES (the one list).
--   'append_only': UPDATE and DELETE refused (ledger_refuse_change), and TRUNCATE;
--   'fixed_after_creation': as append_only, except in the transaction that created the row
--       (or, for a child row, its parent): ranking snapshots are filled in after their insert
--       (ledger_fixed_after_creation.v1.sql);
--   'no_truncate': TRUNCATE refused; rows change as their table's rules say (a settlement is
--       paid once, by a conditional UPDATE).
-- TRUNCATE fires no row trigger, so it has a statement trigger of its own. The table's owner
-- can still ALTER TABLE ... DISABLE TRIGGER: the app connects as a role that owns nothing
-- (jindou db roles), and what the owner could rewrite, a signed head still catches.

CREATE OR REPLACE FUNCTION ledger_guard_history(table_name text, how text, argument text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF how NOT IN ('append_only', 'fixed_after_creation', 'no_truncate') THEN
        RAISE EXCEPTION 'ledger_guard_history: unknown guard %', how;
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', table_name || '_no_truncate', table_name);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION ledger_refuse_change()', table_name || '_no_truncate',
                   table_name);
    IF how = 'no_truncate' THEN
        RETURN;
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', table_name || '_append_only', table_name);
    IF how = 'append_only' THEN
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION ledger_refuse_change()', table_name || '_append_only',
                       table_name);
        RETURN;
    END IF;
    -- fixed_after_creation: argument says what created the row: 'id' (itself), or
    -- 'parent_table:column' (its parent); an AFTER INSERT trigger marks a row of the first
    -- kind as new.
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                   'EXECUTE FUNCTION ledger_fixed_after_creation(%L)',
                   table_name || '_append_only', table_name, argument);
    IF argument = 'id' THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', table_name || '_created', table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION ledger_fixed_after_creation(%L)',
                       table_name || '_created', table_name, argument);
    END IF;
END
$$;
