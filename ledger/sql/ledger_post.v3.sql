-- ledger_post, version 3 (migration 0013).

-- Over version 2: when the entry's INSERT meets a unique index, the idempotency key is looked
-- up first. Two attempts with one key (a till's retry racing its first scan) both pass the
-- look-up at the top; the second waits on the index for the first to commit, and must then
-- answer the first entry ('existing'), as a later retry would, and not 'settled' because the
-- first attempt settled the very hold it was retrying. A different entry that settled the hold
-- or reversed the entry first is still 'settled' or 'reversed'.

-- Version 2 says the rest:

-- One call writes one entry. Everything that needs no account lock happens first: the
-- idempotency look-up, reading the accounts (unknown, unit, closed), the entry's row and its
-- place in the sealing queue. Only then are the touched accounts updated, in id order, each by
-- one conditional UPDATE that locks the row, checks the no-overdraft rule and moves the cached
-- balances at once; the postings (which carry the running balance) and the yearly totals
-- follow. A hot account's row is thus locked for the last few statements and the commit only.
-- A refusal returns a verdict instead of raising: the sub-block undoes the rows it wrote, and
-- the caller's transaction stays usable.

-- Over version 1: the yearly totals also keep last_credit_at, the moment of the latest credit
-- still standing: a credit moves it forward, a reversal moves it back to the latest credit of
-- that kind and year it leaves standing (ledger_latest_standing_credit.v1.sql).

CREATE OR REPLACE FUNCTION ledger_post(plan jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb := plan->'entry';
    codes text[] := ARRAY(SELECT jsonb_array_elements_text(plan->'codes'));
    ids jsonb := '{}'::jsonb;
    running jsonb := '{}'::jsonb;
    account record;
    effect record;
    posting jsonb;
    found_id bigint;
    found_fingerprint text;
    new_id bigint;
    balance bigint;
    refused jsonb;
    created timestamptz := (e->>'created_at')::timestamptz;
BEGIN
    SELECT id, fingerprint INTO found_id, found_fingerprint
      FROM ledger_entries WHERE idempotency_key = e->>'idempotency_key';
    IF FOUND THEN
        RETURN jsonb_build_object('result', CASE WHEN found_fingerprint = e->>'fingerprint'
            THEN 'existing' ELSE 'conflict' END, 'entry_id', found_id);
    END IF;

    FOR account IN
        SELECT id, code, unit FROM ledger_accounts WHERE code = ANY(codes)
    LOOP
        IF account.unit <> plan->'units'->>account.code THEN
            RETURN jsonb_build_object('result', 'unit_mismatch', 'account', account.code);
        END IF;
        ids := ids || jsonb_build_object(account.code, account.id);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(codes, 1), 0) LOOP
        IF NOT ids ? codes[i] THEN
            RETURN jsonb_build_object('result', 'unknown_account', 'account', codes[i]);
        END IF;
    END LOOP;

    BEGIN
        INSERT INTO ledger_entries (idempotency_key, fingerprint, kind, reference, memo,
                created_by, created_at, status, pending_id, reverses_id, expires_at, hash)
        VALUES (e->>'idempotency_key', e->>'fingerprint', e->>'kind', e->>'reference',
                e->>'memo', e->>'created_by', created, e->>'status',
                (e->>'pending_id')::bigint, (e->>'reverses_id')::bigint,
                (e->>'expires_at')::timestamptz, e->>'hash')
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id INTO new_id;
        IF new_id IS NULL THEN
            -- A twin with this key committed while we read: answer as it would have.
            SELECT id, fingerprint INTO found_id, found_fingerprint
              FROM ledger_entries WHERE idempotency_key = e->>'idempotency_key';
            RETURN jsonb_build_object('result', CASE WHEN found_fingerprint = e->>'fingerprint'
                THEN 'existing' ELSE 'conflict' END, 'entry_id', found_id);
        END IF;
        INSERT INTO ledger_unsealed (entry_id) VALUES (new_id);

        FOR effect IN
            SELECT (ids->>key)::bigint AS account_id, key AS code,
                   (value->>0)::bigint AS d_posted, (value->>1)::bigint AS d_in,
                   (value->>2)::bigint AS d_out
              FROM jsonb_each(plan->'effects') ORDER BY 1
        LOOP
            UPDATE ledger_accounts
               SET posted = posted + effect.d_posted,
                   pending_in = pending_in + effect.d_in,
                   pending_out = pending_out + effect.d_out
             WHERE id = effect.account_id
               AND NOT (closed AND (effect.d_posted <> 0 OR effect.d_in > 0 OR effect.d_out > 0))
               AND (NOT no_overdraft OR (effect.d_posted >= 0 AND effect.d_out <= 0)
                    OR posted + effect.d_posted - pending_out - effect.d_out >= 0)
            RETURNING posted INTO balance;
            IF NOT FOUND THEN
                SELECT jsonb_build_object(
                         'result', CASE WHEN closed THEN 'account_closed' ELSE 'insufficient' END,
                         'account', code, 'unit', unit, 'available', posted - pending_out)
                  INTO refused FROM ledger_accounts WHERE id = effect.account_id;
                RAISE EXCEPTION USING ERRCODE = 'JD001', MESSAGE = refused::text;
            END IF;
            running := running || jsonb_build_object(effect.code, balance - effect.d_posted);
        END LOOP;

        FOR posting IN SELECT value FROM jsonb_array_elements(plan->'postings') LOOP
            balance := NULL;
            IF (plan->>'posted')::boolean THEN
                balance := (running->>(posting->>0))::bigint + (posting->>2)::bigint;
                running := running || jsonb_build_object(posting->>0, balance);
            END IF;
            INSERT INTO ledger_postings (entry_id, account_id, unit, amount, posted_after,
                                         created_at)
            VALUES (new_id, (ids->>(posting->>0))::bigint, posting->>1,
                    (posting->>2)::bigint, balance, created);
        END LOOP;

        INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited,
                                                last_credit_at)
        SELECT (ids->>(total->>0))::bigint, (total->>1)::int, total->>2,
               (total->>3)::bigint, (total->>4)::bigint, (total->>5)::timestamptz
          FROM jsonb_array_elements(plan->'totals') AS total
        ON CONFLICT (account_id, year, kind) DO UPDATE
           SET credited = t.credited + excluded.credited,
               debited = t.debited + excluded.debited,
               last_credit_at = greatest(t.last_credit_at, excluded.last_credit_at);
        IF e->>'reverses_id' IS NOT NULL THEN
            UPDATE ledger_account_totals t
               SET last_credit_at = ledger_latest_standing_credit(t.account_id, t.year, t.kind)
              FROM jsonb_array_elements(plan->'totals') AS total
             WHERE (total->>3)::bigint < 0
               AND t.account_id = (ids->>(total->>0))::bigint
               AND t.year = (total->>1)::int AND t.kind = total->>2;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'JD001' THEN
            RETURN SQLERRM::jsonb;
        WHEN unique_violation THEN
            -- The same key committed meanwhile: the first attempt's answer, as at the top.
            SELECT id, fingerprint INTO found_id, found_fingerprint
              FROM ledger_entries WHERE idempotency_key = e->>'idempotency_key';
            IF FOUND THEN
                RETURN jsonb_build_object('result', CASE WHEN found_fingerprint = e->>'fingerprint'
                    THEN 'existing' ELSE 'conflict' END, 'entry_id', found_id);
            END IF;
            -- Settling a hold or reversing an entry happens once (unique pending_id and
            -- reverses_id): a concurrent second attempt waits for the first, then lands here.
            IF e->>'pending_id' IS NOT NULL AND EXISTS (
                SELECT 1 FROM ledger_entries WHERE pending_id = (e->>'pending_id')::bigint) THEN
                RETURN jsonb_build_object('result', 'settled',
                                          'entry_id', (e->>'pending_id')::bigint);
            END IF;
            IF e->>'reverses_id' IS NOT NULL AND EXISTS (
                SELECT 1 FROM ledger_entries WHERE reverses_id = (e->>'reverses_id')::bigint)
            THEN
                RETURN jsonb_build_object('result', 'reversed',
                                          'entry_id', (e->>'reverses_id')::bigint);
            END IF;
            RAISE;
    END;
    RETURN jsonb_build_object('result', 'created', 'entry_id', new_id);
END
$$;
