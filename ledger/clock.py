"""The one clock of every package: the moment now, in UTC, and China's time zone, in which
days, months and booking years are counted. Standard library only, so the ledger and every
package above it import it.

A test controls the time of the whole product in one place, ``ledger.clock.source``:
``monkeypatch.setattr(ledger.clock, "source", lambda: moment)``. ``now`` reads it at every
call, so it holds for every module however it imported ``now``."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def system_time() -> datetime:
    return datetime.now(UTC)


source = system_time


def now() -> datetime:
    """The present moment, aware, in UTC."""
    return source()
