"""Vouchers under concurrent requests on PostgreSQL, with real threads and one connection
each: tills scanning one voucher at the same moment, takers racing for the last stock, one
volunteer racing their own limit and balance. Then the ledger's invariants."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from merchants import vouchers
from merchants.errors import (
    InsufficientPoints,
    LimitReached,
    OutOfStock,
    VoucherAlreadyRedeemed,
)
from merchants.models import Offer, Redemption, Voucher
from tests.concurrency import run_threads
from tests.merchants_support import RIDER_POINTS, build_shops, give_points
from tests.web_support import PASSWORD
from volunteers import users
from volunteers.models import User

KEY = "concurrency-test-key"


pytestmark = [pytest.mark.commits,
              pytest.mark.postgres_only("concurrency is tested on PostgreSQL")]


@pytest.fixture
def pg_engine(engine, world):
    return engine


def run_together(engine, count: int, work) -> list:
    """``work(session, index)`` in ``count`` threads released at once; each commits its own
    transaction or rolls back on a refusal. Answers the result or the exception per thread."""
    return run_threads(engine, count, work, commit=True)


def assert_ledger_sound(engine) -> None:
    with Session(engine) as session:
        ledger.seal_all(session)
        report = ledger.verify(session)
        assert report.ok, report.problems
        negative = session.scalars(select(ledger.Account.code).where(
            ledger.Account.no_overdraft.is_(True),
            ledger.Account.posted - ledger.Account.pending_out < 0)).all()
        assert negative == []


def setup(engine, world, **options):
    with Session(engine) as session:
        shops = build_shops(session, world, **options)
        session.commit()
    return shops


def test_twenty_tills_scanning_one_voucher_redeem_it_exactly_once(pg_engine, world):
    shops = setup(pg_engine, world)
    with Session(pg_engine) as session:
        rider = session.get(User, world.ids["rider"])
        voucher, _ = vouchers.issue_voucher(session, rider, shops.offer, idempotency_key="take")
        session.commit()
        voucher_id, price = voucher.id, voucher.price_points
    from merchants import tokens

    token = tokens.sign(KEY, voucher_id)
    tills = (shops.ids["till"], shops.ids["till2"])

    def scan(session, index):
        till = session.get(User, tills[index % 2])
        return vouchers.redeem_voucher(session, till, token, key=KEY,
                                       idempotency_key=f"scan:{index}").redemption_id

    outcomes = run_together(pg_engine, 20, scan)
    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"int": 1, "VoucherAlreadyRedeemed": 19}, outcomes
    assert all(isinstance(o, (int, VoucherAlreadyRedeemed)) for o in outcomes)
    with Session(pg_engine) as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert session.get(Voucher, voucher_id).status == "redeemed"
        wallet = ledger.balance(session, world.wallet("rider"))
        assert (wallet.posted, wallet.available) == (RIDER_POINTS - price, RIDER_POINTS - price)
        assert ledger.balance(session, f"merchant:{shops.merchant}:accepted").posted == price
        redeem_entries = session.scalar(select(func.count()).select_from(ledger.Entry).where(
            ledger.Entry.kind == "voucher_redeem"))
        assert redeem_entries == 1
    assert_ledger_sound(pg_engine)


def test_ten_takers_of_the_last_three_items_get_exactly_three_vouchers(pg_engine, world):
    shops = setup(pg_engine, world, stock=3, per_person_limit=1)
    with Session(pg_engine) as session:
        people = []
        for number in range(10):
            person = users.create_user(session, f"taker{number}", PASSWORD, role="volunteer",
                                       area_code="sanyuan")
            world.ids[person.username] = person.id
            give_points(session, world, person.username, 50, f"taker:{number}")
            people.append(person.id)
        session.commit()

    def take(session, index):
        person = session.get(User, people[index])
        return vouchers.issue_voucher(session, person, shops.offer,
                                      idempotency_key=f"take:{index}")[0].id

    outcomes = run_together(pg_engine, 10, take)
    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"int": 3, "OutOfStock": 7}, outcomes
    assert all(isinstance(o, (int, OutOfStock)) for o in outcomes)
    with Session(pg_engine) as session:
        assert session.get(Offer, shops.offer).stock_left == 0
        held = session.scalars(select(Voucher).where(Voucher.offer_id == shops.offer)).all()
        assert sorted(v.id for v in held) == sorted(o for o in outcomes if isinstance(o, int))
        assert ledger.balance(session, f"merchant:{shops.merchant}:accepted").pending == 3 * 30
    assert_ledger_sound(pg_engine)


def test_one_volunteer_racing_the_per_person_limit_gets_the_limit(pg_engine, world):
    shops = setup(pg_engine, world, stock=50, per_person_limit=2, price_points=5)

    def take(session, index):
        rider = session.get(User, world.ids["rider"])
        return vouchers.issue_voucher(session, rider, shops.offer,
                                      idempotency_key=f"take:{index}")[0].id

    outcomes = run_together(pg_engine, 10, take)
    assert Counter(type(o).__name__ for o in outcomes) == {"int": 2, "LimitReached": 8}
    assert all(isinstance(o, (int, LimitReached)) for o in outcomes)
    with Session(pg_engine) as session:
        assert session.get(Offer, shops.offer).stock_left == 48
    assert_ledger_sound(pg_engine)


def test_one_volunteer_racing_their_balance_never_overdraws(pg_engine, world):
    shops = setup(pg_engine, world, stock=50, per_person_limit=20, price_points=30)

    def take(session, index):
        rider = session.get(User, world.ids["rider"])
        return vouchers.issue_voucher(session, rider, shops.offer,
                                      idempotency_key=f"take:{index}")[0].id

    outcomes = run_together(pg_engine, 10, take)
    assert Counter(type(o).__name__ for o in outcomes) == {
        "int": RIDER_POINTS // 30, "InsufficientPoints": 10 - RIDER_POINTS // 30}
    assert all(isinstance(o, (int, InsufficientPoints)) for o in outcomes)
    with Session(pg_engine) as session:
        wallet = ledger.balance(session, world.wallet("rider"))
        assert wallet.available == RIDER_POINTS % 30
        assert session.get(Offer, shops.offer).stock_left == 50 - RIDER_POINTS // 30
    assert_ledger_sound(pg_engine)


def test_takes_cancellations_and_expiry_at_once_neither_deadlock_nor_lose_stock(pg_engine,
                                                                                 world):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    shops = setup(pg_engine, world, stock=40, per_person_limit=10, price_points=1)
    with Session(pg_engine) as session:
        people = []
        for number in range(8):
            person = users.create_user(session, f"mixer{number}", PASSWORD, role="volunteer",
                                       area_code="sanyuan")
            world.ids[person.username] = person.id
            give_points(session, world, person.username, 50, f"mixer:{number}")
            people.append(person)
        held = [vouchers.issue_voucher(session, people[n], shops.offer,
                                       idempotency_key=f"held:{n}")[0].id for n in range(8)]
        lapsed = [vouchers.issue_voucher(session, people[n], shops.offer,
                                         idempotency_key=f"lapsed:{n}")[0].id
                  for n in range(8)]
        session.execute(update(Voucher).where(Voucher.id.in_(lapsed)).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
        ids = [person.id for person in people]

    def mixed(session, index):
        person = session.get(User, ids[index % 8])
        if index < 8:
            return vouchers.cancel_voucher(session, person, held[index]).status
        if index < 16:
            return vouchers.issue_voucher(session, person, shops.offer,
                                          idempotency_key=f"new:{index}")[0].status
        return vouchers.expire_vouchers(session)

    outcomes = run_together(pg_engine, 17, mixed)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Counter(o for o in outcomes[:16]) == {"cancelled": 8, "issued": 8}
    assert outcomes[16] == 8
    with Session(pg_engine) as session:
        counted = Counter(session.scalars(select(Voucher.status).where(
            Voucher.offer_id == shops.offer)).all())
        assert counted == {"cancelled": 8, "expired": 8, "issued": 8}
        assert session.get(Offer, shops.offer).stock_left == 40 - 8
        accepted = ledger.balance(session, f"merchant:{shops.merchant}:accepted")
        assert (accepted.posted, accepted.pending) == (0, 8)
    assert_ledger_sound(pg_engine)
