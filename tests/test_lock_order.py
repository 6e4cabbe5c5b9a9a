"""One lock order everywhere (PostgreSQL): a payout (``ledger_pay_out``) and a cash-out
(``ledger_post``, the entry ``payments.cash_out.request_cash_out`` writes) both lock ledger
accounts in id order, so they never deadlock. The race is made certain rather than lucky: a
third transaction holds the payout's first payee, so the payout stalls mid-way while the
cash-out runs; with the source locked first (version 3) the two then wait for each other."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import ledger
from ledger import Payee, Payout, Posting

pytestmark = [pytest.mark.commits, pytest.mark.postgres_only(
    "row locks and deadlocks exist on PostgreSQL; SQLite serialises every writer")]

FUND, BUDGET = "programme:p2:fund", "programme:p2:budget"
EARLY, PAYEE = "volunteer:1:cash", "volunteer:2:cash"  # both older than the fund
WALLET = "volunteer:2:wallet"
WAIT_SECONDS = 10


def set_up(engine) -> None:
    with Session(engine) as session:
        for code in (EARLY, PAYEE):  # opened before the programme: lower ids than its fund
            ledger.open_account(session, code, "CNY", "liability", owner_type="volunteer")
        ledger.open_account(session, "world:cny", "CNY", "equity")
        ledger.open_account(session, "world:points", "POINT", "equity")
        ledger.open_account(session, FUND, "CNY", "asset", no_overdraft=True)
        ledger.open_account(session, BUDGET, "POINT", "equity", no_overdraft=True)
        ledger.open_account(session, WALLET, "POINT", "liability", no_overdraft=True)
        ledger.post(session, idempotency_key="fund", kind="funding",
                    postings=[Posting("world:cny", -100_000, "CNY"), Posting(FUND, 100_000, "CNY")])
        ledger.post(session, idempotency_key="earn", kind="manual_award",
                    postings=[Posting("world:points", -500, "POINT"),
                              Posting(WALLET, 500, "POINT")])
        session.commit()


def waiting_on_locks(session: Session) -> int:
    return session.scalar(text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND datname = current_database()"))


def wait_until(condition, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_payout_and_a_cash_out_lock_in_one_order_and_never_deadlock(engine):
    set_up(engine)
    answers: dict[str, object] = {}

    def run(name, work):
        with Session(engine) as session:
            try:
                answers[name] = work(session)
                session.commit()
            except Exception as error:  # the test asserts on it
                session.rollback()
                answers[name] = error

    def payout(session):
        return ledger.pay_out(session, Payout(
            source=FUND, unit="CNY", kind="ranking_bonus", key_prefix="bonus:race",
            payee_owner_type="volunteer"), [Payee(EARLY, 300), Payee(PAYEE, 500)])

    def cash_out(session):  # request_cash_out's entry: points back, money owed
        return ledger.post(session, idempotency_key="cash_out:race", kind="cash_out",
                           postings=[Posting(WALLET, -200, "POINT"), Posting(BUDGET, 200, "POINT"),
                                     Posting(FUND, -200, "CNY"), Posting(PAYEE, 200, "CNY")])

    with Session(engine) as blocker, Session(engine) as watcher:
        blocker.execute(text("SELECT 1 FROM ledger_accounts WHERE code = :code"
                             " FOR NO KEY UPDATE"), {"code": EARLY})
        paying = threading.Thread(target=run, args=("payout", payout))
        paying.start()
        assert wait_until(lambda: waiting_on_locks(watcher) == 1), "the payout never stalled"
        cashing = threading.Thread(target=run, args=("cash_out", cash_out))
        cashing.start()
        # In one lock order the payout holds nothing yet, so the cash-out goes through.
        cashing.join(WAIT_SECONDS)
        blocker.rollback()
        paying.join(WAIT_SECONDS)
        cashing.join(WAIT_SECONDS)
    assert not paying.is_alive() and not cashing.is_alive()
    assert isinstance(answers["cash_out"], ledger.Result), answers["cash_out"]
    assert [r.created for r in answers["payout"]] == [True], answers["payout"]
    with Session(engine) as session:
        assert ledger.balance(session, FUND).posted == 100_000 - 800 - 200
        assert ledger.balance(session, PAYEE).posted == 700
        assert ledger.balance(session, EARLY).posted == 300
        ledger.seal_all(session)
        session.commit()
        assert ledger.verify(session).problems == []
    engine.dispose()
