"""Shared helpers of the payment services: fingerprints of requests, month bounds in China's
time, and locking a row for the rest of the transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ledger.clock import CHINA


def fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def month_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The calendar month (Beijing time) holding ``at``, as UTC instants [start, end)."""
    local = at.astimezone(CHINA)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def lock_row(session: Session, statement):
    """The row with a lock held until commit. FOR NO KEY UPDATE, not FOR UPDATE: rows whose
    foreign keys point here take KEY SHARE locks on insert, which FOR UPDATE would block
    (DESIGN section 10). SQLite ignores the clause: its writer already holds the database."""
    # OF the selected table only: its joined-eager relationships are outer joins, which
    # PostgreSQL refuses to lock.
    locked = statement.column_descriptions[0]["entity"]
    return session.scalars(
        statement.with_for_update(key_share=True, of=locked)
        .execution_options(populate_existing=True)
    ).first()
