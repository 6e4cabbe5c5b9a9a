"""How fast donations, cash-outs and Stripe webhook events go through the services, on
PostgreSQL (default) or a SQLite file. One run creates its own database, prints one table and
drops it again. Figures only: nothing is asserted.

    PYTHONPATH=. python bench/payments_bench.py [--url SERVER_URL | --sqlite] [--seconds 5]

Scenarios (each ``--seconds`` long, every worker a thread of this process with its own
session and connection, one commit per operation):
- donations to the pool from random volunteers, 1 and 8 workers;
- donations to one cause from random volunteers, 8 workers (every donation locks the cause);
- cash-outs from random volunteers, 8 workers (each locks its volunteer, counts the month);
- verified ``checkout.session.completed`` events, 1 worker (signature, lookup, funding).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import ddl  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_SECONDS = 5.0
VOLUNTEERS = 200
WALLET_POINTS = 1_000_000
WORKERS = 8
WEBHOOK_SECRET = "whsec_bench"
MAX_OPERATIONS_PER_WORKER = 1_000_000


def build(engine) -> dict:
    import activities  # noqa: F401
    import honours  # noqa: F401
    import merchants  # noqa: F401
    import payments  # noqa: F401
    import reports  # noqa: F401
    import volunteers  # noqa: F401
    from payments import cash_out, donations
    from volunteers import areas, passwords, programmes, users

    passwords.SCRYPT_N = 2**4
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
    with Session(engine) as session:
        areas.ensure_root(session)
        areas.create_area(session, "xindu", "新都区", "district", "root")
        areas.create_area(session, "dafeng", "大丰街道", "street", "xindu")
        admin = users.create_user(session, "bench_admin", "bench-password", role="admin",
                                  area_code="root")
        programmes.create_programme(session, admin, "bench", "基准", "dafeng", points_per_yuan=1,
                                    award_approval_threshold_points=10**9)
        programmes.fund_programme(session, admin, "bench", VOLUNTEERS * WALLET_POINTS * 100 * 2,
                                  "bench", "bench:funding")
        ids = []
        for number in range(VOLUNTEERS):
            user = users.create_user(session, f"bench{number:04d}", "bench-password",
                                     role="volunteer", area_code="dafeng")
            programmes.request_award(session, admin, "bench", user.id, WALLET_POINTS, "bench",
                                     f"bench:award:{number}")
            ids.append(user.id)
        cause = donations.publish_cause(session, admin, "bench", "dafeng", "family_in_need",
                                        "基准", "基准", donations.MAX_TARGET_POINTS)
        cash_out.set_policy(session, admin, "bench", enabled=True, minimum_points=1,
                            monthly_maximum_points=cash_out.MAX_CASH_OUT_POINTS)
        session.commit()
        ledger.seal_all(session)
        return {"volunteers": ids, "cause": cause.id}


def run(engine, workers: int, seconds: float, operation) -> tuple[int, int, float]:
    """``operation(session, rng)`` repeatedly from ``workers`` threads for ``seconds``:
    (done, refused, operations per second)."""
    counts = [[0, 0] for _ in range(workers)]
    barrier = threading.Barrier(workers + 1)
    stop = threading.Event()

    def work(index: int) -> None:
        rng = random.Random(index)
        with Session(engine) as session:
            barrier.wait()
            for _ in range(MAX_OPERATIONS_PER_WORKER):
                if stop.is_set():
                    break
                try:
                    operation(session, rng)
                    session.commit()
                    counts[index][0] += 1
                except Exception:
                    session.rollback()
                    counts[index][1] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = sum(c[0] for c in counts)
    return done, sum(c[1] for c in counts), done / elapsed


def scenarios(world: dict):
    from payments import cash_out, donations, funding
    from payments.models import CardFundingSession
    from volunteers.models import User

    def pool(session, rng):
        actor = session.get(User, rng.choice(world["volunteers"]))
        donations.donate(session, actor, rng.randint(1, 9), uuid.uuid4().hex,
                         programme_code="bench")

    def cause(session, rng):
        actor = session.get(User, rng.choice(world["volunteers"]))
        donations.donate(session, actor, rng.randint(1, 9), uuid.uuid4().hex,
                         cause_id=world["cause"])

    def cash(session, rng):
        actor = session.get(User, rng.choice(world["volunteers"]))
        cash_out.request_cash_out(session, actor, "bench", rng.randint(1, 9), uuid.uuid4().hex)

    settings = funding.StripeSettings("sk_bench", WEBHOOK_SECRET)

    def webhook(session, rng):
        from volunteers.programmes import get_programme

        stripe_id = f"cs_bench_{uuid.uuid4().hex}"
        session.add(CardFundingSession(
            programme=get_programme(session, "bench"), stripe_session_id=stripe_id,
            amount_fen=10_000, currency="cny", sponsor_name="bench", status="open",
            checkout_url="https://example.invalid", created_by_id=world["volunteers"][0],
            created_at=funding.now()))
        session.flush()
        payload = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "object": "event",
                              "type": "checkout.session.completed", "data": {"object": {
                                  "id": stripe_id, "object": "checkout.session",
                                  "amount_total": 10_000, "currency": "cny",
                                  "payment_status": "paid"}}})
        timestamp = int(time.time())
        digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.{payload}".encode(),
                          hashlib.sha256).hexdigest()
        outcome = funding.handle_webhook(session, settings, payload.encode(),
                                         f"t={timestamp},v1={digest}")
        assert outcome.outcome == "funded", outcome

    return [
        ("donations to the pool", 1, pool),
        ("donations to the pool", WORKERS, pool),
        ("donations to one cause (hot row)", WORKERS, cause),
        ("cash-outs", WORKERS, cash),
        ("webhook: session stored + paid event", 1, webhook),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("JINDOU_BENCH_URL", DEFAULT_SERVER_URL))
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    args = parser.parse_args()
    server = None
    if args.sqlite:
        directory = tempfile.mkdtemp(prefix="jindou-bench-")
        url = f"sqlite:///{directory}/bench.sqlite3"
    else:
        server = create_engine(args.url, isolation_level="AUTOCOMMIT")
        name = f"jindou_bench_payments_{os.getpid()}"
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=WORKERS + 2)
    ledger.configure_engine(engine)
    try:
        print(f"building: {VOLUNTEERS} volunteers on {engine.dialect.name}", file=sys.stderr)
        world = build(engine)
        print(f"{'scenario':<40} {'workers':>7} {'done':>7} {'refused':>7} {'per s':>8}")
        for label, workers, operation in scenarios(world):
            done, refused, rate = run(engine, workers, args.seconds, operation)
            print(f"{label:<40} {workers:>7} {done:>7} {refused:>7} {rate:>8.0f}", flush=True)
        with Session(engine) as session:
            ledger.seal_all(session)
            session.commit()
            report = ledger.verify(session)
        print(f"ledger verify: {'ok' if report.ok else 'FAILED'}, {report.entries} entries")
    finally:
        engine.dispose()
        if server is not None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


if __name__ == "__main__":
    main()
