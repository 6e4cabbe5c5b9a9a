"""Real threads for the PostgreSQL concurrency tests: released together by a barrier, each in
its own session, every answer (or the exception raised) returned in thread order."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

JOIN_TIMEOUT_SECONDS = 120
BARRIER_TIMEOUT_SECONDS = 60


def run_threads(engine, count: int, work, *, commit: bool = False, warm=None) -> list:
    """Runs ``work(session, index)`` in ``count`` threads started at the same moment; with
    ``commit`` each thread commits what its work did. ``warm(session)`` runs before the
    barrier, to load what the work needs so that the race starts at the work itself. A thread
    that hangs fails the test."""
    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT_SECONDS)
    answers: list = [None] * count

    def run(index: int) -> None:
        with Session(engine) as session:
            if warm is not None:
                warm(session)
            barrier.wait()
            try:
                answers[index] = work(session, index)
                if commit:
                    session.commit()
            except Exception as error:  # reported by the test, not swallowed
                session.rollback()
                answers[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: deadlock?"
    return answers
