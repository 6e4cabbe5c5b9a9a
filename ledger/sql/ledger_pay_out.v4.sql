-- ledger_pay_out, version 4 (migration 0019).

-- ledger.pay_out: one source pays many accounts, set-based (see ledger/payout.py). The payees
-- come as parallel arrays (code, amount, entry number, owner id); the entries as documents
-- built and hashed in Python. The writes run in a sub-block, so a refused source (unknown,
-- closed, overdrawn), a refused payee (of another unit, or closed) or a key taken meanwhile
-- undoes every row and leaves the transaction usable.

-- Over version 3: one lock order everywhere. Version 3 locked the source first and then the
-- payees, while ledger_post and ledger_post_many lock every account of an entry in id order:
-- a cash-out (wallet, cash, budget, fund by id) whose cash account is older than the fund
-- then waited for the payout's fund while the payout waited for its cash account, and
-- PostgreSQL killed one of them as a deadlock. Version 4 first locks the source and every
-- payee that exists, in id order (FOR NO KEY UPDATE, the lock an UPDATE takes), and only
-- then writes; payees it opens are new rows nobody else can hold.

CREATE OR REPLACE FUNCTION ledger_pay_out(batch jsonb, codes text[], amounts bigint[],
                                          numbers int[], owners bigint[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    u text := batch->>'unit';
    created timestamptz := (batch->>'created_at')::timestamptz;
    booked int := (batch->>'year')::int;
    keys text[] := ARRAY(SELECT item->>'idempotency_key'
                          FROM jsonb_array_elements(batch->'entries') AS item);
    total bigint := (SELECT sum(x) FROM unnest(amounts) AS x);
    source_id bigint;
    source_before bigint;
    taken jsonb;
    refusal jsonb;
    written jsonb;
    credited int;
BEGIN
    SELECT jsonb_agg(jsonb_build_array(e.idempotency_key, e.id, e.fingerprint)) INTO taken
      FROM ledger_entries e WHERE e.idempotency_key = ANY(keys);
    IF taken IS NOT NULL THEN
        RETURN jsonb_build_object('result', 'existing', 'found', taken);
    END IF;

    BEGIN
        PERFORM 1 FROM ledger_accounts
         WHERE code = ANY(codes || (batch->>'source'))
         ORDER BY id FOR NO KEY UPDATE;

        UPDATE ledger_accounts SET posted = posted - total
         WHERE code = batch->>'source' AND unit = u AND NOT closed
           AND (NOT no_overdraft OR posted - pending_out - total >= 0)
        RETURNING id, posted + total INTO source_id, source_before;
        IF NOT FOUND THEN
            SELECT jsonb_build_object('result', CASE WHEN a.unit <> u THEN 'unit_mismatch'
                                                     ELSE 'account_closed' END,
                                      'account', a.code)
              INTO refusal
              FROM unnest(codes) AS c(code) JOIN ledger_accounts a ON a.code = c.code
             WHERE a.unit <> u OR a.closed
             ORDER BY a.code LIMIT 1;
            IF refusal IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'JD001', MESSAGE = refusal::text;
            END IF;
            SELECT jsonb_build_object(
                     'result', CASE WHEN unit <> u THEN 'unit_mismatch'
                                    WHEN closed THEN 'account_closed' ELSE 'insufficient' END,
                     'account', code, 'unit', unit, 'available', posted - pending_out)
              INTO refusal FROM ledger_accounts WHERE code = batch->>'source';
            RAISE EXCEPTION USING ERRCODE = 'JD001', MESSAGE = coalesce(refusal,
                jsonb_build_object('result', 'unknown_account', 'account', batch->>'source'))::text;
        END IF;

        WITH documents AS (
            SELECT n, item FROM jsonb_array_elements(batch->'entries') WITH ORDINALITY AS x(item, n)
        ), inserted AS (
            INSERT INTO ledger_entries (idempotency_key, fingerprint, kind, reference, memo,
                    created_by, created_at, status, hash)
            SELECT item->>'idempotency_key', item->>'fingerprint', item->>'kind',
                   item->>'reference', item->>'memo', item->>'created_by', created, 'posted',
                   item->>'hash'
              FROM documents ORDER BY n
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key
        ), ids AS (
            SELECT documents.n, inserted.id, inserted.idempotency_key
              FROM documents JOIN inserted
                ON inserted.idempotency_key = documents.item->>'idempotency_key'
        ), wanted AS (
            SELECT * FROM unnest(codes, amounts, numbers, owners) AS w(code, amount, n, owner_id)
        ), payees AS (
            INSERT INTO ledger_accounts AS a (code, unit, kind, owner_type, owner_id,
                    no_overdraft, closed, posted, pending_in, pending_out, created_at)
            SELECT code, u, batch->>'payee_kind', batch->>'owner_type', owner_id, false, false,
                   amount, 0, 0, created
              FROM wanted ORDER BY code
            ON CONFLICT (code) DO UPDATE SET posted = a.posted + excluded.posted
               WHERE a.unit = excluded.unit AND NOT a.closed
            RETURNING a.id, a.code, a.posted
        ), per_entry AS (
            SELECT ids.n, ids.id, sum(wanted.amount) AS amount
              FROM wanted JOIN ids USING (n) GROUP BY ids.n, ids.id
        ), postings AS (
            INSERT INTO ledger_postings (entry_id, account_id, unit, amount, posted_after,
                    created_at)
            SELECT entry_id, account_id, u, amount, posted_after, created FROM (
                SELECT id AS entry_id, 0 AS side, '' AS code, source_id AS account_id,
                       -amount AS amount,
                       source_before - sum(amount) OVER (ORDER BY n) AS posted_after
                  FROM per_entry
                UNION ALL
                SELECT ids.id, 1, wanted.code, payees.id, wanted.amount, payees.posted
                  FROM wanted JOIN payees USING (code) JOIN ids USING (n)
            ) moves ORDER BY entry_id, side, code
        ), totals AS (
            INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited,
                    last_credit_at)
            SELECT payees.id, booked, batch->>'kind', wanted.amount, 0, created
              FROM wanted JOIN payees USING (code) WHERE u = 'POINT'
            UNION ALL
            SELECT source_id, booked, batch->>'kind', 0, total, NULL WHERE u = 'POINT'
            ON CONFLICT (account_id, year, kind) DO UPDATE
               SET credited = t.credited + excluded.credited,
                   debited = t.debited + excluded.debited,
                   last_credit_at = greatest(t.last_credit_at, excluded.last_credit_at)
        ), queued AS (
            INSERT INTO ledger_unsealed (entry_id) SELECT id FROM ids ORDER BY id
        )
        SELECT (SELECT jsonb_object_agg(idempotency_key, id) FROM ids),
               (SELECT count(*) FROM payees)
          INTO written, credited;
        IF written IS NULL OR (SELECT count(*) FROM jsonb_object_keys(written))
                <> cardinality(keys) OR credited <> cardinality(codes) THEN
            SELECT jsonb_build_object('result', CASE WHEN a.unit <> u THEN 'unit_mismatch'
                                                     ELSE 'account_closed' END,
                                      'account', a.code)
              INTO refusal
              FROM unnest(codes) AS c(code) JOIN ledger_accounts a ON a.code = c.code
             WHERE a.unit <> u OR a.closed
             ORDER BY a.code LIMIT 1;
            IF refusal IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'JD001', MESSAGE = refusal::text;
            END IF;
            RAISE EXCEPTION 'a key or a payee changed meanwhile' USING ERRCODE = 'LG001';
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'JD001' THEN
            RETURN SQLERRM::jsonb;
        WHEN SQLSTATE 'LG001' THEN
            RETURN jsonb_build_object('result', 'retry');
    END;
    RETURN jsonb_build_object('result', 'created', 'ids', written);
END
$$;
