-- ledger_post_many, version 2 (migration 0008).

-- One call writes a batch of posted entries, set-based: a statement per table, not per entry.
-- Keys already used come back first (the caller answers them and asks again without them).
-- Then the touched accounts are locked in id order and every refusal is looked for, in entry
-- order, with running balances (posted_after) computed by a window over the batch, so the
-- batch is checked as if its entries were posted one after another. The writes run in a
-- sub-block: if a concurrent twin took one of the keys meanwhile, the block is undone and the
-- caller is told to retry. All or nothing, and a refusal leaves the transaction usable.

-- Over version 1: the yearly totals also keep last_credit_at (moved forward by a credit).

CREATE OR REPLACE FUNCTION ledger_post_many(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    found jsonb;
    refusal jsonb;
    wanted int := jsonb_array_length(batch->'entries');
    written jsonb;
    keys text[] := ARRAY(SELECT item->'entry'->>'idempotency_key'
                          FROM jsonb_array_elements(batch->'entries') AS item);
    codes text[] := ARRAY(SELECT jsonb_array_elements_text(batch->'codes'));
BEGIN
    SELECT jsonb_agg(jsonb_build_array(e.idempotency_key, e.id, e.fingerprint)) INTO found
      FROM ledger_entries e
     WHERE e.idempotency_key = ANY(keys);
    IF found IS NOT NULL THEN
        RETURN jsonb_build_object('result', 'existing', 'found', found);
    END IF;

    PERFORM 1 FROM ledger_accounts
      WHERE code = ANY(codes)
      ORDER BY id FOR NO KEY UPDATE;

    WITH flat AS (
        SELECT b.n, p.k, p.value->>0 AS code, p.value->>1 AS unit,
               (p.value->>2)::bigint AS amount
          FROM jsonb_array_elements(batch->'entries') WITH ORDINALITY AS b(item, n),
               jsonb_array_elements(b.item->'postings') WITH ORDINALITY AS p(value, k)
    ), checked AS (
        SELECT flat.*, a.id, a.unit AS account_unit, a.closed, a.no_overdraft,
               a.posted - a.pending_out
                 + sum(flat.amount) OVER (PARTITION BY a.id ORDER BY flat.n, flat.k)
                 AS available_after
          FROM flat LEFT JOIN (SELECT * FROM ledger_accounts WHERE code = ANY(codes)) a
            ON a.code = flat.code
    )
    SELECT CASE
             WHEN id IS NULL THEN jsonb_build_object('result', 'unknown_account')
             WHEN account_unit <> unit THEN jsonb_build_object('result', 'unit_mismatch')
             WHEN closed THEN jsonb_build_object('result', 'account_closed')
             ELSE jsonb_build_object('result', 'insufficient', 'unit', account_unit,
                                     'available', available_after - amount)
           END || jsonb_build_object('account', code, 'index', n - 1)
      INTO refusal
      FROM checked
     WHERE id IS NULL OR account_unit <> unit OR closed
        OR (no_overdraft AND amount < 0 AND available_after < 0)
     ORDER BY n, k LIMIT 1;
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;

    BEGIN
        WITH b AS (
            SELECT n, item->'entry' AS e, item->'postings' AS postings
              FROM jsonb_array_elements(batch->'entries') WITH ORDINALITY AS x(item, n)
        ), inserted AS (
            INSERT INTO ledger_entries (idempotency_key, fingerprint, kind, reference, memo,
                    created_by, created_at, status, hash)
            SELECT e->>'idempotency_key', e->>'fingerprint', e->>'kind', e->>'reference',
                   e->>'memo', e->>'created_by', (e->>'created_at')::timestamptz, 'posted',
                   e->>'hash'
              FROM b ORDER BY n
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key, created_at
        ), ids AS (
            SELECT b.n, inserted.id, inserted.created_at, b.postings
              FROM b JOIN inserted ON inserted.idempotency_key = b.e->>'idempotency_key'
        ), run AS (
            SELECT ids.id AS entry_id, ids.created_at, p.k, a.id AS account_id,
                   p.value->>1 AS unit, (p.value->>2)::bigint AS amount,
                   a.posted + sum((p.value->>2)::bigint)
                       OVER (PARTITION BY a.id ORDER BY ids.n, p.k) AS posted_after
              FROM ids, jsonb_array_elements(ids.postings) WITH ORDINALITY AS p(value, k),
                   ledger_accounts a
             WHERE a.code = ANY(codes) AND a.code = p.value->>0
        ), postings AS (
            INSERT INTO ledger_postings (entry_id, account_id, unit, amount, posted_after,
                    created_at)
            SELECT entry_id, account_id, unit, amount, posted_after, created_at
              FROM run ORDER BY entry_id, k
        ), moved AS (
            UPDATE ledger_accounts a SET posted = a.posted + d.amount
              FROM (SELECT account_id, sum(amount) AS amount FROM run
                     GROUP BY account_id) AS d
             WHERE a.id = d.account_id
        ), totals AS (
            INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited,
                                                    last_credit_at)
            SELECT a.id, (total->>1)::int, total->>2, (total->>3)::bigint,
                   (total->>4)::bigint, (total->>5)::timestamptz
              FROM jsonb_array_elements(batch->'totals') AS total
              JOIN ledger_accounts a ON a.code = ANY(codes) AND a.code = total->>0
            ON CONFLICT (account_id, year, kind) DO UPDATE
               SET credited = t.credited + excluded.credited,
                   debited = t.debited + excluded.debited,
                   last_credit_at = greatest(t.last_credit_at, excluded.last_credit_at)
        ), queued AS (
            INSERT INTO ledger_unsealed (entry_id) SELECT id FROM ids ORDER BY id
        )
        SELECT jsonb_object_agg(b.e->>'idempotency_key', ids.id) INTO written
          FROM ids JOIN b USING (n);
        IF written IS NULL OR (SELECT count(*) FROM jsonb_object_keys(written)) <> wanted THEN
            RAISE EXCEPTION 'a key of the batch was taken meanwhile' USING ERRCODE = 'LG001';
        END IF;
    EXCEPTION WHEN SQLSTATE 'LG001' THEN
        RETURN jsonb_build_object('result', 'retry');
    END;
    RETURN jsonb_build_object('result', 'created', 'ids', written);
END
$$;
