"""Real concurrency on PostgreSQL: threads, each with its own session and connection, race for
the same rows; afterwards the invariants must hold (SQLite serialises writers, so these tests
only run on PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting
from tests import factories
from tests.concurrency import run_threads

pytestmark = [pytest.mark.commits, pytest.mark.postgres_only(
    "concurrency is tested on PostgreSQL; SQLite serialises every writer")]


@pytest.fixture
def pg_engine(engine):
    return engine


def seal_and_verify(engine) -> ledger.Report:
    with Session(engine) as session:
        ledger.seal_all(session)
        return ledger.verify(session)


def entry_count(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(ledger.Entry))


def test_concurrent_spends_never_overdraw_a_wallet(pg_engine):
    start_points, spend_points, spends_per_thread, threads = 100, 3, 10, 16
    with Session(pg_engine) as session:
        wallet = factories.wallet(session, 1, points=start_points)
        shop = factories.merchant(session, 7)
        session.commit()
    lowest = []

    def spend(session, index):
        outcomes = Counter()
        for attempt in range(spends_per_thread):
            try:
                factories.move(session, wallet, shop, spend_points,
                               idem=f"spend:{index}:{attempt}")
                session.commit()
                outcomes["spent"] += 1
            except ledger.InsufficientPoints:
                session.rollback()
                outcomes["refused"] += 1
            lowest.append(ledger.balance(session, wallet).posted)
            session.commit()
        return outcomes

    answers = run_threads(pg_engine, threads, spend)
    assert [a for a in answers if isinstance(a, Exception)] == []
    spent = sum(answer["spent"] for answer in answers)
    assert spent == start_points // spend_points
    assert sum(answer["refused"] for answer in answers) == threads * spends_per_thread - spent
    assert min(lowest) >= 0
    with Session(pg_engine) as session:
        assert ledger.balance(session, wallet).posted == start_points - spent * spend_points
        assert ledger.balance(session, shop).posted == spent * spend_points
    report = seal_and_verify(pg_engine)
    assert (report.problems, report.entries, report.sealed) == ([], 1 + spent, 1 + spent)


def test_one_idempotency_key_sent_at_once_writes_one_entry(pg_engine):
    with Session(pg_engine) as session:
        wallet = factories.wallet(session, 1)
        session.commit()

    def award(session, _index):
        result = ledger.post(session, idempotency_key="report:42:reward", kind="report_reward",
                             postings=[Posting("world:points", -50, "POINT"),
                                       Posting(wallet, 50, "POINT")])
        session.commit()
        return result

    answers = run_threads(pg_engine, 8, award)
    assert [a for a in answers if isinstance(a, Exception)] == []
    assert len({answer.entry_id for answer in answers}) == 1
    assert sorted(answer.created for answer in answers) == [False] * 7 + [True]
    assert entry_count(pg_engine) == 1
    with Session(pg_engine) as session:
        assert ledger.balance(session, wallet).posted == 50
    assert seal_and_verify(pg_engine).ok


def test_one_key_with_two_contents_at_once_writes_one_entry_and_refuses_the_rest(pg_engine):
    with Session(pg_engine) as session:
        wallet = factories.wallet(session, 1)
        session.commit()

    def award(session, index):
        amount = 10 + index % 2
        result = ledger.post(session, idempotency_key="report:43:reward", kind="report_reward",
                             postings=[Posting("world:points", -amount, "POINT"),
                                       Posting(wallet, amount, "POINT")])
        session.commit()
        return result

    answers = run_threads(pg_engine, 8, award)
    created = [a for a in answers if isinstance(a, ledger.Result) and a.created]
    conflicts = [a for a in answers if isinstance(a, ledger.IdempotencyConflict)]
    retries = [a for a in answers if isinstance(a, ledger.Result) and not a.created]
    assert len(created) == 1
    assert len(conflicts) == 4 and len(retries) == 3
    assert entry_count(pg_engine) == 1
    assert seal_and_verify(pg_engine).ok


def make_hold(engine, amount: int = 60):
    with Session(engine) as session:
        wallet = factories.wallet(session, 1, points=100)
        shop = factories.merchant(session, 7)
        held = factories.voucher_hold(session, wallet, shop, amount,
                                      datetime.now(UTC) + timedelta(days=1))
        session.commit()
    return wallet, shop, held.entry_id


def test_one_hold_settled_at_once_settles_once(pg_engine):
    wallet, shop, hold_id = make_hold(pg_engine)

    def settle(session, index):
        if index % 2:
            result = ledger.void_hold(session, hold_id, idempotency_key=f"cancel:{index}")
        else:
            result = ledger.post_hold(session, hold_id, idempotency_key=f"scan:{index}")
        session.commit()
        return result

    answers = run_threads(pg_engine, 8, settle)
    settled = [a for a in answers if isinstance(a, ledger.Result)]
    refused = [a for a in answers if isinstance(a, ledger.HoldNotPending)]
    assert (len(settled), len(refused)) == (1, 7)
    with Session(pg_engine) as session:
        settlements = session.scalars(
            select(ledger.Entry).where(ledger.Entry.pending_id == hold_id)).all()
        assert [entry.id for entry in settlements] == [settled[0].entry_id]
        posted = settlements[0].status == "posted"
        wallet_balance = ledger.balance(session, wallet)
        assert (wallet_balance.posted, wallet_balance.pending_out) == (40 if posted else 100, 0)
        assert ledger.balance(session, shop).posted == (60 if posted else 0)
    assert seal_and_verify(pg_engine).ok


def test_one_settlement_retried_at_once_returns_one_entry(pg_engine):
    _wallet, shop, hold_id = make_hold(pg_engine)

    def scan(session, _index):
        result = ledger.post_hold(session, hold_id, idempotency_key="scan:voucher:1")
        session.commit()
        return result

    answers = run_threads(pg_engine, 8, scan)
    assert [a for a in answers if isinstance(a, Exception)] == []
    assert len({answer.entry_id for answer in answers}) == 1
    assert sorted(answer.created for answer in answers) == [False] * 7 + [True]
    with Session(pg_engine) as session:
        assert ledger.balance(session, shop).posted == 60
    assert seal_and_verify(pg_engine).ok


def test_transfers_in_opposite_directions_finish_without_deadlock(pg_engine):
    with Session(pg_engine) as session:
        first = factories.wallet(session, 1, points=1000)
        second = factories.wallet(session, 2, points=1000)
        session.commit()
    transfers_per_thread = 25

    def transfer(session, index):
        source, target = (first, second) if index % 2 else (second, first)
        for number in range(transfers_per_thread):
            factories.move(session, source, target, 1 + number % 5,
                           idem=f"transfer:{index}:{number}")
            session.commit()
        return transfers_per_thread

    answers = run_threads(pg_engine, 8, transfer)
    assert answers == [transfers_per_thread] * 8
    with Session(pg_engine) as session:
        assert ledger.balance(session, first).posted == 1000
        assert ledger.balance(session, second).posted == 1000
    report = seal_and_verify(pg_engine)
    assert (report.ok, report.entries) == (True, 2 + 8 * transfers_per_thread)


def test_sealing_while_others_write_keeps_one_unbroken_chain(pg_engine):
    with Session(pg_engine) as session:
        wallet = factories.wallet(session, 1)
        session.commit()
    writes_per_thread = 20

    def write_or_seal(session, index):
        if index < 2:
            sealed = 0
            for _ in range(writes_per_thread):
                sealed += ledger.seal(session)
                session.commit()
            return sealed
        for number in range(writes_per_thread):
            ledger.post(session, idempotency_key=f"award:{index}:{number}", kind="check_in",
                        postings=[Posting("world:points", -1, "POINT"),
                                  Posting(wallet, 1, "POINT")])
            session.commit()
        return 0

    answers = run_threads(pg_engine, 8, write_or_seal)
    assert [a for a in answers if isinstance(a, Exception)] == []
    report = seal_and_verify(pg_engine)
    assert (report.problems, report.entries, report.sealed) == ([], 120, 120)
