-- merchants_redeem_voucher, version 1 (migration 0010).
--
-- One call redeems one voucher that the caller has read and checked (the code, the merchant,
-- the state, the hold): the conditional UPDATE decides the single winner of simultaneous
-- scans (a second till waits for the first's row lock, then finds the voucher redeemed); the
-- ledger's own ledger_post settles the hold with the plan the ledger built in Python; then
-- the redemption row (unique per voucher and per idempotency key) and the owner's
-- notification. Every refusal is an answer, not an error, and leaves nothing written: the
-- writes run in a sub-block that a refused settlement or a taken key undoes.

CREATE OR REPLACE FUNCTION merchants_redeem_voucher(request jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    wanted_id bigint := (request->>'voucher_id')::bigint;
    moment timestamptz := (request->>'at')::timestamptz;
    scan_key text := request->>'idempotency_key';
    note jsonb := request->'notification';
    hold_id bigint;
    settled jsonb;
    new_id bigint;
    now_status text;
    now_expires timestamptz;
    now_redeemed timestamptz;
    earlier jsonb;
BEGIN
    BEGIN
        UPDATE vouchers SET status = 'redeemed', redeemed_at = moment
         WHERE id = wanted_id AND status = 'issued' AND expires_at > moment
        RETURNING hold_entry_id INTO hold_id;
        IF NOT FOUND THEN
            -- Changed since the caller read it. Say how it is now and, for a retry racing
            -- its own first attempt, what that attempt wrote under this key.
            SELECT status, expires_at, redeemed_at INTO now_status, now_expires, now_redeemed
              FROM vouchers WHERE id = wanted_id;
            SELECT jsonb_build_object('id', id, 'voucher_id', voucher_id, 'entry_id', entry_id,
                                      'merchant_id', merchant_id, 'price_points', price_points,
                                      'redeemed_at', redeemed_at)
              INTO earlier FROM redemptions WHERE idempotency_key = scan_key;
            RETURN jsonb_build_object('result', 'refused', 'status', now_status,
                                      'expires_at', now_expires, 'redeemed_at', now_redeemed,
                                      'first', earlier);
        END IF;
        IF hold_id IS DISTINCT FROM (request->'plan'->'entry'->>'pending_id')::bigint THEN
            RAISE EXCEPTION 'voucher % holds entry %, not the one the plan settles',
                wanted_id, hold_id;
        END IF;
        settled := ledger_post(request->'plan');
        IF settled->>'result' NOT IN ('created', 'existing') THEN
            RAISE EXCEPTION USING ERRCODE = 'JM001', MESSAGE = settled::text;
        END IF;
        INSERT INTO redemptions (voucher_id, merchant_id, staff_user_id, price_points, entry_id,
                                 idempotency_key, redeemed_at)
        VALUES (wanted_id, (request->>'merchant_id')::int, (request->>'staff_user_id')::int,
                (request->>'price_points')::int, (settled->>'entry_id')::bigint, scan_key,
                moment)
        RETURNING id INTO new_id;
        INSERT INTO notifications (user_id, message, params, link, reference, created_at)
        VALUES ((note->>'user_id')::int, note->>'message', (note->'params')::json,
                note->>'link', note->>'reference', (note->>'created_at')::timestamptz);
    EXCEPTION
        WHEN SQLSTATE 'JM001' THEN
            RETURN jsonb_build_object('result', 'ledger', 'outcome', SQLERRM::jsonb);
        WHEN unique_violation THEN
            -- The voucher's row is locked by us, so only the key can collide: a concurrent
            -- scan of another voucher committed a redemption under it.
            IF EXISTS (SELECT 1 FROM redemptions WHERE idempotency_key = scan_key) THEN
                RETURN jsonb_build_object('result', 'conflict');
            END IF;
            RAISE;
    END;
    RETURN jsonb_build_object('result', 'redeemed', 'redemption_id', new_id,
                              'ledger', settled);
END
$$;
