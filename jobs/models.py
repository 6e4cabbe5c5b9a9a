"""The one table of the worker: a row per periodic job, saying who claimed its last run,
when, and how that run ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UtcDateTime

NAME_LENGTH = 64
OUTCOME_LENGTH = 500


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    # The start of the last run a worker claimed: the job is due again one interval later.
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(OUTCOME_LENGTH))
