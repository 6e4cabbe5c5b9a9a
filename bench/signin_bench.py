"""Whether a sign-in's answer time tells that a user name exists (issue 19). One run builds an
in-memory SQLite database with one user (production scrypt cost), then times a wrong password
for that name and for an unknown one, each ``--samples`` times, now and with the baseline of
before issue 19 (an unknown name answered at once, without checking any hash).

    PYTHONPATH=. python bench/signin_bench.py [--samples 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.db import Base  # noqa: E402
from volunteers import areas, users  # noqa: E402
from volunteers.errors import Unauthorized  # noqa: E402
from volunteers.passwords import check_password  # noqa: E402


def baseline_authenticate(session, username, password):
    """Before issue 19: an unknown name returned before any hash was checked."""
    user = users.find_user(session, username)
    if user is None or not check_password(user.password_hash, password):
        raise Unauthorized("wrong user name or password")
    return user


def timed(function, samples: int) -> float:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        try:
            function()
        except Unauthorized:
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    import activities  # noqa: E401,F401

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        areas.ensure_root(session)
        users.create_user(session, "known_user", "correct-horse-9", role="admin",
                          area_code="root")
        session.commit()
        rows = []
        for label, authenticate in (("now", users.authenticate),
                                    ("baseline (before)", baseline_authenticate)):
            known = timed(lambda a=authenticate: a(session, "known_user", "wrong-pass"),
                          args.samples)
            unknown = timed(lambda a=authenticate: a(session, "nobody_here", "wrong-pass"),
                            args.samples)
            rows.append((label, known, unknown))
    print(f"{'sign-in with a wrong password':32} {'known name':>12} {'unknown name':>14}")
    for label, known, unknown in rows:
        print(f"{label:32} {known:10.1f} ms {unknown:12.1f} ms")


if __name__ == "__main__":
    main()
