-- ledger_seal, version 2 (migration 0014).
--
-- Version 1's chain links, and beside them the RFC 6962 Merkle tree over the same entries
-- (ledger/merkle.py): leaf seq - 1 is SHA-256(0x00 || "<entry id>:<entry hash>"), an inner
-- node SHA-256(0x01 || left || right), and every subtree the seal completes is stored in
-- ledger_tree_nodes, as merkle.append makes them. The tree's right edge (at most one node per
-- level) is read once; appending then needs no other read.
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
    queued record;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    prevs text[] := '{}';
    links text[] := '{}';
    edge bytea[] := '{}';
    node_levels smallint[] := '{}';
    node_idxs bigint[] := '{}';
    node_hashes bytea[] := '{}';
    edge_start bigint := 0;
    lvl int;
    idx bigint;
    node bytea;
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
    -- The right edge of the tree of head_seq leaves: one complete subtree per set bit.
    FOR lvl IN REVERSE 62..0 LOOP
        IF (head_seq >> lvl) & 1 = 1 THEN
            SELECT n.hash INTO node FROM ledger_tree_nodes n
             WHERE n.level = lvl AND n.idx = edge_start >> lvl;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the Merkle tree of % leaves lacks node (%, %)',
                    head_seq, lvl, edge_start >> lvl;
            END IF;
            edge := edge || node;
            edge_start := edge_start + (1::bigint << lvl);
        END IF;
    END LOOP;
    -- Driven by the queue, one index probe per entry, whatever the journal's statistics say
    -- (a join let the planner sort the whole journal to seal one entry).
    FOR queued IN
        SELECT u.entry_id, (SELECT e.hash FROM ledger_entries e WHERE e.id = u.entry_id) AS hash
          FROM ledger_unsealed u ORDER BY u.entry_id LIMIT max_entries
    LOOP
        idx := head_seq;  -- the new leaf's index
        head_seq := head_seq + 1;
        seqs := seqs || head_seq;
        ids := ids || queued.entry_id;
        prevs := prevs || head_hash;
        head_hash := encode(sha256(convert_to(
            head_hash || ':' || queued.entry_id::text || ':' || queued.hash, 'UTF8')), 'hex');
        links := links || head_hash;
        node := sha256('\x00'::bytea || convert_to(
            queued.entry_id::text || ':' || queued.hash, 'UTF8'));
        lvl := 0;
        node_levels := node_levels || lvl::smallint;
        node_idxs := node_idxs || idx;
        node_hashes := node_hashes || node;
        WHILE idx & 1 = 1 LOOP
            node := sha256('\x01'::bytea || edge[cardinality(edge)] || node);
            edge := trim_array(edge, 1);
            idx := idx >> 1;
            lvl := lvl + 1;
            node_levels := node_levels || lvl::smallint;
            node_idxs := node_idxs || idx;
            node_hashes := node_hashes || node;
        END LOOP;
        edge := edge || node;
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
    SELECT l, i, h FROM unnest(node_levels, node_idxs, node_hashes) AS x(l, i, h);
    DELETE FROM ledger_unsealed WHERE entry_id = ANY(ids);
    UPDATE ledger_chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN cardinality(ids);
END
$$;
