"""Paying at the counter QR at the service layer, on both databases: an offer through the
vouchers' own take-and-redeem path, an open amount, a cashier's one-time charge, new codes
that retire old posters, the programme's daily limits, flags to the area's admins, and
settlement counting counter payments like vouchers. Every refusal leaves everything as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import ledger
from merchants import counter, settlement
from merchants.errors import (
    ChargeExpired,
    ChargeUsed,
    CounterCodeInvalid,
    CounterCodeRevoked,
    CounterLimitReached,
    InsufficientPoints,
    OfferOfAnotherMerchant,
    OpenAmountNotAccepted,
    OutOfStock,
)
from merchants.models import CounterCharge, CounterPayment, Merchant, Offer, Redemption, Voucher
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops
from volunteers import programmes
from volunteers.errors import Invalid
from volunteers.models import Notification, User

KEY = "counter-test-key"


@pytest.fixture
def db_session(app):
    from web.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def shops(db_session, world):
    return build_shops(db_session, world, stock=5, per_person_limit=5)


def person(session, world, name):
    return session.get(User, world.ids[name])


def code_of(session, world, shops, merchant=None):
    admin = person(session, world, "root_admin")
    found = counter.get_counter(session, admin, merchant or shops.merchant)
    return counter.counter_code(KEY, found)


def pay(session, world, shops, key="k1", name="rider", code=None, **request):
    code = code or code_of(session, world, shops)
    return counter.pay(session, person(session, world, name), code, key=KEY,
                       idempotency_key=key, **request)


def state(session) -> tuple:
    session.flush()
    return (
        tuple(session.execute(select(ledger.Account.code, ledger.Account.posted,
                                     ledger.Account.pending_out)
                              .order_by(ledger.Account.code)).all()),
        session.scalar(select(func.count()).select_from(CounterPayment)),
        session.scalar(select(func.count()).select_from(Redemption)),
        tuple(session.execute(select(Offer.id, Offer.stock_left).order_by(Offer.id)).all()),
    )


def refused(session, error, work):
    before = state(session)
    nested = session.begin_nested()
    with pytest.raises(error) as caught:
        work()
    nested.rollback()
    assert state(session) == before
    return caught.value


def test_paying_for_an_offer_takes_and_redeems_a_voucher_once(db_session, world, shops):
    session = db_session
    paid = pay(session, world, shops, offer_id=shops.offer)
    payment = paid.payment
    assert paid.created and payment.amount_points == OFFER_PRICE_POINTS
    assert payment.title == "盖碗茶一杯" and len(payment.confirmation_code) == 4
    voucher = session.get(Voucher, payment.voucher_id)
    assert (voucher.status, voucher.offer_id) == ("redeemed", shops.offer)
    redemption = session.get(Redemption, payment.redemption_id)
    assert (redemption.voucher_id, redemption.staff_user_id) == (voucher.id, None)
    assert session.get(Offer, shops.offer).stock_left == 4
    wallet = ledger.balance(session, world.wallet("rider"))
    assert (wallet.posted, wallet.pending) == (RIDER_POINTS - OFFER_PRICE_POINTS, 0)
    assert ledger.balance(session, f"merchant:{shops.merchant}:accepted").posted == \
        OFFER_PRICE_POINTS
    again = pay(session, world, shops, offer_id=shops.offer)
    assert (again.created, again.payment.id) == (False, payment.id)
    refused(session, ledger.IdempotencyConflict,
            lambda: pay(session, world, shops, amount_points=5))
    assert ledger.balance(session, world.wallet("rider")).posted == \
        RIDER_POINTS - OFFER_PRICE_POINTS


def test_bad_codes_and_requests_are_refused_with_nothing_moved(db_session, world, shops):
    session = db_session
    good = code_of(session, world, shops)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    refused(session, CounterCodeInvalid, lambda: pay(session, world, shops, code=forged,
                                                     offer_id=shops.offer))
    refused(session, CounterCodeInvalid, lambda: pay(session, world, shops, code="JD1:1:X",
                                                     offer_id=shops.offer))
    refused(session, OfferOfAnotherMerchant,
            lambda: pay(session, world, shops, offer_id=shops.other_offer))
    refused(session, OpenAmountNotAccepted, lambda: pay(session, world, shops, amount_points=5))
    refused(session, Invalid, lambda: pay(session, world, shops))
    admin = person(session, world, "root_admin")
    counter.reissue(session, admin, shops.merchant)
    refused(session, CounterCodeRevoked, lambda: pay(session, world, shops, code=good,
                                                     offer_id=shops.offer))
    assert pay(session, world, shops, offer_id=shops.offer).created


def test_an_open_amount_stays_within_the_limits_and_the_wallet(db_session, world, shops):
    session = db_session
    admin = person(session, world, "root_admin")
    counter.set_counter_settings(session, admin, shops.merchant, opening_hours=None,
                                 accepts_open_amount=True)
    paid = pay(session, world, shops, amount_points=12)
    redemption = session.get(Redemption, paid.payment.redemption_id)
    assert (redemption.voucher_id, redemption.price_points) == (None, 12)
    error = refused(session, CounterLimitReached,
                    lambda: pay(session, world, shops, key="k2", amount_points=201))
    assert (error.code, error.body["limit"]) == ("limit_reached", "open_amount_max_points")
    programme = programmes.get_programme(session, world.programme)
    counter.set_limits(session, admin, programme, {"open_amount_max_points": 1_000})
    refused(session, InsufficientPoints,
            lambda: pay(session, world, shops, key="k3", amount_points=RIDER_POINTS))
    refused(session, Invalid, lambda: pay(session, world, shops, key="k4", amount_points=0))


def test_daily_limits_per_volunteer_and_per_merchant(db_session, world, shops):
    session = db_session
    admin = person(session, world, "root_admin")
    counter.set_counter_settings(session, admin, shops.merchant, opening_hours=None,
                                 accepts_open_amount=True)
    programme = programmes.get_programme(session, world.programme)
    counter.set_limits(session, admin, programme, {"volunteer_daily_payments": 2,
                                                   "merchant_daily_points": 25})
    pay(session, world, shops, key="a", amount_points=5)
    pay(session, world, shops, key="b", amount_points=5)
    error = refused(session, CounterLimitReached,
                    lambda: pay(session, world, shops, key="c", amount_points=5))
    assert error.body == {"limit": "volunteer_daily_payments", "allowed": 2}
    pay(session, world, shops, key="d", name="rider2", amount_points=10)
    error = refused(session, CounterLimitReached,
                    lambda: pay(session, world, shops, key="e", name="rider2", amount_points=6))
    assert error.body["limit"] == "merchant_daily_points"
    # Another merchant's day is its own.
    counter.set_counter_settings(session, admin, shops.other_merchant, opening_hours=None,
                                 accepts_open_amount=True)
    assert pay(session, world, shops, key="f", amount_points=5,
               code=code_of(session, world, shops, shops.other_merchant)).created


def test_a_cashiers_amount_pays_once_and_expires(db_session, world, shops):
    session = db_session
    till = person(session, world, "till")
    charge = counter.create_charge(session, till, shops.merchant, 15)
    code = counter.charge_code(KEY, charge)
    view = counter.look(session, person(session, world, "rider"), KEY, code)
    assert view.scanned.charge.amount_points == 15
    paid = pay(session, world, shops, code=code)
    assert (paid.payment.amount_points, paid.payment.charge_id) == (15, charge.id)
    assert counter.charge_state(charge) == "paid"
    refused(session, ChargeUsed, lambda: pay(session, world, shops, key="k2", name="rider2",
                                             code=code))
    late = counter.create_charge(session, till, shops.merchant, 15)
    session.execute(update(CounterCharge).where(CounterCharge.id == late.id)
                    .values(expires_at=late.created_at - timedelta(seconds=1)))
    session.expire(late)
    refused(session, ChargeExpired, lambda: pay(session, world, shops, key="k3",
                                                code=counter.charge_code(KEY, late)))
    refused(session, Invalid, lambda: counter.create_charge(session, till, shops.merchant, 0))


def test_stock_runs_out_for_counter_payments_as_for_vouchers(db_session, world, shops):
    session = db_session
    session.execute(update(Offer).where(Offer.id == shops.offer).values(stock_left=1))
    pay(session, world, shops, key="a", offer_id=shops.offer)
    refused(session, OutOfStock, lambda: pay(session, world, shops, key="b", name="rider2",
                                             offer_id=shops.offer))


def test_a_payment_outside_opening_hours_is_flagged_to_the_area_admins(db_session, world,
                                                                        shops):
    session = db_session
    admin = person(session, world, "root_admin")
    from ledger.clock import CHINA, now

    hour = now().astimezone(CHINA).hour
    closed = f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"
    counter.set_counter_settings(session, admin, shops.merchant, opening_hours=closed,
                                 accepts_open_amount=False)
    paid = pay(session, world, shops, offer_id=shops.offer)
    assert paid.payment.flags == "outside_hours"
    told = set(session.scalars(select(Notification.user_id).where(
        Notification.reference == f"counter_payment:{paid.payment.id}")))
    assert told == {world.ids["root_admin"], world.ids["second_admin"], world.ids["xindu_admin"]}
    with pytest.raises(Invalid):
        counter.set_counter_settings(session, admin, shops.merchant, opening_hours="25:00-1",
                                     accepts_open_amount=False)


def test_settlement_counts_counter_payments_like_vouchers(db_session, world, shops):
    session = db_session
    admin = person(session, world, "root_admin")
    counter.set_counter_settings(session, admin, shops.merchant, opening_hours=None,
                                 accepts_open_amount=True)
    pay(session, world, shops, key="a", offer_id=shops.offer)
    pay(session, world, shops, key="b", name="rider2", amount_points=7)
    last_month = settlement.previous_period()
    session.execute(update(Redemption).values(
        redeemed_at=settlement.period_end(last_month) - timedelta(days=2)))
    settlement.set_rate(session, admin, world.programme, 10)
    outcomes = settlement.settle(session, admin, last_month, programme_code=world.programme)
    mine = [o for o in outcomes if o.merchant_id == shops.merchant]
    assert (mine[0].settlement.redemptions, mine[0].settlement.points) == (
        2, OFFER_PRICE_POINTS + 7)
    assert mine[0].settlement.amount_fen == (OFFER_PRICE_POINTS + 7) * 10
    assert session.get(Merchant, shops.merchant).accepts_open_amount
