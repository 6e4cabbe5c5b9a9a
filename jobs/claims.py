"""Who runs a due job: a worker claims a run with one conditional UPDATE of the job's row
in ``job_runs`` (only if the last claim is at least one interval old), in a transaction of
its own. Two workers racing for the same run both send the UPDATE; the database lets one
change the row and the other, seeing the new claim, changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import OUTCOME_LENGTH, JobRun


def ensure_rows(session: Session, names) -> None:
    """A row for each job (never claimed yet); commits."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for name in names:
        session.execute(insert(JobRun).values(name=name).on_conflict_do_nothing())
    session.commit()


def claim(session: Session, name: str, interval: timedelta, moment: datetime, worker: str,
          *, force: bool = False) -> bool:
    """Claim the run of ``name`` starting at ``moment``; True when this worker won it. With
    ``force`` the claim is taken whatever the last one was (``jindou worker --once --all``).
    Commits."""
    statement = update(JobRun).where(JobRun.name == name)
    if not force:
        statement = statement.where(or_(JobRun.claimed_at.is_(None),
                                        JobRun.claimed_at <= moment - interval))
    won = session.execute(
        statement.values(claimed_at=moment, claimed_by=worker, finished_at=None, outcome=None)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    return won


def finish(session: Session, name: str, moment: datetime, finished_at: datetime,
           outcome: str) -> None:
    """Record how the run claimed at ``moment`` ended (unless a later claim replaced it)."""
    session.execute(
        update(JobRun).where(JobRun.name == name, JobRun.claimed_at == moment)
        .values(finished_at=finished_at, outcome=outcome[:OUTCOME_LENGTH])
        .execution_options(synchronize_session=False))
    session.commit()


def seconds_until_due(session: Session, name: str, interval: timedelta,
                      moment: datetime) -> int:
    claimed_at = session.scalar(select(JobRun.claimed_at).where(JobRun.name == name))
    session.commit()
    if claimed_at is None:
        return 0
    return max(0, round((claimed_at + interval - moment).total_seconds()))
