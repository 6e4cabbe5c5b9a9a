-- ledger_fixed_after_creation, version 1 (migration 0018): rows that the transaction creating
-- them may still fill in (a ranking snapshot gets its counts and ledger position after its
-- insert; its rows are written again when the ledger moved meanwhile), and that nobody may
-- change or delete after that commit. An AFTER INSERT marks the new row's id in a setting
-- local to the transaction ('jindou_new.<table>_<id>', undone with a rolled-back savepoint);
-- BEFORE UPDATE OR DELETE lets through only rows so marked, by their own id or, for child
-- rows, their parent's: TG_ARGV[0] is 'id', or the parent table and the column naming the
-- parent ('ranking_snapshots:snapshot_id').

CREATE OR REPLACE FUNCTION ledger_fixed_after_creation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_table text := CASE WHEN TG_ARGV[0] = 'id' THEN TG_TABLE_NAME
                              ELSE split_part(TG_ARGV[0], ':', 1) END;
    key_column text := CASE WHEN TG_ARGV[0] = 'id' THEN 'id'
                            ELSE split_part(TG_ARGV[0], ':', 2) END;
    key bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM set_config('jindou_new.' || TG_TABLE_NAME || '_' || NEW.id::text, 'yes', true);
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT ($1).%I', key_column) INTO key USING OLD;
    IF coalesce(current_setting('jindou_new.' || parent_table || '_' || key::text, true), '')
            = 'yes' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
