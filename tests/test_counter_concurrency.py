"""Counter payments racing on PostgreSQL, with real threads and one connection each: twenty
confirmations with distinct keys on an offer with five left pay exactly five times; a double
tap racing itself (one key, two requests at once) pays once. Then the ledger's invariants."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from merchants import counter
from merchants.errors import OutOfStock
from merchants.models import CounterPayment, Offer, Redemption, Voucher
from tests.concurrency import run_threads
from tests.merchants_support import build_shops, give_points
from volunteers import programmes
from volunteers.models import User

pytestmark = [pytest.mark.commits,
              pytest.mark.postgres_only("concurrency is tested on PostgreSQL")]

KEY = "counter-concurrency-key"
STOCK = 5
PAYERS = 20
PRICE = 10


def setup(engine, world):
    with Session(engine) as session:
        shops = build_shops(session, world, price_points=PRICE, stock=STOCK,
                            per_person_limit=50)
        give_points(session, world, "rider", 1_000, "counter-race")
        admin = session.get(User, world.ids["root_admin"])
        counter.set_limits(session, admin, programmes.get_programme(session, world.programme),
                           {"volunteer_daily_payments": 100, "volunteer_daily_points": 10_000})
        code = counter.counter_code(KEY, counter.get_counter(session, admin, shops.merchant))
        session.commit()
    return shops, code


def assert_ledger_sound(engine) -> None:
    with Session(engine) as session:
        ledger.seal_all(session)
        report = ledger.verify(session)
        assert report.ok, report.problems
        negative = session.scalars(select(ledger.Account.code).where(
            ledger.Account.no_overdraft.is_(True),
            ledger.Account.posted - ledger.Account.pending_out < 0)).all()
        assert negative == []


def test_twenty_confirmations_on_five_left_pay_exactly_five_times(engine, world):
    shops, code = setup(engine, world)

    def confirm(session, index):
        rider = session.get(User, world.ids["rider" if index % 2 else "rider2"])
        return counter.pay(session, rider, code, key=KEY, idempotency_key=f"tap:{index}",
                           offer_id=shops.offer).payment.id

    answers = run_threads(engine, PAYERS, confirm, commit=True)
    kinds = Counter(type(answer).__name__ for answer in answers)
    assert kinds == {"int": STOCK, "OutOfStock": PAYERS - STOCK}, answers
    assert all(isinstance(a, (int, OutOfStock)) for a in answers)
    with Session(engine) as session:
        assert session.scalar(select(Offer.stock_left).where(Offer.id == shops.offer)) == 0
        assert session.scalar(select(func.count()).select_from(CounterPayment)) == STOCK
        assert session.scalar(select(func.count()).select_from(Redemption)) == STOCK
        assert session.scalar(select(func.count()).select_from(Voucher)
                              .where(Voucher.status == "redeemed")) == STOCK
        accepted = ledger.balance(session, f"merchant:{shops.merchant}:accepted")
        assert (accepted.posted, accepted.pending_in) == (STOCK * PRICE, 0)
    assert_ledger_sound(engine)


def test_a_double_tap_racing_itself_pays_once(engine, world):
    shops, code = setup(engine, world)

    def tap(session, _index):
        rider = session.get(User, world.ids["rider"])
        return counter.pay(session, rider, code, key=KEY, idempotency_key="one-tap",
                           offer_id=shops.offer).payment.id

    answers = run_threads(engine, 4, tap, commit=True)
    assert len(set(answers)) == 1 and isinstance(answers[0], int), answers
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CounterPayment)) == 1
        assert session.scalar(select(Offer.stock_left).where(Offer.id == shops.offer)) == \
            STOCK - 1
    assert_ledger_sound(engine)
