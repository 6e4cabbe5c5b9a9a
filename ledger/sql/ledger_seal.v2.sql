-- ledger_seal, version 2 (migration 0018).
--
-- Version 1's chain links, and beside them the RFC 6962 Merkle tree over the same entries
-- (ledger/merkle.py): leaf seq - 1 is SHA-256(0x00 || "<entry id>:<entry hash>"), an inner
-- node SHA-256(0x01 || left || right), and every inner node the seal completes is stored in
-- ledger_tree_nodes, as merkle.append makes them (leaves are not stored: they follow from the
-- chain and the entries, ledger.heads.fetcher). The chain is sequential by nature; the tree is
-- built set-based, one INSERT ... SELECT per level: the parents of the new leaves (a first
-- leaf with an odd index pairs with the chain's previous entry), then at each level the
-- parents whose right child was just made, until a level makes none.
-- Called as a transaction of its own (own_transaction), it commits without waiting for the
-- disk: a seal lost in a crash loses its links, its nodes, its dequeuing and its head move
-- together (WAL order is kept), so its entries are simply queued again and the next seal
-- makes the same links and nodes. Inside a caller's transaction it leaves the commit to the
-- caller's setting.

CREATE OR REPLACE FUNCTION ledger_seal(max_entries int, own_transaction boolean DEFAULT false)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    first_leaf bigint;
    queued record;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    prevs text[] := '{}';
    links text[] := '{}';
    entry_hashes text[] := '{}';
    lvl int := 0;
    lo bigint;
    hi bigint;
    made bigint;
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
    first_leaf := head_seq;  -- the index of the first new leaf
    -- Driven by the queue, one index probe per entry, whatever the journal's statistics say
    -- (a join let the planner sort the whole journal to seal one entry).
    FOR queued IN
        SELECT u.entry_id, (SELECT e.hash FROM ledger_entries e WHERE e.id = u.entry_id) AS hash
          FROM ledger_unsealed u ORDER BY u.entry_id LIMIT max_entries
    LOOP
        head_seq := head_seq + 1;
        seqs := seqs || head_seq;
        ids := ids || queued.entry_id;
        entry_hashes := entry_hashes || queued.hash;
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
    INSERT INTO ledger_tree_nodes (level, idx, hash)
    SELECT 1, x.idx >> 1, sha256('\x01'::bytea || x.left_leaf || x.leaf)
      FROM (SELECT leaves.s - 1 AS idx, leaves.leaf,
                   coalesce(lag(leaves.leaf) OVER (ORDER BY leaves.s),
                            (SELECT sha256('\x00'::bytea
                                           || convert_to(c.entry_id::text || ':' || e.hash, 'UTF8'))
                               FROM ledger_chain c JOIN ledger_entries e ON e.id = c.entry_id
                              WHERE c.seq = leaves.s - 1)) AS left_leaf
              FROM (SELECT y.s, sha256('\x00'::bytea || convert_to(y.i::text || ':' || y.h, 'UTF8'))
                           AS leaf
                      FROM unnest(seqs, ids, entry_hashes) AS y(s, i, h)) AS leaves) AS x
     WHERE x.idx % 2 = 1;
    GET DIAGNOSTICS made = ROW_COUNT;
    lvl := 1;
    lo := first_leaf >> 1;
    hi := (head_seq - 1) >> 1;
    WHILE made > 0 LOOP
        INSERT INTO ledger_tree_nodes (level, idx, hash)
        SELECT lvl + 1, r.idx >> 1, sha256('\x01'::bytea || l.hash || r.hash)
          FROM ledger_tree_nodes r
          JOIN ledger_tree_nodes l ON l.level = lvl AND l.idx = r.idx - 1
         WHERE r.level = lvl AND r.idx BETWEEN lo AND hi AND r.idx % 2 = 1;
        GET DIAGNOSTICS made = ROW_COUNT;
        EXIT WHEN made = 0;
        lvl := lvl + 1;
        lo := lo >> 1;
        hi := hi >> 1;
    END LOOP;
    DELETE FROM ledger_unsealed WHERE entry_id = ANY(ids);
    UPDATE ledger_chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN cardinality(ids);
END
$$;
