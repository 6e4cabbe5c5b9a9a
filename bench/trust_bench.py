"""The verifiable ledger on PostgreSQL (issue 14): sealing with the Merkle tree against today's
chain-only sealer, ``verify`` over a large journal, and inclusion and consistency proofs.
One run creates its own databases, prints one table and drops them again.

    PYTHONPATH=. python bench/trust_bench.py [--url URL] [--entries 1000000] [--seal 200000]

The journal is written with COPY (entries with their real content hashes, postings with
their running balances, the yearly totals), every entry queued for sealing. Then:
- seal: ``ledger.seal_all`` with ``ledger_seal`` v2 (chain and tree) over the first
  ``--seal`` entries, beside v1 (chain only, today's) over the same entries in a copy of the
  database; goal: v2 at least 0.8x v1's entries/s;
- verify: ``ledger.verify`` of the whole journal once every entry is sealed, beside a bare
  read of the same rows (the floor); goal: under 60 s at 1M entries;
- proofs: ``heads.inclusion`` and ``heads.consistency`` at the full size, p50 and p99, beside a
  primary-key read of one chain link; goal: under 20 ms.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import audit, ddl, heads, rules, sql_files  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WALLETS = 1000
PROOF_SAMPLES = 200
START = datetime(2026, 1, 1, tzinfo=UTC)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def generate(url: str, count: int) -> None:
    """``count`` entries of one point each from world:points to one of the wallets, queued."""
    engine = create_engine(url)
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
    with Session(engine) as session:
        ledger.open_account(session, "world:points", "POINT", "equity")
        for number in range(WALLETS):
            ledger.open_account(session, f"volunteer:{number}:wallet", "POINT", "liability",
                                no_overdraft=True)
        session.commit()
        ids = dict(session.execute(text("SELECT code, id FROM ledger_accounts")).all())
    entries, postings, queue = io.StringIO(), io.StringIO(), io.StringIO()
    world_running, wallet_running = 0, [0] * WALLETS
    last_credit = [None] * WALLETS
    posting_id = 0
    for entry_id in range(1, count + 1):
        wallet = entry_id % WALLETS
        code = f"volunteer:{wallet}:wallet"
        moment = START + timedelta(milliseconds=entry_id)
        fields = {"idempotency_key": f"bench:{entry_id}", "fingerprint": "f" * 64,
                  "kind": "check_in", "reference": None, "memo": None, "created_by": None,
                  "created_at": moment, "status": "posted", "pending_id": None,
                  "reverses_id": None, "expires_at": None}
        entry_hash = rules.content_hash(fields, [rules.Posting("world:points", -1, "POINT"),
                                                 rules.Posting(code, 1, "POINT")])
        stamp = moment.isoformat()
        entries.write(f"{entry_id}\tbench:{entry_id}\t{'f' * 64}\tcheck_in\t{stamp}\tposted\t"
                      f"{entry_hash}\n")
        world_running -= 1
        wallet_running[wallet] += 1
        last_credit[wallet] = moment
        posting_id += 2
        postings.write(f"{posting_id - 1}\t{entry_id}\t{ids['world:points']}\tPOINT\t-1\t"
                       f"{world_running}\t{stamp}\n")
        postings.write(f"{posting_id}\t{entry_id}\t{ids[code]}\tPOINT\t1\t"
                       f"{wallet_running[wallet]}\t{stamp}\n")
        queue.write(f"{entry_id}\n")
        if entry_id % 200_000 == 0:
            progress(f"  {entry_id} entries hashed")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns, buffer in (
                ("ledger_entries", "id, idempotency_key, fingerprint, kind, created_at, status, "
                                   "hash", entries),
                ("ledger_postings", "id, entry_id, account_id, unit, amount, posted_after, "
                                    "created_at", postings),
                ("ledger_unsealed", "entry_id", queue)):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            progress(f"  {table} copied")
        cursor.execute("SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), %s)",
                       (count,))
        cursor.execute("SELECT setval(pg_get_serial_sequence('ledger_postings', 'id'), %s)",
                       (posting_id,))
        cursor.execute("UPDATE ledger_accounts SET posted = %s WHERE id = %s",
                       (world_running, ids["world:points"]))
        for wallet in range(WALLETS):
            account = ids[f"volunteer:{wallet}:wallet"]
            cursor.execute("UPDATE ledger_accounts SET posted = %s WHERE id = %s",
                           (wallet_running[wallet], account))
            if wallet_running[wallet]:
                cursor.execute(
                    "INSERT INTO ledger_account_totals (account_id, year, kind, credited, "
                    "debited, last_credit_at) VALUES (%s, 2026, 'check_in', %s, 0, %s)",
                    (account, wallet_running[wallet], last_credit[wallet]))
        cursor.execute("INSERT INTO ledger_account_totals (account_id, year, kind, credited, "
                       "debited, last_credit_at) VALUES (%s, 2026, 'check_in', 0, %s, NULL)",
                       (ids["world:points"], count))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()


def seal_rate(url: str, limit: int, version: int) -> float:
    engine = create_engine(url)
    with engine.begin() as connection:
        sql_files.execute(connection, "ledger_seal", version)
    sealed, started = 0, time.perf_counter()
    with Session(engine) as session:
        while sealed < limit:
            count = ledger.seal(session, max_entries=min(ledger.chain.MAX_SEAL_BATCH,
                                                         limit - sealed))
            session.commit()
            if not count:
                break
            sealed += count
    elapsed = time.perf_counter() - started
    engine.dispose()
    return sealed / elapsed


def timed_verify(url: str, parallel: bool) -> tuple[float, float, ledger.Report]:
    engine = create_engine(url)
    audit.PARALLEL_FROM_ENTRIES = 1 if parallel else 10**12
    with Session(engine) as session:
        started = time.perf_counter()
        report = ledger.verify(session)
        verify_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for statement in ("SELECT id, hash, created_at FROM ledger_entries",
                          "SELECT entry_id, account_id, amount FROM ledger_postings",
                          "SELECT seq, entry_id, hash FROM ledger_chain"):
            for _row in session.execute(text(statement)).yield_per(5000):
                pass
        floor_seconds = time.perf_counter() - started
    engine.dispose()
    return verify_seconds, floor_seconds, report


def proof_times(url: str) -> dict[str, list[float]]:
    engine = create_engine(url)
    times: dict[str, list[float]] = {"inclusion": [], "consistency": [], "one link": []}
    rng = random.Random(14)
    with Session(engine) as session:
        size = heads.tree_size(session)
        for _ in range(PROOF_SAMPLES):
            entry_id = rng.randint(1, size)
            started = time.perf_counter()
            proof = heads.inclusion(session, entry_id, size)
            times["inclusion"].append(time.perf_counter() - started)
            assert proof is not None
            first = rng.randint(1, size)
            started = time.perf_counter()
            heads.consistency(session, first, size)
            times["consistency"].append(time.perf_counter() - started)
            started = time.perf_counter()
            session.execute(text("SELECT hash FROM ledger_chain WHERE seq = :seq"),
                            {"seq": first}).scalar()
            times["one link"].append(time.perf_counter() - started)
    engine.dispose()
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("JINDOU_BENCH_URL", DEFAULT_SERVER_URL))
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seal", type=int, default=200_000)
    args = parser.parse_args(argv)
    prefix = f"jindou_bench_trust_{os.getpid()}"
    names = {"tree": f"{prefix}_tree", "chain": f"{prefix}_chain"}
    urls = {key: make_url(args.url).set(database=name).render_as_string(hide_password=False)
            for key, name in names.items()}
    rows = []
    try:
        admin(args.url, f'CREATE DATABASE "{names["tree"]}"')
        progress(f"writing {args.entries} entries")
        started = time.perf_counter()
        generate(urls["tree"], args.entries)
        progress(f"written in {time.perf_counter() - started:.0f} s")
        admin(args.url, f'CREATE DATABASE "{names["chain"]}" TEMPLATE "{names["tree"]}"')
        seal = min(args.seal, args.entries)
        progress(f"sealing {seal} entries, chain only (ledger_seal v1)")
        chain_rate = seal_rate(urls["chain"], seal, 1)
        admin(args.url, f'DROP DATABASE "{names["chain"]}" WITH (FORCE)')
        progress(f"sealing {seal} entries, chain and tree (ledger_seal v2)")
        tree_rate = seal_rate(urls["tree"], seal, 2)
        rows.append(("seal, entries/s", f"{tree_rate:,.0f}", f"{chain_rate:,.0f} (v1)",
                     f"{tree_rate / chain_rate:.2f}x", ">= 0.8x",
                     tree_rate / chain_rate >= 0.8))
        progress("sealing the rest")
        seal_rate(urls["tree"], args.entries, 2)
        for parallel in (False, True):
            progress(f"verify ({'hashing in processes' if parallel else 'one process'})")
            verify_seconds, floor_seconds, report = timed_verify(urls["tree"], parallel)
            assert report.ok, [str(problem) for problem in report.problems[:5]]
            assert report.entries == report.sealed == args.entries
            rows.append((f"verify {args.entries:,}{', processes' if parallel else ''}, s",
                         f"{verify_seconds:.1f}", f"{floor_seconds:.1f} (bare read)",
                         f"{verify_seconds / floor_seconds:.1f}x", "< 60 s",
                         verify_seconds < 60))
        progress("proofs")
        times = proof_times(urls["tree"])
        link = times["one link"]
        for name in ("inclusion", "consistency"):
            p50, p99 = percentile(times[name], 0.5), percentile(times[name], 0.99)
            rows.append((f"{name} proof at {args.entries:,}, ms p50/p99",
                         f"{p50 * 1000:.2f} / {p99 * 1000:.2f}",
                         f"{percentile(link, 0.5) * 1000:.2f} / {percentile(link, 0.99) * 1000:.2f}"
                         " (one link)", f"{p50 / percentile(link, 0.5):.1f}x", "< 20 ms",
                         p99 < 0.020))
    finally:
        for name in names.values():
            admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{'scenario':<40} {'measured':>18} {'baseline':>28} {'ratio':>7}  goal")
    for scenario, measured, baseline, ratio, goal, ok in rows:
        print(f"{scenario:<40} {measured:>18} {baseline:>28} {ratio:>7}  {goal} "
              f"{'pass' if ok else 'FAIL'}")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
