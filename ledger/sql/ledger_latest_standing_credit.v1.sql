-- ledger_latest_standing_credit, version 1 (migration 0008): the moment of the latest credit
-- of a kind and year to an account that no reversal took back (one index range on
-- postings(account_id, created_at)); ledger_post version 2 moves last_credit_at back to it.

CREATE OR REPLACE FUNCTION ledger_latest_standing_credit(account bigint, booked int, k text)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT max(p.created_at)
      FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
     WHERE p.account_id = account AND p.amount > 0
       AND p.created_at >= make_timestamptz(booked, 1, 1, 0, 0, 0, 'Asia/Shanghai')
       AND p.created_at < make_timestamptz(booked + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')
       AND e.kind = k AND e.status = 'posted' AND e.reverses_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)
$$;
