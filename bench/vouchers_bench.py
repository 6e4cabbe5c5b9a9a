"""How fast vouchers are issued and redeemed on PostgreSQL, through the service layer exactly
as a request runs it (one transaction, commit, then sealing the hash chain as
``web.transactions.commit`` does). One run creates its own database and drops it after.

    PYTHONPATH=. python bench/vouchers_bench.py [--url URL] [--seconds 5] [--tills 20]

Scenarios:
- issue, one hot offer: T threads of volunteers take the same offer (every take locks the
  offer's row for its stock and per-person count, so they queue on it): vouchers per second.
- issue, spread: the same threads over one offer each: vouchers per second.
- redeem: ``--tills`` threads, each a till of its own merchant redeeming its own vouchers one
  after another, as fast as it can: latency of each redemption (p50, p95, p99, max) and
  redemptions per second; target p99 under 25 ms.
- race: all tills scan one voucher at once: exactly one succeeds (checked, not timed).
Afterwards ``ledger.verify`` must pass and every count must match.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import Posting, ddl  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_SECONDS = 5.0
DEFAULT_TILLS = 20
ISSUE_THREADS = 8
# Offers allow at most 100 vouchers a person: each issuing thread takes for a few volunteers.
VOLUNTEERS_PER_ISSUING_THREAD = 10
VOLUNTEER_POINTS = 10**7
VOUCHERS_PER_TILL = 150
SINGLE_TILL_REDEMPTIONS = 50
PRICE_POINTS = 10
TARGET_P99_MS = 25.0
KEY = "bench-voucher-key"
PASSWORD = "bench-password-1"


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database(server_url: str) -> str:
    import activities  # noqa: F401  (every package's tables join the metadata)
    import merchants  # noqa: F401
    import volunteers  # noqa: F401
    from merchants import ddl as merchants_ddl

    name = f"jindou_vouchers_bench_{uuid.uuid4().hex[:8]}"
    admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install_v1(connection)
        ddl.install_seal_v1(connection)
        merchants_ddl.install_v1(connection)
    engine.dispose()
    return url


def build(engine, tills: int) -> dict:
    """A programme, ``tills`` merchants with one till user and one offer each, a hot offer,
    and volunteers with plenty of points."""
    from merchants import offers
    from volunteers import areas, passwords, programmes, users

    passwords.SCRYPT_N = 2**10  # thousands of users: a cheap hash, as the tests do
    until = datetime.now(UTC) + timedelta(days=30)
    with Session(engine) as session:
        areas.ensure_root(session)
        areas.create_area(session, "bench", "压测区", "district", "root")
        boss = users.create_user(session, "bench_admin", PASSWORD, role="admin",
                                 area_code="root")
        programmes.create_programme(session, boss, "bench", "压测项目", "bench",
                                    points_per_yuan=100)
        volunteers_ids = []
        for number in range(ISSUE_THREADS * VOLUNTEERS_PER_ISSUING_THREAD + tills):
            person = users.create_user(session, f"volunteer{number}", PASSWORD,
                                       role="volunteer", area_code="bench")
            ledger.post(session, idempotency_key=f"bench:fund:{number}", kind="manual_award",
                        postings=[Posting("world:points", -VOLUNTEER_POINTS, "POINT"),
                                  Posting(person.wallet_code, VOLUNTEER_POINTS, "POINT")])
            volunteers_ids.append(person.id)
        shops = []
        for number in range(tills):
            till = users.create_user(session, f"till{number}", PASSWORD, role="merchant",
                                     area_code="bench")
            merchant = offers.create_merchant(
                session, boss, name=f"商家{number}", programme_code="bench", area_code="bench",
                staff_usernames=[till.username])
            offer = offers.create_offer(session, boss, merchant.id, title=f"兑换券{number}",
                                        price_points=PRICE_POINTS, stock=1_000_000,
                                        per_person_limit=100, valid_until=until)
            shops.append((till.id, offer.id))
        session.commit()
        ledger.seal_all(session)
        return {"volunteers": volunteers_ids, "shops": shops}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def commit_and_seal(session: Session) -> None:
    session.commit()
    if session.info.pop("ledger_unsealed", False):
        ledger.seal(session)
        session.commit()


def run_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def issue_rate(engine, world: dict, seconds: float, spread: bool) -> tuple[float, int]:
    from merchants import vouchers
    from volunteers.models import User

    deadline = time.perf_counter() + seconds
    issued_ids: list[list[int]] = []

    def work(index):
        people = world["volunteers"][index * VOLUNTEERS_PER_ISSUING_THREAD:
                                     (index + 1) * VOLUNTEERS_PER_ISSUING_THREAD]
        offer_id = world["shops"][index % len(world["shops"])][1] if spread else \
            world["shops"][0][1]
        mine = []
        step = 0
        while time.perf_counter() < deadline:
            step += 1
            with Session(engine) as session:
                person = session.get(User, people[step % len(people)])
                try:
                    voucher, _ = vouchers.issue_voucher(
                        session, person, offer_id, idempotency_key=uuid.uuid4().hex)
                except Exception as error:  # noqa: BLE001 (the limit is part of the run)
                    session.rollback()
                    if type(error).__name__ == "LimitReached":
                        continue
                    raise
                commit_and_seal(session)
                mine.append(voucher.id)
        return mine

    started = time.perf_counter()
    issued_ids = run_threads(ISSUE_THREADS, work)
    elapsed = time.perf_counter() - started
    total = sum(len(ids) for ids in issued_ids)
    return total / elapsed, total


def prepare_vouchers(engine, world: dict) -> list[list[str]]:
    """``VOUCHERS_PER_TILL`` vouchers per till, taken by the volunteers, as typed codes."""
    from merchants import tokens, vouchers
    from volunteers.models import User

    codes: list[list[str]] = [[] for _ in world["shops"]]

    takers = world["volunteers"][ISSUE_THREADS * VOLUNTEERS_PER_ISSUING_THREAD:]

    def work(index):
        offer_id = world["shops"][index][1]
        for number in range(VOUCHERS_PER_TILL):
            with Session(engine) as session:
                person = session.get(User, takers[(index + number) % len(takers)])
                voucher, _ = vouchers.issue_voucher(session, person, offer_id,
                                                    idempotency_key=uuid.uuid4().hex)
                codes[index].append(tokens.sign(KEY, voucher.id))
                commit_and_seal(session)

    run_threads(len(world["shops"]), work)
    return codes


def redeem_latency(engine, world: dict, codes: list[list[str]]) -> tuple[list[float], float]:
    from merchants import vouchers
    from volunteers.models import User

    latencies: list[list[float]] = [[] for _ in codes]

    def work(index):
        till_id = world["shops"][index][0]
        for code in codes[index]:
            started = time.perf_counter()
            with Session(engine) as session:
                till = session.get(User, till_id)
                vouchers.redeem_voucher(session, till, code, key=KEY,
                                        idempotency_key=uuid.uuid4().hex)
                commit_and_seal(session)
            latencies[index].append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    run_threads(len(codes), work)
    elapsed = time.perf_counter() - started
    flat = [value for per_till in latencies for value in per_till]
    return flat, len(flat) / elapsed


def race_one_voucher(engine, world: dict, tills: int) -> dict:
    """Every till thread scans one voucher at once (one merchant's tills)."""
    from merchants import offers, tokens, vouchers
    from volunteers import users
    from volunteers.models import User

    with Session(engine) as session:
        boss = users.find_user(session, "bench_admin")
        merchant_id = offers.get_offer(session, world["shops"][0][1]).merchant_id
        merchant = offers.get_merchant(session, merchant_id)
        staff = []
        for number in range(tills):
            user = users.create_user(session, f"race_till{number}", PASSWORD, role="merchant",
                                     area_code="bench")
            offers.add_staff(session, boss, merchant, user)
            staff.append(user.id)
        person = session.get(User, world["volunteers"][0])
        voucher, _ = vouchers.issue_voucher(session, person, world["shops"][0][1],
                                            idempotency_key="race")
        commit_and_seal(session)
        token = tokens.sign(KEY, voucher.id)

    def work(index):
        with Session(engine) as session:
            till = session.get(User, staff[index])
            try:
                vouchers.redeem_voucher(session, till, token, key=KEY,
                                        idempotency_key=f"race:{index}")
                commit_and_seal(session)
                return "redeemed"
            except Exception as error:  # noqa: BLE001 (counted)
                session.rollback()
                return type(error).__name__

    outcomes = run_threads(tills, work)
    return {name: outcomes.count(name) for name in set(outcomes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL, help="a PostgreSQL server URL")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--tills", type=int, default=DEFAULT_TILLS)
    args = parser.parse_args()
    url = create_database(args.url)
    engine = create_engine(url, pool_size=args.tills + ISSUE_THREADS, max_overflow=10)
    ledger.configure_engine(engine)
    try:
        print(f"setting up {args.tills} merchants and their tills ...", flush=True)
        world = build(engine, args.tills)
        hot_rate, hot_total = issue_rate(engine, world, args.seconds, spread=False)
        spread_rate, spread_total = issue_rate(engine, world, args.seconds, spread=True)
        print(f"issuing {args.tills * VOUCHERS_PER_TILL} vouchers for the tills ...", flush=True)
        codes = prepare_vouchers(engine, world)
        cpu_started = time.process_time()
        alone, _rate = redeem_latency(engine, world, [codes[0][:SINGLE_TILL_REDEMPTIONS]])
        cpu_ms = (time.process_time() - cpu_started) / len(alone) * 1000
        codes[0] = codes[0][SINGLE_TILL_REDEMPTIONS:]
        latencies, redeem_rate = redeem_latency(engine, world, codes)
        race = race_one_voucher(engine, world, args.tills)
        with Session(engine) as session:
            ledger.seal_all(session)
            report = ledger.verify(session)
            from merchants.models import Redemption

            redemptions = session.scalar(select(func.count()).select_from(Redemption))
        p99 = percentile(latencies, 0.99)
        print()
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs")
        print(f"PostgreSQL {make_url(url).host}, {ISSUE_THREADS} issuing threads, "
              f"{args.tills} tills, service layer with commit and sealing")
        print(f"{'scenario':<44} {'figure':>14}")
        print(f"{'issue, one hot offer (' + str(ISSUE_THREADS) + ' threads)':<44} "
              f"{hot_rate:>10.0f} /s   ({hot_total} vouchers)")
        print(f"{'issue, one offer per thread':<44} {spread_rate:>10.0f} /s   "
              f"({spread_total} vouchers)")
        print(f"{'redeem, one till alone: latency p50':<44} {percentile(alone, 0.5):>10.1f} ms"
              f"   ({len(alone)} redemptions)")
        print(f"{'redeem, one till alone: latency p99':<44} {percentile(alone, 0.99):>10.1f} ms")
        print(f"{'redeem, one till alone: client CPU each':<44} {cpu_ms:>10.1f} ms")
        print(f"{'redeem, ' + str(args.tills) + ' concurrent tills':<44} {redeem_rate:>10.0f} /s"
              f"   ({len(latencies)} redemptions)")
        for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            print(f"{'  redemption latency ' + name:<44} {percentile(latencies, share):>10.1f} ms")
        print(f"{'  redemption latency max':<44} {max(latencies):>10.1f} ms")
        print(f"{'  redemption latency mean':<44} {statistics.fmean(latencies):>10.1f} ms")
        print(f"target p99 < {TARGET_P99_MS:.0f} ms: "
              f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} ({p99:.1f} ms)")
        print(f"race: {args.tills} tills scan one voucher at once -> {race}")
        print(f"ledger verify: {'ok' if report.ok else report.first()} ({report.entries} entries), "
              f"redemptions recorded: {redemptions}")
        assert race == {"redeemed": 1, "VoucherAlreadyRedeemed": args.tills - 1}, race
        assert redemptions == len(alone) + len(latencies) + 1, redemptions
        assert report.ok
        return 0
    finally:
        engine.dispose()
        admin(args.url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
