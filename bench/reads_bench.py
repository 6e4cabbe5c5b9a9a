"""Reads where people wait: a balance with a million entries in the journal, and a statement
page of a wallet with 10,000 postings, each beside the same SELECT through plain psycopg in
the same run.

    PYTHONPATH=. python bench/reads_bench.py [--url URL] [--journal-entries 1000000] [--quick]

The journal is loaded server-side as ``bench/ledger_bench.py`` loads its read database
(10,000 wallets, ``--journal-entries`` entries over a year), plus one busy wallet that receives
``--wallet-postings`` of them. Then, 2,000 timed calls after 200 to warm up:
``ledger.balance`` of a random wallet; ``ledger.statement`` of the busy wallet, its first
page (50 lines) and a page 5,000 postings deep (keyset: ``before_posting_id``), timed in Python
(the round trip included) and on the server (``EXPLAIN (ANALYZE)`` execution time of the same
query). Prints p50 / p99 ms, the targets (balance p50 <= 0.5 ms and p99 <= 1 ms, statement
page <= 20 ms on the server) and pass / FAIL; exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402

import ledger  # noqa: E402

SAMPLES = 2_000
WARMUP = 200
PAGE = 50
DEEP = 5_000
BUSY_WALLET = "read:busy:wallet"
TARGET_BALANCE_P50_MS = 0.5
TARGET_BALANCE_P99_MS = 1.0
TARGET_PAGE_SERVER_MS = 20.0

# The busy wallet takes the wallet side of the last ``postings`` entries of the journal.
BUSY = (
    # A load, not the product: history's append-only triggers stay quiet for this session.
    "SET session_replication_role = replica",
    """INSERT INTO ledger_accounts (code, unit, kind, no_overdraft, closed, posted,
           pending_in, pending_out, created_at)
       VALUES (%(code)s, 'POINT', 'liability', true, false, 0, 0, 0, now())""",
    """UPDATE ledger_accounts a SET posted = a.posted - s.total
         FROM (SELECT p.account_id, sum(p.amount) AS total FROM ledger_postings p
                WHERE p.entry_id > %(entries)s - %(postings)s AND p.amount > 0
                GROUP BY p.account_id) s
        WHERE a.id = s.account_id""",
    """UPDATE ledger_postings SET account_id = (SELECT id FROM ledger_accounts
                                                 WHERE code = %(code)s)
        WHERE entry_id > %(entries)s - %(postings)s AND amount > 0""",
    """UPDATE ledger_postings p SET posted_after = s.running
         FROM (SELECT id, sum(amount) OVER (ORDER BY entry_id) AS running
                 FROM ledger_postings
                WHERE account_id = (SELECT id FROM ledger_accounts WHERE code = %(code)s)) s
        WHERE p.id = s.id""",
    """UPDATE ledger_accounts SET posted = (SELECT sum(amount) FROM ledger_postings
                                             WHERE account_id = ledger_accounts.id)
        WHERE code = %(code)s""",
)

PLAIN_BALANCE = ledger_bench.PLAIN_BALANCE
PLAIN_PAGE = """
SELECT p.id, p.entry_id, e.kind, e.status, e.reference, e.memo, e.created_at, p.amount,
       p.posted_after
  FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
 WHERE p.account_id = (SELECT id FROM ledger_accounts WHERE code = %(code)s)
   AND p.id < %(before)s
 ORDER BY p.id DESC LIMIT %(limit)s
"""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quantiles(call, arguments: list) -> tuple[float, float]:
    for argument in arguments[:WARMUP]:
        call(*argument)
    timings = []
    for argument in arguments[WARMUP:]:
        started = time.perf_counter()
        call(*argument)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[98]


def server_ms(connection, before: int, samples: int = 50) -> tuple[float, float]:
    """The page query's execution time on the server, p50 / max over ``samples`` runs."""
    timings = []
    for _ in range(samples):
        plan = connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + PLAIN_PAGE,
                                  {"code": BUSY_WALLET, "before": before, "limit": PAGE}
                                  ).fetchone()[0][0]
        timings.append(plan["Planning Time"] + plan["Execution Time"])
    return statistics.median(timings), max(timings)


def verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=ledger_bench.DEFAULT_SERVER_URL)
    parser.add_argument("--journal-entries", type=int)
    parser.add_argument("--wallet-postings", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    arguments = parser.parse_args(argv)
    entries = arguments.journal_entries or (100_000 if arguments.quick else 1_000_000)
    postings = min(arguments.wallet_postings, entries // 2)
    started = time.perf_counter()
    url = ledger_bench.create_database(arguments.url, f"jindou_readsbench_{id(parser)}")
    rows = []
    try:
        progress(f"loading {entries:,} entries")
        ledger_bench.load_journal(url, entries)
        with psycopg.connect(ledger_bench.libpq_url(url)) as connection:
            for statement in BUSY:
                connection.execute(statement, {"code": BUSY_WALLET, "entries": entries,
                                               "postings": postings})
            connection.commit()
            connection.autocommit = True
            connection.execute("VACUUM ANALYZE")
        rng = random.Random("reads")
        codes = [(f"read:{rng.randint(1, ledger_bench.READ_ACCOUNT_COUNT)}:wallet",)
                 for _ in range(WARMUP + SAMPLES)]
        engine = ledger_bench.ledger_engine(url)
        with Session(engine) as session, psycopg.connect(
                ledger_bench.libpq_url(url)) as connection:
            service = quantiles(lambda code: ledger.balance(session, code), codes)
            plain = quantiles(
                lambda code: connection.execute(PLAIN_BALANCE, (code,)).fetchone(), codes)
            rows.append((f"ledger.balance, {entries:,} entries", service, plain,
                         f"p50 <= {TARGET_BALANCE_P50_MS:g}, p99 <= {TARGET_BALANCE_P99_MS:g}",
                         verdict(service[0] <= TARGET_BALANCE_P50_MS
                                 and service[1] <= TARGET_BALANCE_P99_MS)))
            first = ledger.statement(session, BUSY_WALLET, page_size=PAGE)
            assert len(first) == PAGE, len(first)
            # A page 5,000 postings deep: the id of the 5,000th newest posting.
            deep_id = connection.execute(
                "SELECT id FROM ledger_postings WHERE account_id = (SELECT id FROM "
                "ledger_accounts WHERE code = %s) ORDER BY id DESC OFFSET %s LIMIT 1",
                (BUSY_WALLET, DEEP)).fetchone()[0]
            top = 2**62
            for label, before in (("first page", None), (f"{DEEP:,} deep", deep_id)):
                calls = [(before,)] * (WARMUP + SAMPLES // 4)
                service = quantiles(lambda b: ledger.statement(
                    session, BUSY_WALLET, before_posting_id=b, page_size=PAGE), calls)
                plain = quantiles(lambda b: connection.execute(PLAIN_PAGE, {
                    "code": BUSY_WALLET, "before": b or top, "limit": PAGE}).fetchall(), calls)
                on_server = server_ms(connection, before or top)
                rows.append((f"ledger.statement {PAGE} lines, {label}, {postings:,} in wallet",
                             service, plain,
                             f"server {on_server[0]:.2f} ms (max {on_server[1]:.2f}) <= "
                             f"{TARGET_PAGE_SERVER_MS:g}",
                             verdict(on_server[1] <= TARGET_PAGE_SERVER_MS)))
            session.rollback()
        engine.dispose()
    finally:
        ledger_bench.drop_database(arguments.url, url)
    header = ("read (p50 / p99 ms)", "ledger", "plain psycopg", "target", "result")
    table = [header] + [(name, f"{s[0]:.2f} / {s[1]:.2f}", f"{p[0]:.2f} / {p[1]:.2f}", target,
                         result) for name, s, p, target, result in rows]
    widths = [max(len(row[column]) for row in table) for column in range(5)]
    for number, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")
    return 0 if all(row[-1] == "pass" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
