-- audit_refuse_change, version 1 (migration 0016): the trigger function behind the
-- append-only guards on the audit log (audit_append_only.v1.sql).

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
