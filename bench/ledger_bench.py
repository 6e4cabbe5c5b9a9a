"""How fast the ledger writes and reads on PostgreSQL, next to plain psycopg SQL writing the
same rows. One run creates its own databases, prints one table and drops them again.

    PYTHONPATH=. python bench/ledger_bench.py [--url URL] [--seconds 5] [--quick]

Scenarios (see bench/README.md for what each one means and why):
single entries from 1 and 8 worker processes over 1,000 accounts; one hot no-overdraft account
drained by 8 workers until it refuses (one commit per entry from 8 processes, and
``ledger.GroupPoster`` fed by 8 threads of one process against plain per-entry commits from the
same threads); plain SQL with an in-transaction global hash-chain head
(what our seal-after-commit chain avoids); batches of 1,000 entries (``ledger.post_many``
against COPY); ``ledger.seal`` throughput; ``ledger.verify`` of the service's database (the
plain writers write the same rows into a database of their own); balance reads with a million
entries in the journal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import random
import statistics
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import Posting, ddl, rules  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_SECONDS = 5.0
DEFAULT_JOURNAL_ENTRIES = 1_000_000
ACCOUNT_COUNT = 1_000
WORKER_COUNT = 8
BATCH_ENTRIES = 1_000
MAX_AMOUNT_POINTS = 9
WALLET_FUNDING_POINTS = 10**9
# The hot account holds enough for this share of what 8 workers post in a scenario, so it
# runs dry part-way through and every later entry must be refused.
HOT_FUNDED_SHARE = 0.2
# Through the GroupPoster the hot account holds what the target rate posts in this share of a
# scenario: a poster at the target drains it before the end, and refusals must follow.
HOT_GROUP_FUNDED_SHARE = 0.8
MAX_STEPS_PER_WORKER = 1_000_000
WORKER_START_TIMEOUT_SECONDS = 120
WORKER_RESULT_TIMEOUT_SECONDS = 300
BALANCE_SAMPLE_INTERVAL_SECONDS = 0.02
READ_ACCOUNT_COUNT = 10_000
READ_SAMPLES = 2_000
READ_WARMUP_SAMPLES = 200
READ_JOURNAL_SPAN = timedelta(days=365)

TARGET_SINGLE_SHARE = 0.40
TARGET_BATCH_SHARE = 0.50
TARGET_HOT_ENTRIES_PER_SECOND = 1_000
TARGET_READ_MS = 2.0


# --- databases ----------------------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a URL psycopg understands (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database(server_url: str, name: str) -> str:
    """A new database with the ledger's schema, built the way tests/databases.py builds it."""
    admin(server_url, f'CREATE DATABASE "{name}"')
    url = database_url(server_url, name)
    engine = ledger_engine(url)
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
    engine.dispose()
    return url


def drop_database(server_url: str, url: str) -> None:
    admin(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def ledger_engine(url: str):
    engine = create_engine(url, pool_size=2, max_overflow=0)
    ledger.configure_engine(engine)
    return engine


def wallet_codes(prefix: str, count: int) -> list[str]:
    return [f"{prefix}:{number}:wallet" for number in range(1, count + 1)]


def open_wallets(url: str, codes: list[str], points: int) -> None:
    """No-overdraft wallets, each funded from ``world:points``."""
    engine = ledger_engine(url)
    with Session(engine) as session:
        ledger.open_account(session, "world:points", "POINT", "equity")
        for code in codes:
            ledger.open_account(session, code, "POINT", "liability", no_overdraft=True)
        session.commit()
        if points:
            fund(session, codes, points)
    engine.dispose()


def fund(session: Session, codes: list[str], points: int) -> None:
    for code in codes:
        ledger.post(session, idempotency_key=f"fund:{code}:{time.time_ns()}", kind="funding",
                    postings=[Posting("world:points", -points, "POINT"),
                              Posting(code, points, "POINT")])
    session.commit()


# --- what every writer writes -------------------------------------------------------------


def entry_row(key: str, kind: str, merged, created_at: datetime) -> dict:
    """The entry row the service would write for a plain posted entry, hashes included."""
    entry = dict(
        idempotency_key=key, fingerprint=rules.request_fingerprint(kind, merged), kind=kind,
        reference=None, memo=None, created_by=None, created_at=created_at, status="posted",
        pending_id=None, reverses_id=None, expires_at=None,
    )
    entry["hash"] = rules.content_hash(entry, merged)
    return entry


ENTRY_COLUMNS = ("idempotency_key", "fingerprint", "kind", "reference", "memo", "created_by",
                 "created_at", "status", "pending_id", "reverses_id", "expires_at", "hash")


def transfer(rng: random.Random, codes: list[str], source: str | None = None):
    """A random move of a few points between two distinct wallets (or out of ``source``)."""
    target = rng.choice(codes)
    if source is not None:
        return [Posting(source, -1, "POINT"), Posting(target, 1, "POINT")]
    source = rng.choice(codes)
    while source == target:
        source = rng.choice(codes)
    amount = rng.randint(1, MAX_AMOUNT_POINTS)
    return [Posting(source, -amount, "POINT"), Posting(target, amount, "POINT")]


# --- service-layer writers ----------------------------------------------------------------


class ServiceWriter:
    """``ledger.post`` and one commit per entry; batches through ``ledger.post_many``."""

    def __init__(self, url: str):
        self.engine = ledger_engine(url)
        self.session = Session(self.engine)

    def entry(self, key: str, postings) -> int:
        try:
            ledger.post(self.session, idempotency_key=key, kind="transfer", postings=postings)
            self.session.commit()
            return 1
        except ledger.InsufficientPoints:
            self.session.rollback()
            return 0

    def batch(self, keys: list[str], postings_list) -> int:
        entries = [dict(idempotency_key=key, kind="transfer", postings=postings)
                   for key, postings in zip(keys, postings_list, strict=True)]
        ledger.post_many(self.session, entries)
        self.session.commit()
        return len(entries)

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()


class ServiceLoopWriter(ServiceWriter):
    """A batch as the naive caller writes it: ``ledger.post`` per entry, one commit."""

    def batch(self, keys: list[str], postings_list) -> int:
        for key, postings in zip(keys, postings_list, strict=True):
            ledger.post(self.session, idempotency_key=key, kind="transfer", postings=postings)
        self.session.commit()
        return len(keys)


# --- plain psycopg writers ----------------------------------------------------------------

MOVE_BALANCE = """
UPDATE ledger_accounts SET posted = posted + %(amount)s
 WHERE id = %(id)s AND NOT closed
   AND (NOT no_overdraft OR %(amount)s >= 0 OR posted - pending_out + %(amount)s >= 0)
RETURNING posted
"""
INSERT_ENTRY = (
    f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({name})s' for name in ENTRY_COLUMNS)}) RETURNING id"
)
INSERT_TWO_POSTINGS = """
INSERT INTO ledger_postings (entry_id, account_id, unit, amount, posted_after, created_at)
VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)
"""
# The yearly totals as ``ledger_post`` keeps them: a credit also moves ``last_credit_at``
# forward (greatest() ignores the NULL a debit brings).
UPSERT_TWO_TOTALS = """
INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited,
                                        last_credit_at)
VALUES (%s, %s, %s, %s, %s, %s::timestamptz), (%s, %s, %s, %s, %s, %s::timestamptz)
ON CONFLICT (account_id, year, kind) DO UPDATE
   SET credited = t.credited + excluded.credited, debited = t.debited + excluded.debited,
       last_credit_at = greatest(t.last_credit_at, excluded.last_credit_at)
"""
UPSERT_TOTALS_ARRAYS = """
INSERT INTO ledger_account_totals AS t (account_id, year, kind, credited, debited,
                                        last_credit_at)
SELECT * FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::bigint[], %s::bigint[],
                     %s::timestamptz[])
ON CONFLICT (account_id, year, kind) DO UPDATE
   SET credited = t.credited + excluded.credited, debited = t.debited + excluded.debited,
       last_credit_at = greatest(t.last_credit_at, excluded.last_credit_at)
"""


def credited_at(amount: int, created_at: datetime) -> datetime | None:
    """What a posting makes of its yearly total's ``last_credit_at``: a credit its moment."""
    return created_at if amount > 0 else None


class PlainWriter:
    """What a careful hand-written psycopg writer does per entry, one statement per round
    trip: move both balances (the no-overdraft check is the UPDATE's condition, in account-id
    order), insert the entry, its postings, the yearly totals and the unsealed-queue row."""

    def __init__(self, url: str, *, chain: bool = False):
        self.connection = psycopg.connect(libpq_url(url))
        self.chain = chain
        self.ids = dict(self.connection.execute("SELECT code, id FROM ledger_accounts"))
        self.connection.commit()

    def entry(self, key: str, postings) -> int:
        merged = rules.merge_postings(postings)
        assert len(merged) == 2, "the plain writer writes two-posting entries"
        created_at = datetime.now(UTC)
        entry = entry_row(key, "transfer", merged, created_at)
        cursor = self.connection.cursor()
        posted_after = {}
        for account_id, posting in sorted((self.ids[p.account], p) for p in merged):
            row = cursor.execute(MOVE_BALANCE, dict(amount=posting.amount, id=account_id))
            moved = row.fetchone()
            if moved is None:
                self.connection.rollback()
                return 0
            posted_after[account_id] = moved[0]
        entry_id = cursor.execute(INSERT_ENTRY, entry).fetchone()[0]
        postings_values, totals_values = [], []
        year = rules.year_of(created_at)
        for posting in merged:
            account_id = self.ids[posting.account]
            postings_values += [entry_id, account_id, posting.unit, posting.amount,
                                posted_after[account_id], created_at]
            totals_values += [account_id, year, "transfer", max(posting.amount, 0),
                              max(-posting.amount, 0), credited_at(posting.amount, created_at)]
        cursor.execute(INSERT_TWO_POSTINGS, postings_values)
        cursor.execute(UPSERT_TWO_TOTALS, totals_values)
        if self.chain:
            self._link(cursor, entry_id, entry["hash"])
        else:
            cursor.execute("INSERT INTO ledger_unsealed (entry_id) VALUES (%s)", (entry_id,))
        self.connection.commit()
        return 1

    def _link(self, cursor, entry_id: int, entry_hash: str) -> None:
        """An in-transaction chain: every writer queues on the one head row, as late as it
        can take it, and holds it until its COMMIT returns."""
        seq, prev_hash = cursor.execute(
            "SELECT seq, hash FROM ledger_chain_head WHERE id = 1 FOR UPDATE").fetchone()
        link_hash = rules.chain_link(prev_hash, entry_id, entry_hash)
        cursor.execute(
            "INSERT INTO ledger_chain (seq, entry_id, prev_hash, hash, sealed_at) "
            "VALUES (%s, %s, %s, %s, now())", (seq + 1, entry_id, prev_hash, link_hash))
        cursor.execute("UPDATE ledger_chain_head SET seq = %s, hash = %s WHERE id = 1",
                       (seq + 1, link_hash))

    def batch(self, keys: list[str], postings_list) -> int:
        """COPY: lock the accounts, check and number everything in Python, then COPY entries,
        postings and queue rows and move the balances and totals in one statement each."""
        cursor = self.connection.cursor()
        merged_list = [rules.merge_postings(postings) for postings in postings_list]
        account_ids = sorted({self.ids[p.account] for merged in merged_list for p in merged})
        balances = {
            account_id: [posted, pending_out, no_overdraft]
            for account_id, posted, pending_out, no_overdraft in cursor.execute(
                "SELECT id, posted, pending_out, no_overdraft FROM ledger_accounts "
                "WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (account_ids,))
        }
        entry_ids = [row[0] for row in cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_entries', 'id')) "
            "FROM generate_series(1, %s)", (len(keys),))]
        entries, postings, totals = [], [], {}
        for entry_id, key, merged in zip(entry_ids, keys, merged_list, strict=True):
            created_at = datetime.now(UTC)
            entry = entry_row(key, "transfer", merged, created_at)
            entries.append([entry_id] + [entry[name] for name in ENTRY_COLUMNS])
            year = rules.year_of(created_at)
            for posting in merged:
                account_id = self.ids[posting.account]
                balance = balances[account_id]
                balance[0] += posting.amount
                assert not balance[2] or balance[0] - balance[1] >= 0, "batch would overdraw"
                postings.append((entry_id, account_id, posting.unit, posting.amount,
                                 balance[0], created_at))
                total = totals.setdefault((account_id, year, "transfer"), [0, 0, None])
                total[0] += max(posting.amount, 0)
                total[1] += max(-posting.amount, 0)
                total[2] = rules.latest(total[2], credited_at(posting.amount, created_at))
        self._copy_batch(cursor, entries, postings, balances, totals)
        self.connection.commit()
        return len(keys)

    @staticmethod
    def _copy_batch(cursor, entries, postings, balances, totals) -> None:
        columns = ", ".join(("id",) + ENTRY_COLUMNS)
        with cursor.copy(f"COPY ledger_entries ({columns}) FROM STDIN") as copy:
            for row in entries:
                copy.write_row(row)
        with cursor.copy("COPY ledger_postings (entry_id, account_id, unit, amount, "
                         "posted_after, created_at) FROM STDIN") as copy:
            for row in postings:
                copy.write_row(row)
        cursor.execute(
            "UPDATE ledger_accounts a SET posted = d.posted FROM unnest(%s::bigint[], "
            "%s::bigint[]) AS d(id, posted) WHERE a.id = d.id",
            (list(balances), [balance[0] for balance in balances.values()]))
        keys = list(totals)
        cursor.execute(UPSERT_TOTALS_ARRAYS, (
            [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
            [totals[k][0] for k in keys], [totals[k][1] for k in keys],
            [totals[k][2] for k in keys]))
        with cursor.copy("COPY ledger_unsealed (entry_id) FROM STDIN") as copy:
            for row in entries:
                copy.write_row((row[0],))

    def close(self) -> None:
        self.connection.close()


class GroupWriter:
    """Every worker thread's entries through one shared ``ledger.GroupPoster``."""

    def __init__(self, poster: ledger.GroupPoster):
        self.poster = poster

    def entry(self, key: str, postings) -> int:
        try:
            self.poster.post(idempotency_key=key, kind="transfer", postings=postings)
            return 1
        except ledger.InsufficientPoints:
            return 0

    def close(self) -> None:
        pass  # the poster belongs to the scenario, which closes it


WRITERS = {
    "service": ServiceWriter,
    "service_loop": ServiceLoopWriter,
    "plain": PlainWriter,
    "plain_chain": lambda url: PlainWriter(url, chain=True),
}


# --- worker processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    url: str
    layer: str  # a key of WRITERS
    shape: str  # "single", "hot" or "batch"
    name: str
    worker: int
    seconds: float
    codes: tuple[str, ...]
    hot_code: str | None = None


@dataclass
class Outcome:
    entries: int = 0
    refused: int = 0
    started: float = 0.0
    finished: float = 0.0
    last_success: float = 0.0
    error: str | None = None


def run_worker(job: Job, barrier, results, make_writer=None) -> None:
    """One worker (a process, or a thread): its own writer, then entries until the deadline."""
    outcome = Outcome()
    try:
        writer = (make_writer or WRITERS[job.layer])(job.url)
        rng = random.Random(f"{job.name}:{job.worker}")
        barrier.wait(WORKER_START_TIMEOUT_SECONDS)
        outcome.started = outcome.last_success = time.monotonic()
        deadline = outcome.started + job.seconds
        for step in range(MAX_STEPS_PER_WORKER):
            if time.monotonic() >= deadline:
                break
            written = write_step(writer, job, rng, step)
            if written:
                outcome.entries += written
                outcome.last_success = time.monotonic()
            else:
                outcome.refused += 1
        outcome.finished = time.monotonic()
        writer.close()
    except Exception:
        outcome.error = traceback.format_exc()
    results.put(outcome)


def write_step(writer, job: Job, rng: random.Random, step: int) -> int:
    prefix = f"{job.name}:{job.worker}:{step}"
    if job.shape == "batch":
        keys = [f"{prefix}:{number}" for number in range(BATCH_ENTRIES)]
        return writer.batch(keys, [transfer(rng, job.codes) for _ in keys])
    return writer.entry(prefix, transfer(rng, job.codes, job.hot_code))


@dataclass
class Measured:
    entries: int
    refused: int
    seconds: float
    lowest_available: int | None = None
    batches: int | None = None

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0


def run_scenario(url: str, layer: str, shape: str, workers: int, seconds: float,
                 codes: list[str], hot_code: str | None = None) -> Measured:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    name = f"{layer}-{shape}-{workers}-{time.time_ns()}"
    processes = [
        context.Process(target=run_worker, args=(
            Job(url, layer, shape, name, worker, seconds, tuple(codes), hot_code),
            barrier, results))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    lowest = watch_available(url, hot_code, processes) if hot_code else None
    outcomes = [results.get(timeout=WORKER_RESULT_TIMEOUT_SECONDS) for _ in processes]
    for process in processes:
        process.join()
    return measure(name, outcomes, hot_code is not None, lowest)


def run_hot_threads(url: str, layer: str, seconds: float, codes: list[str],
                    hot_code: str) -> Measured:
    """``WORKER_COUNT`` threads of this process on the hot account: ``group`` posts through
    one shared ``ledger.GroupPoster``, ``plain`` gives each thread its own psycopg connection
    and a commit per entry."""
    barrier = threading.Barrier(WORKER_COUNT)
    results = queue.Queue()
    name = f"{layer}-hot-threads-{time.time_ns()}"
    engine = ledger_engine(url)
    poster = ledger.GroupPoster(sessionmaker(engine)) if layer == "group" else None
    make_writer = (lambda _url: GroupWriter(poster)) if poster else None
    threads = [
        threading.Thread(target=run_worker, args=(
            Job(url, layer, "hot", name, worker, seconds, tuple(codes), hot_code),
            barrier, results, make_writer))
        for worker in range(WORKER_COUNT)
    ]
    for thread in threads:
        thread.start()
    lowest = watch_available(url, hot_code, threads)
    outcomes = [results.get(timeout=WORKER_RESULT_TIMEOUT_SECONDS) for _ in threads]
    for thread in threads:
        thread.join()
    if poster:
        poster.close()
    engine.dispose()
    measured = measure(name, outcomes, True, lowest)
    measured.batches = poster.batches_committed if poster else None
    return measured


def measure(name: str, outcomes: list[Outcome], hot: bool, lowest: int | None) -> Measured:
    failed = [outcome.error for outcome in outcomes if outcome.error]
    if failed:
        raise RuntimeError(f"{name} failed:\n{failed[0]}")
    started = min(outcome.started for outcome in outcomes)
    # A drained hot account only refuses: its rate is what it took while it could pay.
    ended = max(outcome.last_success if hot else outcome.finished for outcome in outcomes)
    return Measured(sum(o.entries for o in outcomes), sum(o.refused for o in outcomes),
                    ended - started, lowest)


def watch_available(url: str, code: str, processes) -> int:
    """The lowest available balance the hot account showed while the workers (processes or
    threads) ran."""
    lowest = None
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        while any(process.is_alive() for process in processes):
            available = connection.execute(
                "SELECT posted - pending_out FROM ledger_accounts WHERE code = %s", (code,)
            ).fetchone()[0]
            lowest = available if lowest is None else min(lowest, available)
            time.sleep(BALANCE_SAMPLE_INTERVAL_SECONDS)
    return lowest


# --- write scenarios ----------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    service: str
    plain: str
    ratio: str
    target: str
    result: str


# The plain writers write into a database of their own: the service's database then holds
# only what the product wrote, so a problem ``ledger.verify`` finds there is the product's.
PLAIN_LAYERS = ("plain", "plain_chain")


@dataclass
class Bench:
    url: str
    plain_url: str
    seconds: float
    codes: list[str] = field(default_factory=list)
    measured: dict = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def url_for(self, layer: str) -> str:
        return self.plain_url if layer in PLAIN_LAYERS else self.url

    def run(self, layer: str, shape: str, workers: int, hot_code: str | None = None):
        label = f"{layer} {shape} x{workers}"
        progress(f"running {label} for {self.seconds:g} s")
        url = self.url_for(layer)
        if shape == "hot_threads":
            measured = run_hot_threads(url, layer, self.seconds, self.codes, hot_code)
        else:
            measured = run_scenario(url, layer, shape, workers, self.seconds, self.codes,
                                    hot_code)
        progress(f"  {label}: {measured.entries} entries in {measured.seconds:.2f} s = "
                 f"{measured.rate:,.0f}/s, {measured.refused} refused")
        self.measured[layer, shape, workers] = measured
        return measured


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compare_row(scenario: str, service: Measured, plain: Measured, share: float) -> Row:
    ratio = service.rate / plain.rate if plain.rate else 0.0
    return Row(scenario, f"{service.rate:,.0f}", f"{plain.rate:,.0f}", f"{ratio:.0%}",
               f">= {share:.0%} of plain", verdict(ratio >= share))


def verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def single_entry_scenarios(bench: Bench) -> None:
    for workers in (1, WORKER_COUNT):
        service = bench.run("service", "single", workers)
        plain = bench.run("plain", "single", workers)
        bench.rows.append(compare_row(
            f"single entries, {workers} worker{'s' if workers > 1 else ''}, "
            f"{ACCOUNT_COUNT:,} accounts", service, plain, TARGET_SINGLE_SHARE))


def hot_account_scenarios(bench: Bench) -> None:
    """The hot account, first with a commit per entry from 8 processes (information: capped
    by the row lock held until COMMIT returns), then through ``ledger.GroupPoster`` from 8
    threads (the target), each against plain SQL with a commit per entry."""
    per_entry = {}
    for layer in ("service", "plain"):
        rate = bench.measured[layer, "single", WORKER_COUNT].rate
        funded = max(100, int(HOT_FUNDED_SHARE * bench.seconds * rate))
        per_entry[layer] = drain_hot_account(bench, layer, "hot", funded)
    service, plain = per_entry["service"], per_entry["plain"]
    bench.rows.append(Row(
        f"hot account, one commit per entry, {WORKER_COUNT} processes (refused: service "
        f"{service.refused:,}, plain {plain.refused:,}; lowest balance "
        f"{service.lowest_available})",
        f"{service.rate:,.0f}", f"{plain.rate:,.0f}", f"{service.rate / plain.rate:.0%}",
        "info: capped at 1 / commit latency", "-" if never_negative(service) else "FAIL"))
    funded = int(HOT_GROUP_FUNDED_SHARE * bench.seconds * TARGET_HOT_ENTRIES_PER_SECOND)
    grouped = drain_hot_account(bench, "group", "hot_threads", funded)
    plain = drain_hot_account(bench, "plain", "hot_threads", funded)
    bench.rows.append(Row(
        f"hot account, GroupPoster, {WORKER_COUNT} threads in one process (plain: a commit "
        f"per entry per thread; {grouped.entries / max(grouped.batches, 1):.1f} entries per "
        f"commit; refused {grouped.refused:,}; lowest balance {grouped.lowest_available})",
        f"{grouped.rate:,.0f}", f"{plain.rate:,.0f}", f"{grouped.rate / plain.rate:.0%}",
        f">= {TARGET_HOT_ENTRIES_PER_SECOND:,}/s, never < 0",
        verdict(grouped.rate >= TARGET_HOT_ENTRIES_PER_SECOND and never_negative(grouped)
                and grouped.refused > 0)))


def drain_hot_account(bench: Bench, layer: str, shape: str, funded: int) -> Measured:
    """Fund a fresh hot wallet, let 8 workers drain it, and check that it never overdrew:
    the final balance is the funding less what was written."""
    code = f"hot:{layer}:{shape}:wallet"
    open_wallets(bench.url_for(layer), [code], funded)
    measured = bench.run(layer, shape, WORKER_COUNT, hot_code=code)
    final = read_available(bench.url_for(layer), code)
    progress(f"  {code}: funded {funded}, posted {measured.entries}, final {final}, "
             f"lowest seen {measured.lowest_available}")
    assert final == funded - measured.entries and final >= 0, "the hot account overdrew"
    return measured


def never_negative(measured: Measured) -> bool:
    return measured.lowest_available is not None and measured.lowest_available >= 0


def read_available(url: str, code: str) -> int:
    engine = ledger_engine(url)
    with Session(engine) as session:
        available = ledger.balance(session, code).available
    engine.dispose()
    return available


def global_chain_scenario(bench: Bench) -> None:
    """What an in-transaction chain would cost: plain SQL that also links each entry to one
    global head row, against our writers, which never touch a global row."""
    with psycopg.connect(libpq_url(bench.plain_url)) as connection:
        connection.execute("INSERT INTO ledger_chain_head (id, seq, hash) VALUES (1, 0, %s) "
                            "ON CONFLICT (id) DO NOTHING", (rules.GENESIS_HASH,))
    chained = bench.run("plain_chain", "single", WORKER_COUNT)
    plain = bench.measured["plain", "single", WORKER_COUNT]
    service = bench.measured["service", "single", WORKER_COUNT]
    bench.rows.append(Row(
        f"global chain head locked per entry (plain SQL), {WORKER_COUNT} workers; "
        f"service column: seal after commit",
        f"{service.rate:,.0f}", f"{chained.rate:,.0f}", f"{service.rate / chained.rate:.0%}",
        f"info: chain costs plain SQL {1 - chained.rate / plain.rate:.0%}", "-"))


def batch_scenarios(bench: Bench) -> None:
    service = bench.run("service", "batch", 1)
    plain = bench.run("plain", "batch", 1)
    bench.rows.append(compare_row(
        f"batches of {BATCH_ENTRIES:,} entries: ledger.post_many vs COPY, 1 worker",
        service, plain, TARGET_BATCH_SHARE))
    looped = bench.run("service_loop", "batch", 1)
    ratio = looped.rate / plain.rate
    bench.rows.append(Row(
        f"batches of {BATCH_ENTRIES:,} entries: {BATCH_ENTRIES:,} x ledger.post, one commit",
        f"{looped.rate:,.0f}", f"{plain.rate:,.0f}", f"{ratio:.0%}", "info", "-"))


@dataclass
class Verified:
    sealed: int
    seal_seconds: float
    report: ledger.Report
    verify_seconds: float


def seal_and_verify_one(url: str, label: str) -> Verified:
    engine = ledger_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        sealed = ledger.seal_all(session)
        seal_seconds = time.perf_counter() - started
        progress(f"{label}: sealed {sealed:,} entries in {seal_seconds:.2f} s; verifying")
        started = time.perf_counter()
        report = ledger.verify(session)
        verify_seconds = time.perf_counter() - started
        session.rollback()
    engine.dispose()
    problems = "; ".join(str(problem) for problem in report.problems[:3])
    progress(f"{label}: verified {report.entries:,} entries in {verify_seconds:.1f} s: "
             f"{'ok' if report.ok else problems}")
    return Verified(sealed, seal_seconds, report, verify_seconds)


def seal_and_verify(bench: Bench) -> None:
    """Seal and verify the service's database (the target: only the product wrote it) and,
    for information, the plain writers' own (they write the same rows, so it passes too)."""
    service = seal_and_verify_one(bench.url, "service database")
    plain = seal_and_verify_one(bench.plain_url, "plain SQL database")
    bench.rows.append(Row(
        f"ledger.seal_all: {service.sealed:,} entries (MAX_SEAL_BATCH per commit)",
        f"{service.sealed / service.seal_seconds:,.0f}", "-", "-", "info", "-"))
    bench.rows.append(Row(
        f"ledger.verify of each scenario database: service {service.report.entries:,} "
        f"entries, {service.verify_seconds:.1f} s; plain {plain.report.entries:,} entries",
        "ok" if service.report.ok else "PROBLEMS", "ok" if plain.report.ok else "problems",
        "-", "no problems (service)", verdict(service.report.ok)))


# --- a million entries, then balance reads -----------------------------------------------

# Set-based and server-side: no row crosses the wire, so loading is bounded by index
# maintenance. Hashes are stand-ins (md5 pairs): verify is not run on this database.
LOAD_JOURNAL = (
    "SET LOCAL work_mem = '256MB'",
    """INSERT INTO ledger_accounts (code, unit, kind, no_overdraft, closed, posted,
           pending_in, pending_out, created_at)
       SELECT code, 'POINT', kind, no_overdraft, false, 0, 0, 0, now()
         FROM (VALUES ('world:points', 'equity', false)) AS w(code, kind, no_overdraft)
       UNION ALL
       SELECT 'read:' || n || ':wallet', 'POINT', 'liability', true, false, 0, 0, 0, now()
         FROM generate_series(1, %(accounts)s) AS n""",
    """INSERT INTO ledger_entries (id, idempotency_key, fingerprint, kind, created_at, status,
           hash)
       SELECT n, 'load:' || n, md5(n::text) || md5((-n)::text), 'report_reward',
              %(start)s::timestamptz + n::bigint * %(step_us)s * interval '1 microsecond', 'posted',
              md5((n + 1)::text) || md5((n - 1)::text)
         FROM generate_series(1, %(entries)s) AS n""",
    """SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), %(entries)s)""",
    """WITH w AS (
           SELECT min(id) FILTER (WHERE code = 'world:points') AS world,
                  array_agg(id ORDER BY id) FILTER (WHERE code LIKE 'read:%%') AS wallets
             FROM ledger_accounts)
       INSERT INTO ledger_postings (entry_id, account_id, unit, amount, posted_after,
           created_at)
       SELECT entry_id, account_id, 'POINT', amount,
              sum(amount) OVER (PARTITION BY account_id ORDER BY entry_id), created_at
         FROM (SELECT e.id AS entry_id, w.world AS account_id, -(1 + e.id %% 50) AS amount,
                      e.created_at
                 FROM ledger_entries e, w
               UNION ALL
               SELECT e.id, w.wallets[1 + (e.id * 7919) %% %(accounts)s], 1 + e.id %% 50,
                      e.created_at
                 FROM ledger_entries e, w) AS p
        ORDER BY entry_id, amount""",
    """UPDATE ledger_accounts a SET posted = s.total
         FROM (SELECT account_id, sum(amount) AS total FROM ledger_postings
                GROUP BY account_id) AS s
        WHERE a.id = s.account_id""",
    """INSERT INTO ledger_account_totals (account_id, year, kind, credited, debited)
       SELECT account_id,
              extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai')::int, 'report_reward',
              sum(greatest(amount, 0)), sum(greatest(-amount, 0))
         FROM ledger_postings GROUP BY 1, 2""",
)
JOURNAL_START = datetime(2026, 1, 1, tzinfo=UTC)


def load_journal(url: str, entries: int) -> None:
    step_us = max(1, int(READ_JOURNAL_SPAN.total_seconds() * 1_000_000 // entries))
    parameters = dict(accounts=READ_ACCOUNT_COUNT, entries=entries, start=JOURNAL_START,
                      step_us=step_us)
    with psycopg.connect(libpq_url(url)) as connection:
        for statement in LOAD_JOURNAL:
            started = time.perf_counter()
            connection.execute(statement, parameters if "%(" in statement else None)
            progress(f"  {statement.split()[0]} ... {time.perf_counter() - started:.1f} s")
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def latencies_ms(call, arguments: list) -> tuple[float, float]:
    for argument in arguments[:READ_WARMUP_SAMPLES]:
        call(*argument)
    timings = []
    for argument in arguments[READ_WARMUP_SAMPLES:]:
        started = time.perf_counter()
        call(*argument)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[98]


PLAIN_BALANCE = ("SELECT code, unit, posted, pending_in, pending_out FROM ledger_accounts "
                 "WHERE code = %s")
PLAIN_BALANCE_AT = """
SELECT posted_after FROM ledger_postings
 WHERE account_id = (SELECT id FROM ledger_accounts WHERE code = %s)
   AND created_at <= %s AND posted_after IS NOT NULL
 ORDER BY created_at DESC, id DESC LIMIT 1
"""


def read_scenarios(bench: Bench, url: str, entries: int) -> None:
    rng = random.Random("reads")
    samples = READ_WARMUP_SAMPLES + READ_SAMPLES
    codes = [f"read:{rng.randint(1, READ_ACCOUNT_COUNT)}:wallet" for _ in range(samples)]
    moments = [JOURNAL_START + READ_JOURNAL_SPAN * rng.random() for _ in range(samples)]
    engine = ledger_engine(url)
    with Session(engine) as session, psycopg.connect(libpq_url(url)) as connection:
        service = latencies_ms(lambda code: ledger.balance(session, code),
                               [(code,) for code in codes])
        plain = latencies_ms(lambda code: connection.execute(PLAIN_BALANCE, (code,)).fetchone(),
                             [(code,) for code in codes])
        bench.rows.append(read_row(f"ledger.balance, {entries:,} entries", service, plain))
        service = latencies_ms(lambda code, at: ledger.balance_at(session, code, at),
                               list(zip(codes, moments, strict=True)))
        plain = latencies_ms(
            lambda code, at: connection.execute(PLAIN_BALANCE_AT, (code, at)).fetchone(),
            list(zip(codes, moments, strict=True)))
        bench.rows.append(read_row(f"ledger.balance_at, {entries:,} entries", service, plain))
        session.rollback()
    engine.dispose()


def read_row(scenario: str, service: tuple[float, float], plain: tuple[float, float]) -> Row:
    return Row(f"{scenario} (p50 / p99 ms)", f"{service[0]:.2f} / {service[1]:.2f}",
               f"{plain[0]:.2f} / {plain[1]:.2f}", f"{plain[1] / service[1]:.0%}",
               f"p99 < {TARGET_READ_MS:g} ms", verdict(service[1] < TARGET_READ_MS))


# --- the run ------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    header = Row("scenario", "service /s", "plain SQL /s", "ratio", "target", "result")
    widths = [max(len(getattr(row, name)) for row in [header, *rows])
              for name in Row.__dataclass_fields__]
    for number, row in enumerate([header, *rows]):
        cells = [getattr(row, name) for name in Row.__dataclass_fields__]
        print("  ".join(cell.ljust(width) if column in (0, 4, 5) else cell.rjust(width)
                        for column, (cell, width) in enumerate(zip(cells, widths, strict=True))))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL,
                        help="a PostgreSQL server URL; the bench creates its own databases")
    parser.add_argument("--seconds", type=float, help=f"per scenario (default {DEFAULT_SECONDS})")
    parser.add_argument("--journal-entries", type=int,
                        help=f"entries for the read test (default {DEFAULT_JOURNAL_ENTRIES:,})")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 s per scenario, 20,000 journal entries")
    arguments = parser.parse_args(argv)
    arguments.seconds = arguments.seconds or (1.0 if arguments.quick else DEFAULT_SECONDS)
    arguments.journal_entries = arguments.journal_entries or (
        20_000 if arguments.quick else DEFAULT_JOURNAL_ENTRIES)
    return arguments


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    started = time.perf_counter()
    names = [f"jindou_bench_{os.getpid()}_{purpose}"
             for purpose in ("service", "plain", "reads")]
    urls = []
    try:
        urls.append(create_database(arguments.url, names[0]))
        urls.append(create_database(arguments.url, names[1]))
        bench = Bench(urls[0], urls[1], arguments.seconds, wallet_codes("bench", ACCOUNT_COUNT))
        for url in (bench.url, bench.plain_url):
            open_wallets(url, bench.codes, WALLET_FUNDING_POINTS)
        single_entry_scenarios(bench)
        hot_account_scenarios(bench)
        global_chain_scenario(bench)
        batch_scenarios(bench)
        seal_and_verify(bench)
        urls.append(create_database(arguments.url, names[2]))
        progress(f"loading {arguments.journal_entries:,} entries")
        load_journal(urls[2], arguments.journal_entries)
        read_scenarios(bench, urls[2], arguments.journal_entries)
    finally:
        for url in urls:
            drop_database(arguments.url, url)
    print_table(bench.rows)
    print(f"\n{multiprocessing.cpu_count()} cores, {arguments.seconds:g} s per scenario, "
          f"whole run {time.perf_counter() - started:.0f} s")
    return 0 if all(row.result != "FAIL" for row in bench.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
