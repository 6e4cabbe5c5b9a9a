"""How fast the reviewer's queue and the monthly assessment answer with 100,000 reports on
PostgreSQL. One run creates its own database, loads the reports by COPY, measures the service
calls and the whole pages (Flask test client, templates included), prints p50/p99 per
scenario and drops the database again.

    PYTHONPATH=. python bench/reports_bench.py [--url URL] [--reports 100000] [--samples 200]

Target: under 50 ms per page (p50; p99 is printed too). The cpu column is this process's
CPU time per call: on a shared, busy machine wall time also counts waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import honours  # noqa: E402,F401  (the tables join the metadata)
import ledger  # noqa: E402
import volunteers  # noqa: E402,F401
from ledger import ddl  # noqa: E402
from ledger.clock import CHINA
from reports import assessment, categories, departments, reports  # noqa: E402
from volunteers import areas, users  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REPORTS = 100_000
DEFAULT_SAMPLES = 200
VOLUNTEER_COUNT = 2_000
SPAN = timedelta(days=365)
TARGET_MS = 50.0
PASSWORD = "bench-password-1"
# (status, share) of reports filed in the last three days, and of older ones: most of a year's
# reports are handled and closed; a few old ones are stuck (the overdue queue).
RECENT = timedelta(days=3)
RECENT_SHARES = (("submitted", 0.30), ("verified", 0.10), ("dispatched", 0.20),
                 ("in_progress", 0.10), ("resolved", 0.20), ("closed", 0.05),
                 ("rejected", 0.05))
OLDER_SHARES = (("submitted", 0.005), ("verified", 0.005), ("dispatched", 0.01),
                ("in_progress", 0.01), ("resolved", 0.05), ("closed", 0.80),
                ("rejected", 0.12))
STREETS = (("xindu", "dafeng", ("sanyuan", "nanfeng", "gaoyuan")),
           ("xindu", "xinfan", ("qingbaijiang", "longqiao")),
           ("wuhua", "huashan", ("cuihu", "yunda")))
CATEGORY_SPECS = (("traffic", "traffic-signal", 10, "urgent", 4),
                  ("traffic", "illegal-parking", 4, "time_limited", 24),
                  ("cityscape", "garbage", 5, "time_limited", 24),
                  ("cityscape", "bike-parking", 3, "long_term", 72),
                  ("security", "fighting", 15, "urgent", 1),
                  ("fire", "fire-exit", 10, "urgent", 4),
                  ("facilities", "street-light", 4, "long_term", 72))
REPORT_COLUMNS = (
    "category_id", "area_id", "area_path", "responsible_area_id", "reporter_id", "lat", "lng",
    "address", "description", "status", "points_awarded", "claw_back_shortfall_points",
    "escalation_level", "created_at", "updated_at", "feedback_due_at", "first_feedback_at",
    "verified_at", "department_id", "dispatched_at", "deadline_at", "resolved_at",
    "resolved_on_time", "handling_seconds", "closed_at", "escalate_at", "reject_reason")


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database(server_url: str, name: str) -> str:
    admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
    engine.dispose()
    return url


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# --- data ----------------------------------------------------------------------------------


def build_world(url: str) -> dict:
    """Areas, staff, departments and categories through the services; ids for the loader."""
    engine = create_engine(url)
    with Session(engine) as session:
        areas.ensure_root(session)
        leaves = []
        for district, street, communities in STREETS:
            areas.create_area(session, district, district, "district", "root")
            areas.create_area(session, street, street, "street", district)
            for community in communities:
                areas.create_area(session, community, community, "community", street)
                grid = areas.create_area(session, f"{community}-g1", community, "grid",
                                         community)
                leaves.append(grid)
                for number in range(1, 4):
                    leaves.append(areas.create_area(session, f"{community}-c{number}",
                                                    community, "courtyard", grid.code))
        admin_user = users.create_user(session, "bench_admin", PASSWORD, role="admin",
                                       area_code="root")
        users.create_user(session, "bench_reviewer", PASSWORD, role="reviewer",
                          area_code="dafeng")
        department_ids = [departments.create_department(
            session, admin_user, f"dept-{n}", f"部门{n}", "xindu").id for n in range(6)]
        category_ids = {}
        for group, code, points, urgency, hours in CATEGORY_SPECS:
            categories.save_group(session, admin_user, group, group)
            category = categories.save_category(session, admin_user, group,
                                                categories.CategorySpec(code, code, points,
                                                                        urgency, hours))
            category_ids[category.id] = (points, hours)
        world = {"leaves": [(a.id, a.path) for a in leaves], "departments": department_ids,
                 "categories": category_ids}
        session.commit()
    engine.dispose()
    return world


def load_volunteers(url: str, area_id: int) -> list[int]:
    moment = datetime.now(UTC)
    with psycopg.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY users (username, password_hash, display_name, area_id, active, "
                         "created_at) FROM STDIN") as copy:
            for number in range(VOLUNTEER_COUNT):
                copy.write_row((f"v{number}", "x", f"志愿者{number}", area_id, True, moment))
        cursor.execute("SELECT id FROM users WHERE username LIKE 'v%' ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def report_row(rng: random.Random, world: dict, reporters: list[int], now: datetime) -> tuple:
    created = now - SPAN * rng.random()
    shares = RECENT_SHARES if now - created < RECENT else OLDER_SHARES
    status = rng.choices([s for s, _ in shares], [w for _, w in shares])[0]
    category_id, (points, hours) = rng.choice(list(world["categories"].items()))
    area_id, path = rng.choice(world["leaves"])
    handled = status not in ("submitted", "rejected")
    dispatched = created + timedelta(hours=rng.uniform(0.2, 6)) if status not in (
        "submitted", "verified", "rejected") else None
    deadline = dispatched + timedelta(hours=hours) if dispatched else None
    resolved = (dispatched + timedelta(hours=rng.uniform(0.2, hours * 1.6))
                if status in ("resolved", "closed") else None)
    return (
        category_id, area_id, path, area_id, rng.choice(reporters),
        30.70 + rng.random() * 0.1, 104.0 + rng.random() * 0.1, "某路某号", "基准测试上报",
        status, points if handled else 0, 0, 0, created, resolved or dispatched or created,
        created + timedelta(hours=12), created + timedelta(hours=1) if status != "submitted"
        else None, created + timedelta(hours=1) if handled else None,
        rng.choice(world["departments"]) if dispatched else None, dispatched, deadline,
        resolved, (resolved <= deadline) if resolved else None,
        int((resolved - dispatched).total_seconds()) if resolved else None,
        resolved + timedelta(hours=2) if status == "closed" else None,
        (deadline if status in ("dispatched", "in_progress") else
         created + timedelta(hours=12) if status in ("submitted", "verified") else None),
        "不实" if status == "rejected" else None)


def load_reports(url: str, world: dict, reporters: list[int], count: int) -> None:
    rng = random.Random(2026)
    now = datetime.now(UTC)
    with psycopg.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        # Filed in time order, as reports are: ids and the heap follow created_at.
        rows = sorted((report_row(rng, world, reporters, now) for _ in range(count)),
                      key=lambda row: row[REPORT_COLUMNS.index("created_at")])
        with cursor.copy(f"COPY reports ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    # What autovacuum does to a table in service: statistics and the visibility map.
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


# --- measuring -----------------------------------------------------------------------------


def timed(action, samples: int) -> tuple[list[float], float]:
    """Wall milliseconds per call, and this process's mean CPU milliseconds per call (on a
    busy machine the wall time also counts waiting for a core)."""
    for _ in range(min(10, samples)):
        action()
    times = []
    cpu_started = time.process_time()
    for _ in range(samples):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times, (time.process_time() - cpu_started) * 1000 / samples


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def service_scenarios(url: str, samples: int) -> list[tuple[str, list[float]]]:
    engine = create_engine(url, pool_size=2)
    rows = []
    with Session(engine) as session:
        reviewer = users.find_user(session, "bench_reviewer")
        month = datetime.now(UTC).astimezone(CHINA).date().replace(day=1)
        first_page = reports.list_reports(session, reviewer, reports.Filter(status="submitted"))
        scenarios = (
            ("queue: submitted, first page", lambda: reports.list_reports(
                session, reviewer, reports.Filter(status="submitted"))),
            ("queue: submitted, next page", lambda: reports.list_reports(
                session, reviewer, reports.Filter(status="submitted",
                                                  after_id=first_page[-1].id))),
            ("queue: overdue only", lambda: reports.list_reports(
                session, reviewer, reports.Filter(overdue_only=True))),
            ("queue: all statuses", lambda: reports.list_reports(
                session, reviewer, reports.Filter())),
            ("assessment: month, street", lambda: assessment.monthly_report(
                session, reviewer, None, month)),
        )
        for name, action in scenarios:
            progress(name)
            rows.append((name, timed(lambda a=action: (a(), session.rollback()), samples)))
    engine.dispose()
    return rows


def page_scenarios(url: str, samples: int) -> list[tuple[str, list[float]]]:
    from web import create_app

    os.environ.setdefault("JINDOU_INSTANCE_PATH", "/tmp/jindou-reports-bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"username": "bench_reviewer", "password": PASSWORD})
    rows = []
    for name, path in (("page: /reports/review", "/reports/review"),
                       ("page: /reports/review?overdue=1", "/reports/review?overdue=1"),
                       ("page: /reports/assessment", "/reports/assessment"),
                       ("page: /reports/assessment.csv", "/reports/assessment.csv")):
        progress(name)
        assert client.get(path).status_code == 200, path

        def fetch(path=path):
            response = client.get(path)
            response.get_data()
            response.close()

        rows.append((name, timed(fetch, samples)))
    with app.app_context():
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()
    return rows


def print_table(rows, count: int, loads: tuple) -> bool:
    print(f"\nreports: {count:,} on PostgreSQL; milliseconds per call; load average "
          f"{loads[0]:.1f} before, {loads[1]:.1f} after on {os.cpu_count()} cores")
    print(f"{'scenario':<34} {'p50':>7} {'p99':>7} {'mean':>7} {'cpu':>6}  "
          f"target p50 < {TARGET_MS:g} ms")
    passed = True
    for name, (times, cpu) in rows:
        p50, p99 = percentile(times, 0.50), percentile(times, 0.99)
        ok = p50 < TARGET_MS
        passed &= ok
        print(f"{name:<34} {p50:7.2f} {p99:7.2f} {statistics.fmean(times):7.2f} {cpu:6.2f}  "
              f"{'pass' if ok else 'FAIL'}")
    return passed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL, help="a PostgreSQL server URL")
    parser.add_argument("--reports", type=int, default=DEFAULT_REPORTS)
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES)
    arguments = parser.parse_args(argv)
    name = f"jindou_reports_bench_{os.getpid()}"
    load_before = os.getloadavg()[0]
    url = create_database(arguments.url, name)
    try:
        world = build_world(url)
        started = time.perf_counter()
        reporters = load_volunteers(url, world["leaves"][0][0])
        load_reports(url, world, reporters, arguments.reports)
        progress(f"loaded {arguments.reports:,} reports in {time.perf_counter() - started:.1f} s")
        rows = service_scenarios(url, arguments.samples)
        rows += page_scenarios(url, arguments.samples)
    finally:
        admin(arguments.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if print_table(rows, arguments.reports, (load_before, os.getloadavg()[0])) else 1


if __name__ == "__main__":
    sys.exit(main())
