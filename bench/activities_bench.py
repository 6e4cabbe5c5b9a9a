"""How fast the activity services answer on PostgreSQL, with real threads racing as phones do
at the start of an activity. One run creates its own database, prints one table and drops it.

    PYTHONPATH=. python bench/activities_bench.py [--url URL] [--volunteers 200] [--threads 8]

Scenarios: sign-ups of many volunteers to one activity with too few seats (every thread races
for the same row: the conditional UPDATE serialises them); check-ins with the rotating code;
one bulk approval paying every attendance; many volunteers claiming wishes, one each, and many
racing for one wish; verifying a code (valid, and the worst case: a wrong code compared
against a day of windows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import ddl  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
KEY = b"bench-checkin-key"
CODE_SAMPLES = 200


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def build(engine, volunteers: int):
    import activities  # noqa: F401
    import reports  # noqa: F401
    import volunteers as volunteer_package  # noqa: F401
    from activities import catalogue
    from volunteers import areas, programmes, users

    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
    with Session(engine) as session:
        areas.ensure_root(session)
        areas.create_area(session, "xindu", "新都区", "district", "root")
        areas.create_area(session, "dafeng", "大丰街道", "street", "xindu")
        areas.create_area(session, "sanyuan", "三元社区", "community", "dafeng")
        boss = users.create_user(session, "boss", "bench-password", role="admin",
                                 area_code="root")
        users.grant_role(session, boss, "organiser", "root")
        programmes.create_programme(session, boss, "bench", "bench", "dafeng", 100)
        programmes.fund_programme(session, boss, "bench", 10**9, "bench", "bench:fund")
        catalogue.ensure_categories(session)
        ids = [users.create_user(session, f"v{n:05d}", "bench-password", role="volunteer",
                                 area_code="sanyuan").id for n in range(volunteers)]
        session.commit()
        return boss.id, ids


def race(engine, threads: int, items: list, work) -> tuple[float, list]:
    """``work(session, item)`` for every item, spread over ``threads`` threads; seconds and
    each answer (or the exception)."""
    answers: list = []
    lock = threading.Lock()
    pending = list(items)
    barrier = threading.Barrier(threads)

    def run() -> None:
        with Session(engine) as session:
            barrier.wait()
            while True:
                with lock:
                    if not pending:
                        return
                    item = pending.pop()
                try:
                    answer = work(session, item)
                    session.commit()
                except Exception as error:
                    session.rollback()
                    answer = error
                with lock:
                    answers.append(answer)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, answers


def activity(session, boss_id: int, capacity: int):
    from activities import planning
    from volunteers import users

    start = datetime.now(UTC) - timedelta(minutes=30)
    return planning.create_activity(session, users.get_user(session, boss_id),
                                    planning.ActivityDraft(
        title="bench", category="environment", area="sanyuan", programme="bench",
        venue="bench", starts_at=start, ends_at=start + timedelta(hours=3),
        capacity=capacity)).id


def main(argv=None) -> int:
    from activities import checkin, hours, signups, wishes
    from activities.errors import ActivityFull, WishAlreadyClaimed
    from volunteers import users

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--volunteers", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    name = f"jindou_bench_activities_{uuid.uuid4().hex[:8]}"
    admin(args.url, f'CREATE DATABASE "{name}"')
    url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=args.threads + 2)
    rows = []
    try:
        boss_id, ids = build(engine, args.volunteers)
        with Session(engine) as session:
            full_id = activity(session, boss_id, args.volunteers // 2)
            open_id = activity(session, boss_id, args.volunteers)
            session.commit()
        seconds, answers = race(engine, args.threads, ids, lambda s, v: signups.sign_up(
            s, users.get_user(s, v), full_id).id)
        full = sum(isinstance(a, ActivityFull) for a in answers)
        rows.append(("sign-ups racing for half as many seats", len(ids), seconds,
                     f"{len(ids) - full} seated, {full} refused full"))
        seconds, _ = race(engine, args.threads, ids, lambda s, v: signups.sign_up(
            s, users.get_user(s, v), open_id).id)
        rows.append(("sign-ups with room for all", len(ids), seconds, ""))
        seconds, answers = race(engine, args.threads, ids, lambda s, v: checkin.check_in(
            s, users.get_user(s, v), open_id, checkin.current_code(KEY, open_id, "in"),
            key=KEY).id)
        rows.append(("check-ins with the current code", len(ids), seconds,
                     f"{sum(isinstance(a, int) for a in answers)} checked in"))
        seconds, _ = race(engine, args.threads, ids, lambda s, v: checkin.check_out(
            s, users.get_user(s, v), open_id, checkin.current_code(KEY, open_id, "out"),
            key=KEY).id)
        rows.append(("check-outs", len(ids), seconds, ""))
        with Session(engine) as session:
            started = time.perf_counter()
            for attendance in hours.attendance_list(session, users.get_user(session, boss_id),
                                                    open_id):
                attendance.checked_in_at -= timedelta(minutes=90)
            result = hours.approve(session, users.get_user(session, boss_id), open_id)
            session.commit()
            rows.append(("one bulk approval (paying each)", len(result.approved),
                         time.perf_counter() - started,
                         f"{sum(a.points for a in result.approved)} points paid"))
        with Session(engine) as session:
            boss = users.get_user(session, boss_id)
            wish_ids = [wishes.publish_wish(session, boss, wishes.WishDraft(
                title="bench", resident_name="王秀英", story="s", needs="n", area="sanyuan",
                programme="bench", reward_points=5)).id for _ in range(len(ids) + 1)]
            session.commit()
        pairs = list(zip(ids, wish_ids[1:], strict=True))
        seconds, _ = race(engine, args.threads, pairs, lambda s, p: wishes.claim(
            s, users.get_user(s, p[0]), p[1]).id)
        rows.append(("wish claims, one wish each", len(pairs), seconds, ""))
        seconds, answers = race(engine, args.threads, ids, lambda s, v: wishes.claim(
            s, users.get_user(s, v), wish_ids[0]).id)
        refused = sum(isinstance(a, WishAlreadyClaimed) for a in answers)
        rows.append(("claims racing for one wish", len(ids), seconds,
                     f"{len(ids) - refused} won, {refused} refused"))
        with Session(engine) as session:
            ledger.seal_all(session)
            report = ledger.verify(session)
        code = checkin.current_code(KEY, 1, "in")
        timings = []
        for wrong in (False, True):
            samples = []
            for _ in range(CODE_SAMPLES):
                started = time.perf_counter()
                try:
                    checkin.verify_code(KEY, 1, "in", "00000000" if wrong else code)
                except Exception:
                    pass
                samples.append(time.perf_counter() - started)
            timings.append(statistics.median(samples) * 1000)
    finally:
        engine.dispose()
        admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"activities bench: {args.volunteers} volunteers, {args.threads} threads, PostgreSQL")
    print(f"{'scenario':<42} {'n':>6} {'seconds':>8} {'per second':>11}  note")
    for label, count, seconds, note in rows:
        print(f"{label:<42} {count:>6} {seconds:>8.2f} {count / seconds:>11.0f}  {note}")
    print(f"verify a valid code: {timings[0]:.3f} ms median; a wrong one (checked against "
          f"{checkin.RECOGNISED_WINDOWS} windows): {timings[1]:.2f} ms median")
    print(f"ledger verify after the run: {'ok' if report.ok else 'BAD'} "
          f"({report.entries} entries)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
