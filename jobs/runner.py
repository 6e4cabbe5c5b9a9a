"""Running the jobs: once (``jindou worker --once``), or for ever on APScheduler
(``jindou worker``). Takes a SQLAlchemy session factory; each run opens its own session."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ledger.clock import now

from . import catalogue, claims
from .catalogue import Job

log = logging.getLogger("jobs")

DONE, SKIPPED, FAILED, OFF = "done", "skipped", "failed", "off"
SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # done, skipped (not due), failed, off (interval 0)
    message: str
    count: int | None = None

    def line(self) -> str:
        return f"{self.name}: {self.message}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(session_factory: SessionFactory, job: Job, seconds: int, *,
            moment: datetime | None = None, force: bool = False,
            worker: str | None = None) -> Outcome:
    """Claim the job's run and, when this worker won it, run it; a failure is caught,
    logged and answered, never raised."""
    if seconds <= 0:
        return Outcome(job.name, OFF, "off (interval 0)")
    moment = moment or now()
    interval = timedelta(seconds=seconds)
    with session_factory() as session:
        try:
            won = claims.claim(session, job.name, interval, moment, worker or worker_name(),
                               force=force)
            if not won:
                wait = claims.seconds_until_due(session, job.name, interval, moment)
                return Outcome(job.name, SKIPPED, f"not due (next in {wait} s)")
        except Exception as error:  # the database is away: say so, try again next time
            session.rollback()
            log.exception("%s: could not claim its run", job.name)
            return Outcome(job.name, FAILED, f"failed to claim: {type(error).__name__}: {error}")
        outcome = _execute(session, job)
        claims.finish(session, job.name, moment, now(), outcome.message)
    return outcome


def _execute(session: Session, job: Job) -> Outcome:
    started = time.monotonic()
    try:
        count = job.run(session)
    except Exception as error:  # one job's failure must not stop the others
        session.rollback()
        log.exception("%s failed", job.name)
        return Outcome(job.name, FAILED, f"failed: {type(error).__name__}: {error}")
    outcome = Outcome(job.name, DONE, job.describe(count), count)
    log.info("%s: %s (%.2f s)", job.name, outcome.message, time.monotonic() - started)
    return outcome


def run_once(session_factory: SessionFactory, intervals: Mapping[str, int], *,
             everything: bool = False, moment: datetime | None = None,
             jobs: Sequence[Job] | None = None) -> list[Outcome]:
    """Every job that is due (every job, with ``everything``), one after the other."""
    jobs = catalogue.JOBS if jobs is None else jobs
    _ensure_rows(session_factory, jobs)
    worker = worker_name()
    return [run_job(session_factory, job, intervals[job.name], moment=moment,
                    force=everything, worker=worker) for job in jobs]


def run_forever(session_factory: SessionFactory, intervals: Mapping[str, int], *,
                poll_seconds: int, threads: int = 1,
                jobs: Sequence[Job] | None = None) -> None:
    """Look every ``poll_seconds`` whether each job is due and run it when this worker wins
    its claim, until SIGTERM or SIGINT (a running job finishes first)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.blocking import BlockingScheduler

    jobs = catalogue.JOBS if jobs is None else jobs
    _ensure_rows(session_factory, jobs)
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=threads)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC)
    worker = worker_name()
    for job in jobs:
        seconds = intervals[job.name]
        if seconds <= 0:
            log.info("%s: off (interval 0)", job.name)
            continue
        scheduler.add_job(run_job, "interval", seconds=poll_seconds, id=job.name,
                          args=[session_factory, job, seconds], kwargs={"worker": worker},
                          next_run_time=now())
        log.info("%s: every %s s", job.name, seconds)

    def stop(signum, _frame):
        log.info("worker stopping (%s)", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    log.info("worker %s started", worker)
    scheduler.start()
    log.info("worker %s stopped", worker)


def _ensure_rows(session_factory: SessionFactory, jobs: Sequence[Job]) -> None:
    with session_factory() as session:
        claims.ensure_rows(session, [job.name for job in jobs])
