"""The ledger on a journal partitioned by month (docs/scale.md): the ledger service tests and
the PostgreSQL race tests (whose invariants: entries balance, balances equal postings, no
protected account below zero, a key posts once) run again, in a test run of their own, on
databases whose ``ledger_postings`` is partitioned by ``created_at`` month
(``ledger.partitioning``; ``JINDOU_TEST_PARTITIONED_JOURNAL=1`` tells tests/databases.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import ledger
from ledger import Posting, partitioning
from tests.databases import PARTITIONED_JOURNAL, postgres_or_skip

MOMENT = datetime(2024, 3, 31, 23, 59, tzinfo=UTC)  # still March in UTC (April in China)
ROOT = Path(__file__).resolve().parent.parent
# The service tests and the races that guard the invariants (no overdraft, a key posts once,
# one unbroken chain), PostgreSQL half only; and this module's own check that the journal it
# runs on is partitioned. Each race costs a database reset, so the other races are left to
# the plain journal's run.
CONCURRENCY = "tests/test_ledger_concurrency.py::"
SUITE = ("tests/test_ledger_service.py",
         CONCURRENCY + "test_concurrent_spends_never_overdraw_a_wallet",
         CONCURRENCY + "test_one_idempotency_key_sent_at_once_writes_one_entry",
         CONCURRENCY + "test_sealing_while_others_write_keeps_one_unbroken_chain",
         "tests/test_ledger_partitioned.py")


def test_the_ledger_suite_passes_on_a_journal_partitioned_by_month():
    if os.environ.get(PARTITIONED_JOURNAL) == "1":
        pytest.skip("already inside the partitioned run")
    postgres_or_skip()
    environment = {**os.environ, PARTITIONED_JOURNAL: "1", "JINDOU_REQUIRE_POSTGRES": "1"}
    environment.pop("PYTEST_XDIST_WORKER", None)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-k", "postgresql", *SUITE],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    summary = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else ""
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary, summary
    # The check below ran there, on the partitioned journal, and passed.
    assert "test_postings_land_in_their_month_and_stay_append_only[postgresql] PASSED" in (
        finished.stdout)


@pytest.mark.skipif(os.environ.get(PARTITIONED_JOURNAL) != "1",
                    reason="runs inside the partitioned run (the test above starts it)")
@pytest.mark.postgres_only("PostgreSQL's declarative partitioning")
def test_postings_land_in_their_month_and_stay_append_only(session, database, monkeypatch):
    monkeypatch.setattr(ledger.clock, "source", lambda: MOMENT)
    connection = session.connection()
    months = partitioning.partitions(connection)
    assert len(months) == len(partitioning.months(*_bounds())) + 1  # and the default
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, "volunteer:1:wallet", "POINT", "liability", no_overdraft=True)
    result = ledger.post(session, idempotency_key="partitioned:1", kind="report_reward",
                         postings=[Posting("world:points", -5, "POINT"),
                                   Posting("volunteer:1:wallet", 5, "POINT")])
    month = connection.execute(text(
        "SELECT DISTINCT tableoid::regclass::text FROM ledger_postings WHERE entry_id = :id"),
        {"id": result.entry_id}).scalars().all()
    created = session.scalar(select(ledger.Entry.created_at).where(
        ledger.Entry.id == result.entry_id))
    assert created == MOMENT
    assert month == [partitioning.month_name(date(2024, 3, 1))]
    assert ledger.balance(session, "volunteer:1:wallet").posted == 5
    assert session.scalar(select(func.count()).select_from(ledger.PostingRow)) == 2
    with pytest.raises(Exception, match="append-only|refuse|history"):
        with session.begin_nested():
            connection.execute(text("UPDATE ledger_postings SET amount = 6 "
                                    "WHERE entry_id = :id AND amount > 0"),
                               {"id": result.entry_id})


def _bounds():
    from tests.databases import PARTITIONED_MONTHS

    return PARTITIONED_MONTHS
