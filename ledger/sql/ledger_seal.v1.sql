-- ledger_seal, version 1 (migration 0010).
--
-- The hash chain's sealer in one round trip: the same links as chain.seal makes in Python
-- (rules.chain_link: SHA-256 of "prev_hash:entry_id:entry_hash", as lowercase hex), the same
-- order (queued entries by id) and the same head lock, skipped when another sealer holds it.
-- Called as a transaction of its own (own_transaction), it commits without waiting for the
-- disk: a seal lost in a crash loses its links, its dequeuing and its head move together (WAL
-- order is kept), so its entries are simply queued again and the next seal makes the same
-- links; and the next synchronous commit of anyone flushes it anyway. Inside a caller's
-- transaction it leaves the commit to the caller's setting.

CREATE OR REPLACE FUNCTION ledger_seal(max_entries int, own_transaction boolean DEFAULT false)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    queued record;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    prevs text[] := '{}';
    links text[] := '{}';
BEGIN
    SELECT seq, hash INTO head_seq, head_hash
      FROM ledger_chain_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM ledger_chain_head WHERE id = 1) THEN
            RETURN 0;  -- another sealer holds the head
        END IF;
        -- The first seal ever: a concurrent first sealer's row makes this one wait for it.
        INSERT INTO ledger_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))
        ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash
          FROM ledger_chain_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN 0;
        END IF;
    END IF;
    -- Driven by the queue, one index probe per entry, whatever the journal's statistics say
    -- (a join let the planner sort the whole journal to seal one entry).
    FOR queued IN
        SELECT u.entry_id, (SELECT e.hash FROM ledger_entries e WHERE e.id = u.entry_id) AS hash
          FROM ledger_unsealed u ORDER BY u.entry_id LIMIT max_entries
    LOOP
        head_seq := head_seq + 1;
        seqs := seqs || head_seq;
        ids := ids || queued.entry_id;
        prevs := prevs || head_hash;
        head_hash := encode(sha256(convert_to(
            head_hash || ':' || queued.entry_id::text || ':' || queued.hash, 'UTF8')), 'hex');
        links := links || head_hash;
    END LOOP;
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    IF own_transaction THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    INSERT INTO ledger_chain (seq, entry_id, prev_hash, hash, sealed_at)
    SELECT s, i, p, l, clock_timestamp() FROM unnest(seqs, ids, prevs, links) AS x(s, i, p, l);
    DELETE FROM ledger_unsealed WHERE entry_id = ANY(ids);
    UPDATE ledger_chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN cardinality(ids);
END
$$;
