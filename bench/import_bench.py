"""How long bringing in an office's spreadsheet of volunteers takes, on PostgreSQL (and SQLite
beside it): a GBK CSV and an XLSX of N people, checked (dry run) and applied in one
transaction, and a second import of the same file (nothing to change), beside the baseline of
the same run: creating people one by one through ``users.create_user`` (one user, one grant,
one wallet per round trip; no password either, so scrypt is not what is measured).

    PYTHONPATH=. python bench/import_bench.py [--url URL] [--people 10000] [--baseline 1000]
        [--sqlite]

The target (issue 16): 10,000 volunteers imported in under a minute on this machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
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
HEADER = ["外部编号", "姓名", "手机号", "用户名", "所属区域代码"]
COMMUNITIES = 20


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def build(engine) -> int:
    import imports  # noqa: F401
    import merchants  # noqa: F401
    import reports  # noqa: F401
    import volunteers  # noqa: F401
    from volunteers import areas, users
    from volunteers import ddl as volunteers_ddl

    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
        volunteers_ddl.install(connection)
    with Session(engine) as session:
        areas.ensure_root(session)
        areas.create_area(session, "xindu", "新都区", "district", "root")
        areas.create_area(session, "dafeng", "大丰街道", "street", "xindu")
        for n in range(COMMUNITIES):
            areas.create_area(session, f"c{n:02d}", f"社区{n}", "community", "dafeng")
        boss = users.create_user(session, "boss", "bench-password", role="admin",
                                 area_code="root")
        session.commit()
        return boss.id


def rows(people: int, prefix: str = "R") -> list[list[str]]:
    return [[f"{prefix}{n:06d}", f"骑手{n}", f"139{n:08d}", "", f"c{n % COMMUNITIES:02d}"]
            for n in range(people)]


def gbk_csv(table: list[list[str]]) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    writer.writerows(table)
    return stream.getvalue().encode("gbk")


def xlsx(table: list[list[str]]) -> bytes:
    from imports.files import write_xlsx

    return write_xlsx(HEADER, table)


def timed(engine, boss_id: int, kind: str, data: bytes, name: str, dry_run: bool):
    from imports import importer
    from volunteers import users

    started = time.perf_counter()
    with Session(engine) as session:
        boss = users.get_user(session, boss_id)
        report = importer.run(session, boss, kind, data, name, dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return time.perf_counter() - started, report.counts


def baseline(engine, count: int) -> float:
    from volunteers import users

    started = time.perf_counter()
    with Session(engine) as session:
        for n in range(count):
            users.create_user(session, f"base{n:06d}", None, role="volunteer",
                              area_code=f"c{n % COMMUNITIES:02d}", display_name=f"基线{n}")
        session.commit()
    return time.perf_counter() - started


def run_on(engine, label: str, people: int, baseline_people: int) -> None:
    boss_id = build(engine)
    table = rows(people)
    csv_data, xlsx_data = gbk_csv(table), xlsx(rows(people, "X"))
    seconds = baseline(engine, baseline_people)
    print(f"[{label}] baseline: create_user one by one, {baseline_people} people: "
          f"{seconds:.2f} s ({baseline_people / seconds:,.0f}/s; "
          f"{people} would take ~{people * seconds / baseline_people:.1f} s)")
    for title, data, name in (("GBK CSV", csv_data, "people.csv"),
                              ("XLSX", xlsx_data, "people.xlsx")):
        seconds, counts = timed(engine, boss_id, "volunteers", data, name, dry_run=True)
        print(f"[{label}] {title} dry run, {people} rows: {seconds:.2f} s {counts}")
        seconds, counts = timed(engine, boss_id, "volunteers", data, name, dry_run=False)
        print(f"[{label}] {title} apply, {people} rows: {seconds:.2f} s "
              f"({people / seconds:,.0f}/s) {counts}")
        seconds, counts = timed(engine, boss_id, "volunteers", data, name, dry_run=False)
        print(f"[{label}] {title} re-import (nothing changes): {seconds:.2f} s {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite too")
    args = parser.parse_args()
    name = f"jindou_import_bench_{uuid.uuid4().hex[:8]}"
    admin(args.url, f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(args.url).set(database=name))
    ledger.configure_engine(engine)
    try:
        run_on(engine, "postgresql", args.people, args.baseline)
    finally:
        engine.dispose()
        admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.sqlite:
        with tempfile.TemporaryDirectory() as directory:
            engine = create_engine(f"sqlite:///{directory}/bench.sqlite3")
            ledger.configure_engine(engine)
            run_on(engine, "sqlite", args.people, args.baseline)
            engine.dispose()


if __name__ == "__main__":
    main()
