"""Database objects the ORM does not describe: the append-only guards on history (both
databases) and PostgreSQL's one-round-trip writers ``ledger_post`` and ``ledger_post_many``.

Migrations install a named version (``install_v1``); a later change adds ``install_v2`` and a
migration that calls it, so old migrations keep meaning what they meant.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("ledger_entries", "ledger_postings", "ledger_chain")

POSTGRES_GUARD_V1 = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

SQLITE_TRIGGERS = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: UPDATE on {table} refused'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'ledger history is append-only: DELETE on {table} refused'); END;
"""

# The hash chain's sealer in one round trip: the same links as ``chain.seal`` makes in Python
# (``rules.chain_link``: SHA-256 of "prev_hash:entry_id:entry_hash", as lowercase hex), the same
# order (queued entries by id) and the same head lock, skipped when another sealer holds it.
# Called as a transaction of its own (``own_transaction``), it commits without waiting for the
# disk: a seal lost in a crash loses its links, its dequeuing and its head move together (WAL
# order is kept), so its entries are simply queued again and the next seal makes the same links;
# and the next synchronous commit of anyone flushes it anyway. Inside a caller's transaction it
# leaves the commit to the caller's setting.
POSTGRES_SEAL_V1 = """
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
"""


def install_seal_v1(connection: Connection) -> None:
    """``ledger_seal`` on PostgreSQL; other databases seal in Python (``chain.seal``)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_SEAL_V1))


def uninstall_seal_v1(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_seal(int, boolean)"))


# One call writes one entry. Everything that needs no account lock happens first: the
# idempotency look-up, reading the accounts (unknown, unit, closed), the entry's row and its
# place in the sealing queue. Only then are the touched accounts updated, in id order, each by
# one conditional UPDATE that locks the row, checks the no-overdraft rule and moves the cached
# balances at once; the postings (which carry the running balance) and the yearly totals
# follow. A hot account's row is thus locked for the last few statements and the commit only.
# A refusal returns a verdict instead of raising: the sub-block undoes the rows it wrote, and
# the caller's transaction stays usable. ``{totals}``: how a version keeps the yearly totals.
POSTGRES_POST = """
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
{totals}    EXCEPTION
        WHEN SQLSTATE 'JD001' THEN
            RETURN SQLERRM::jsonb;
        WHEN unique_violation THEN
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
"""


# One call writes a batch of posted entries, set-based: a statement per table, not per entry.
# Keys already used come back first (the caller answers them and asks again without them).
# Then the touched accounts are locked in id order and every refusal is looked for, in entry
# order, with running balances (``posted_after``) computed by a window over the batch, so the
# batch is checked as if its entries were posted one after another. The writes run in a
# sub-block: if a concurrent twin took one of the keys meanwhile, the block is undone and the
# caller is told to retry. All or nothing, and a refusal leaves the transaction usable.
# ``{totals}``: how a version keeps the yearly totals.
POSTGRES_POST_MANY = """
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
        ), totals AS ({totals}        ), queued AS (
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
"""

def install_v1(connection: Connection) -> None:
    """The append-only guards, and on PostgreSQL the ``ledger_post`` writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_GUARD_V1))
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            connection.execute(text(POSTGRES_TRIGGER.format(table=table)))
        connection.execute(text(POSTGRES_POST_V1))
        connection.execute(text(POSTGRES_POST_MANY_V1))
    elif connection.dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for statement in SQLITE_TRIGGERS.format(table=table).strip().split(";\n"):
                if statement.strip():
                    connection.exec_driver_sql(statement.strip().rstrip(";") + ";")


def uninstall_v1(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_post_many(jsonb)"))
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_post(jsonb)"))
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_refuse_change()"))
    elif connection.dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")


# Version 2: the yearly totals also keep ``last_credit_at``, the moment of the latest credit
# still standing: a credit moves it forward, a reversal moves it back to the latest credit of
# that kind and year it leaves standing (one index range on postings(account_id, created_at)).
# And ``ledger_pay_out`` pays many accounts from one.
TOTALS_UPSERT_V1 = """
        INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited)
        SELECT (ids->>(total->>0))::bigint, (total->>1)::int, total->>2,
               (total->>3)::bigint, (total->>4)::bigint
          FROM jsonb_array_elements(plan->'totals') AS total
        ON CONFLICT (account_id, year, kind) DO UPDATE
           SET credited = t.credited + excluded.credited,
               debited = t.debited + excluded.debited;
"""

TOTALS_UPSERT_V2 = """
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
"""

POSTGRES_LATEST_STANDING_CREDIT = """
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
"""

TOTALS_CTE_V1 = """
            INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited)
            SELECT a.id, (total->>1)::int, total->>2, (total->>3)::bigint,
                   (total->>4)::bigint
              FROM jsonb_array_elements(batch->'totals') AS total
              JOIN ledger_accounts a ON a.code = ANY(codes) AND a.code = total->>0
            ON CONFLICT (account_id, year, kind) DO UPDATE
               SET credited = t.credited + excluded.credited,
                   debited = t.debited + excluded.debited
"""

TOTALS_CTE_V2 = """
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
"""


# ``ledger.pay_out``: one source pays many accounts, set-based (see ``ledger/payout.py``).
# The payees come as parallel arrays (code, amount, entry number, owner id); the entries as
# documents built and hashed in Python. The writes run in a sub-block, so a refused source
# (unknown, closed, overdrawn), a refused payee (of another unit, or closed) or a key taken
# meanwhile undoes every row and leaves the transaction usable. Version 2 looks for refused
# payees first; version 3 only when the upsert left a payee alone (it does not credit one of
# another unit or closed), so a payout that goes through never probes its payees twice (a
# merge over every account's code: 1.7 s per tier of a million-volunteer ranking).
POSTGRES_PAY_OUT = """
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
{first}
    BEGIN
        UPDATE ledger_accounts SET posted = posted - total
         WHERE code = batch->>'source' AND unit = u AND NOT closed
           AND (NOT no_overdraft OR posted - pending_out - total >= 0)
        RETURNING id, posted + total INTO source_id, source_before;
        IF NOT FOUND THEN
{refused}            SELECT jsonb_build_object(
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
{after}            RAISE EXCEPTION 'a key or a payee changed meanwhile' USING ERRCODE = 'LG001';
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
"""

PAYEES_FIRST = """\
    SELECT jsonb_build_object('result', CASE WHEN a.unit <> u THEN 'unit_mismatch'
                                             ELSE 'account_closed' END, 'account', a.code)
      INTO refusal
      FROM ledger_accounts a
     WHERE a.code IN (SELECT unnest(codes)) AND (a.unit <> u OR a.closed)
     ORDER BY a.code LIMIT 1;
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
"""
PAYEES_AFTER = """\
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
"""
POSTGRES_PAY_OUT_V2 = (POSTGRES_PAY_OUT.replace("{first}", PAYEES_FIRST)
                       .replace("{refused}", "").replace("{after}", ""))
# A refused payee is named before a refused source, as version 2 and SQLite do.
POSTGRES_PAY_OUT_V3 = (POSTGRES_PAY_OUT.replace("{first}", "")
                       .replace("{refused}", PAYEES_AFTER).replace("{after}", PAYEES_AFTER))


# The writers of each version: the same text but for how the yearly totals are kept.
POSTGRES_POST_V1 = POSTGRES_POST.replace("{totals}", TOTALS_UPSERT_V1)
POSTGRES_POST_MANY_V1 = POSTGRES_POST_MANY.replace("{totals}", TOTALS_CTE_V1)
POSTGRES_POST_V2 = POSTGRES_POST.replace("{totals}", TOTALS_UPSERT_V2)
POSTGRES_POST_MANY_V2 = POSTGRES_POST_MANY.replace("{totals}", TOTALS_CTE_V2)


def install_v2(connection: Connection) -> None:
    """Over version 1: the writers keep ``last_credit_at`` (nothing changes on SQLite)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_LATEST_STANDING_CREDIT))
        connection.execute(text(POSTGRES_POST_V2))
        connection.execute(text(POSTGRES_POST_MANY_V2))
        connection.execute(text(POSTGRES_PAY_OUT_V2))


def uninstall_v2(connection: Connection) -> None:
    """Back to version 1's writers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_POST_V1))
        connection.execute(text(POSTGRES_POST_MANY_V1))
        connection.execute(text(
            "DROP FUNCTION IF EXISTS ledger_pay_out(jsonb, text[], bigint[], int[], bigint[])"))
        connection.execute(text(
            "DROP FUNCTION IF EXISTS ledger_latest_standing_credit(bigint, int, text)"))


def install_pay_out_v3(connection: Connection) -> None:
    """``ledger_pay_out`` looks for refused payees only when the upsert left one alone."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_PAY_OUT_V3))


def uninstall_pay_out_v3(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(POSTGRES_PAY_OUT_V2))


def install(connection: Connection) -> None:
    """Every version in order: what a database made by ``create_all`` (tests, benches) needs."""
    install_v1(connection)
    install_seal_v1(connection)
    install_v2(connection)
    install_pay_out_v3(connection)
