"""One clock: every package reads the time from ``ledger.clock``, so a test sets the time of
the whole product in one place, and no package keeps a clock or a China time zone of its own."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import activities.common  # noqa: F401
import ledger
import merchants.vouchers
import payments.donations
import reports.reports
import volunteers.users
from ledger import clock

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "volunteers", "honours", "reports", "activities", "merchants", "payments",
            "jobs", "web")
# What only ledger/clock.py may say: reading the system's time or naming a time zone.
OWN_CLOCK = re.compile(r"datetime\.(now|utcnow)\(|ZoneInfo\(|timezone\(timedelta|^def now\(|"
                       r"^CHINA\w* = ", re.MULTILINE)
MOMENT = datetime(2031, 1, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("module", [ledger.service, volunteers.users, reports.reports,
                                    merchants.vouchers, payments.donations])
def test_one_patch_point_sets_the_time_everywhere(monkeypatch, module):
    monkeypatch.setattr(clock, "source", lambda: MOMENT)
    assert module.now() == MOMENT


def test_the_clock_reads_the_system_time_in_utc():
    before = datetime.now(UTC)
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0
    assert before <= moment <= datetime.now(UTC)


def test_china_time_is_eight_hours_ahead_and_counts_the_year_there():
    assert MOMENT.astimezone(clock.CHINA).hour == 11
    assert ledger.rules.year_of(datetime(2030, 12, 31, 16, 0, tzinfo=UTC)) == 2031


def test_no_package_keeps_a_clock_of_its_own():
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}"
                 for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
                 if path != ROOT / "ledger" / "clock.py"
                 for match in OWN_CLOCK.finditer(path.read_text())]
    assert offenders == []
