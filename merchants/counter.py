"""Paying at the counter (收款码): the volunteer scans the merchant's printed QR code, picks an
offer or types an amount, and pays with one tap; or the cashier enters an amount and the till
shows a QR that pays it once within two minutes.

A counter code is ``K<counter id>-<generation>-<16 base32 of HMAC>`` under the voucher key:
issuing a new code bumps the generation, so the old poster stops working. A cashier's charge
is ``C<charge id>-<HMAC>``. Both travel in a short URL ending ``/m/<code>``.

A payment for an offer takes a voucher and redeems it in the same transaction
(``vouchers.issue_voucher`` and ``vouchers.redeem_at_counter``): stock, per-person limits,
statements and settlement are the vouchers' own. An open amount is one ledger entry from the
wallet to the merchant's accepted points and a redemption row without a voucher, which
settlement counts alike.

Concurrency: every payment first locks its merchant's row of the day (``counter_days``), then
the offer's row (inside ``issue_voucher``), then the ledger's accounts: the order every other
writer keeps (offer, then accounts), so no cycle. Under that lock the daily limits are counted
and raised in one step, and a retry of the same idempotency key finds the first payment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import ledger
from ledger import Posting, rules
from ledger.clock import CHINA, now
from volunteers import access, notifications
from volunteers.errors import Forbidden, Invalid
from volunteers.models import Area, RoleGrant, User
from volunteers.notifications import N_

from . import offers as offer_service
from . import tokens
from . import vouchers as voucher_service
from .errors import (
    ChargeExpired,
    ChargeUsed,
    CounterCodeInvalid,
    CounterCodeRevoked,
    CounterLimitReached,
    InsufficientPoints,
    OfferOfAnotherMerchant,
    OpenAmountNotAccepted,
)
from .models import (
    Counter,
    CounterCharge,
    CounterDay,
    CounterLimits,
    CounterPayment,
    Merchant,
    Offer,
    Redemption,
)

MAC_BYTES = 10  # 80 bits, 16 base32 characters
COUNTER_PATTERN = re.compile(r"^K([0-9A-Z]{1,10})-([0-9A-Z]{1,6})-([A-Z2-7]{16})$")
CHARGE_PATTERN = re.compile(r"^C([0-9A-Z]{1,10})-([A-Z2-7]{16})$")
MAX_CODE_LENGTH = 40
CHARGE_SECONDS = 120
MAX_LABEL_LENGTH = 60
MAX_COUNTERS_PER_MERCHANT = 50
MAX_PAYMENTS_LISTED = 100
CONFIRMATION_ALPHABET = tokens.SHORT_CODE_ALPHABET
CONFIRMATION_LENGTH = 4
MAX_ADMINS_TOLD = 20
# A payment is unusual when it is this many times the merchant's recent average, once the
# merchant has this many payments to average over.
UNUSUAL_SAMPLE = 50
UNUSUAL_MIN_HISTORY = 10
OPENING_HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAX_LIMIT = 1_000_000
LIMIT_FIELDS = ("open_amount_max_points", "volunteer_daily_payments", "volunteer_daily_points",
                "merchant_daily_payments", "merchant_daily_points", "unusual_factor")
DEFAULT_LIMITS = {
    "open_amount_max_points": 200,
    "volunteer_daily_payments": 5,
    "volunteer_daily_points": 500,
    "merchant_daily_payments": 500,
    "merchant_daily_points": 50_000,
    "unusual_factor": 5,
}
ADMIN = ("admin",)


# --- codes ------------------------------------------------------------------------------------


def _mac(key: str | bytes, message: str) -> str:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if not raw:
        raise ValueError("a key is required")
    digest = hmac.new(raw, message.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii")


def _base36(number: int) -> str:
    return tokens._base36(number)


def counter_code(key: str | bytes, counter: Counter) -> str:
    """What the counter's QR carries (after ``/m/``)."""
    body = f"K{_base36(counter.id)}-{_base36(counter.generation)}"
    return f"{body}-{_mac(key, 'counter:' + body)}"


def charge_code(key: str | bytes, charge: CounterCharge) -> str:
    body = f"C{_base36(charge.id)}"
    return f"{body}-{_mac(key, 'charge:' + body)}"


@dataclass(frozen=True)
class Scanned:
    """What a code names: a counter, and the cashier's charge when it is one."""

    counter: Counter
    charge: CounterCharge | None

    @property
    def merchant(self) -> Merchant:
        return self.counter.merchant


def resolve(session: Session, key: str | bytes, code: str) -> Scanned:
    """The counter (and charge) a scanned code names, or a refusal: ``counter_code_invalid``
    for anything not signed by us, ``counter_code_revoked`` for a replaced poster,
    ``counter_charge_expired`` and ``counter_charge_used`` for a cashier's code."""
    text = (code or "").strip().upper()
    if len(text) > MAX_CODE_LENGTH:
        raise CounterCodeInvalid("not a counter code")
    if (match := COUNTER_PATTERN.match(text)) is not None:
        body = text.rsplit("-", 1)[0]
        if not hmac.compare_digest(match.group(3), _mac(key, "counter:" + body)):
            raise CounterCodeInvalid("the counter code's signature does not match")
        counter = session.get(Counter, int(match.group(1), 36))
        if counter is None:
            raise CounterCodeInvalid("no counter has this code")
        if counter.generation != int(match.group(2), 36) or not counter.active:
            raise CounterCodeRevoked("this counter code was replaced by a new one",
                                     counter_id=counter.id)
        if not counter.merchant.active:
            raise CounterCodeRevoked("this merchant no longer takes payments")
        return Scanned(counter, None)
    if (match := CHARGE_PATTERN.match(text)) is not None:
        body = text.rsplit("-", 1)[0]
        if not hmac.compare_digest(match.group(2), _mac(key, "charge:" + body)):
            raise CounterCodeInvalid("the charge code's signature does not match")
        charge = session.get(CounterCharge, int(match.group(1), 36))
        if charge is None:
            raise CounterCodeInvalid("no charge has this code")
        counter = session.get(Counter, charge.counter_id)
        return Scanned(counter, charge)
    raise CounterCodeInvalid("not a counter code")


def charge_state(charge: CounterCharge, moment: datetime | None = None) -> str:
    if charge.used_at is not None:
        return "paid"
    if rules.as_utc(charge.expires_at) <= (moment or now()):
        return "expired"
    return "open"


def _refuse_charge(charge: CounterCharge, moment: datetime) -> None:
    state = charge_state(charge, moment)
    if state == "paid":
        raise ChargeUsed("this amount's code was already paid", charge_id=charge.id)
    if state == "expired":
        raise ChargeExpired("this amount's code has expired", charge_id=charge.id)


# --- counters: the main one, tills, new codes ------------------------------------------------


def main_counter(session: Session, merchant: Merchant) -> Counter:
    """The merchant's own counter QR, made the first time it is asked for."""
    counter = session.scalar(select(Counter).where(
        Counter.merchant_id == merchant.id, Counter.label.is_(None)).order_by(Counter.id))
    if counter is None:
        counter = Counter(merchant_id=merchant.id, label=None, generation=1, active=True,
                          created_at=now())
        session.add(counter)
        session.flush()
    return counter


def counters_of(session: Session, actor: User, merchant_id: int) -> list[Counter]:
    """The merchant's counters, its main one first (staff and area admins)."""
    merchant = offer_service.get_merchant(session, merchant_id)
    offer_service.require_staff_or_admin(session, actor, merchant)
    main_counter(session, merchant)
    return list(session.scalars(
        select(Counter).where(Counter.merchant_id == merchant.id, Counter.active.is_(True))
        .order_by(Counter.label.is_not(None), Counter.id).limit(MAX_COUNTERS_PER_MERCHANT)))


def get_counter(session: Session, actor: User, merchant_id: int,
                counter_id: int | None = None) -> Counter:
    """One counter of the merchant (its main one when ``counter_id`` is None)."""
    merchant = offer_service.get_merchant(session, merchant_id)
    offer_service.require_staff_or_admin(session, actor, merchant)
    if counter_id is None:
        return main_counter(session, merchant)
    counter = session.get(Counter, counter_id)
    if counter is None or counter.merchant_id != merchant.id or not counter.active:
        raise Invalid("no such counter", errors={"counter": [f"not a counter of {merchant.id}"]})
    return counter


def add_counter(session: Session, actor: User, merchant_id: int, label: str) -> Counter:
    """A QR for one more till of the merchant (labelled, e.g. "2号收银台")."""
    merchant = offer_service.get_merchant(session, merchant_id)
    offer_service.require_staff_or_admin(session, actor, merchant)
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise Invalid("a till needs a name", errors={"label": [f"1 to {MAX_LABEL_LENGTH}"]})
    count = session.scalar(select(func.count()).select_from(Counter).where(
        Counter.merchant_id == merchant.id))
    if count >= MAX_COUNTERS_PER_MERCHANT:
        raise Invalid("too many tills", errors={"label": [f"at most {MAX_COUNTERS_PER_MERCHANT}"]})
    counter = Counter(merchant_id=merchant.id, label=label, generation=1, active=True,
                      created_at=now())
    session.add(counter)
    session.flush()
    return counter


def reissue(session: Session, actor: User, merchant_id: int,
            counter_id: int | None = None) -> Counter:
    """A new code for a counter: the old poster stops working at once."""
    counter = get_counter(session, actor, merchant_id, counter_id)
    session.execute(
        update(Counter).where(Counter.id == counter.id)
        .values(generation=Counter.generation + 1, reissued_at=now(),
                reissued_by=actor.username)
        .execution_options(synchronize_session=False))
    session.refresh(counter)
    return counter


def set_counter_settings(session: Session, actor: User, merchant_id: int, *,
                         opening_hours: str | None, accepts_open_amount: bool) -> Merchant:
    """The merchant's opening hours ("08:00-21:00", None: always) and whether it takes
    amounts the volunteer types."""
    merchant = offer_service.get_merchant(session, merchant_id)
    offer_service.require_staff_or_admin(session, actor, merchant)
    opening_hours = (opening_hours or "").strip() or None
    if opening_hours is not None and _hours(opening_hours) is None:
        raise Invalid("opening hours are HH:MM-HH:MM",
                      errors={"opening_hours": ["HH:MM-HH:MM, e.g. 08:00-21:00"]})
    merchant.opening_hours = opening_hours
    merchant.accepts_open_amount = bool(accepts_open_amount)
    session.flush()
    return merchant


def _hours(text: str) -> tuple[time, time] | None:
    match = OPENING_HOURS_PATTERN.match(text or "")
    if match is None:
        return None
    opens = time(int(match.group(1)), int(match.group(2)))
    closes = time(int(match.group(3)), int(match.group(4)))
    return (opens, closes) if opens != closes else None


def is_open(merchant: Merchant, moment: datetime) -> bool:
    hours = _hours(merchant.opening_hours or "")
    if hours is None:
        return True
    opens, closes = hours
    local = rules.as_utc(moment).astimezone(CHINA).time()
    if opens < closes:
        return opens <= local < closes
    return local >= opens or local < closes  # open past midnight


# --- the programme's limits ---------------------------------------------------------------------


def limits_for(session: Session, programme_id: int) -> dict:
    row = session.get(CounterLimits, programme_id)
    if row is None:
        return dict(DEFAULT_LIMITS)
    return {name: getattr(row, name) for name in LIMIT_FIELDS}


def set_limits(session: Session, actor: User, programme, values: dict) -> dict:
    """A programme's counter limits, by administrators of its area; fields not given keep
    their value."""
    access.require(actor, ADMIN, programme.area)
    merged = limits_for(session, programme.id) | {
        name: values[name] for name in LIMIT_FIELDS if values.get(name) is not None}
    problems = {}
    for name in LIMIT_FIELDS:
        value, lowest = merged[name], 2 if name == "unusual_factor" else 1
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole or not lowest <= value <= MAX_LIMIT:
            problems[name] = [f"a whole number from {lowest} to {MAX_LIMIT}"]
    if problems:
        raise Invalid("the limits are not valid", errors=problems)
    row = session.get(CounterLimits, programme.id)
    if row is None:
        row = CounterLimits(programme_id=programme.id)
        session.add(row)
    for name in LIMIT_FIELDS:
        setattr(row, name, merged[name])
    row.updated_at, row.updated_by = now(), actor.username
    session.flush()
    return merged


# --- what the volunteer sees --------------------------------------------------------------------


@dataclass(frozen=True)
class CounterView:
    scanned: Scanned
    offers: list[Offer]
    limits: dict
    available_points: int | None


def look(session: Session, actor: User, key: str | bytes, code: str) -> CounterView:
    """The merchant behind a code, its open offers, the programme's open-amount limit and
    the volunteer's available points. A used or late charge is refused here already."""
    if actor is None:
        raise Forbidden("sign in first")
    scanned = resolve(session, key, code)
    if scanned.charge is not None:
        _refuse_charge(scanned.charge, now())
    merchant = scanned.merchant
    found = [offer for offer in offer_service.open_offers(session, actor, merchant_id=merchant.id)
             if offer.merchant_id == merchant.id]
    available = None
    if access.holds(actor, ("volunteer",)):
        available = ledger.balance(session, actor.wallet_code).available
    return CounterView(scanned, found, limits_for(session, merchant.programme_id), available)


# --- paying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paid:
    payment: CounterPayment
    merchant: Merchant
    created: bool


def _digest(scanned: Scanned, offer_id: int | None, amount_points: int | None) -> str:
    document = {"counter": scanned.counter.id,
                "charge": scanned.charge.id if scanned.charge else None,
                "offer": offer_id, "amount": amount_points}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _first(session: Session, idempotency_key: str, digest: str) -> CounterPayment | None:
    first = session.scalar(select(CounterPayment).where(
        CounterPayment.idempotency_key == idempotency_key))
    if first is not None and first.request_digest != digest:
        raise ledger.IdempotencyConflict("this idempotency key was used for another payment")
    return first


def pay(session: Session, actor: User, code: str, *, key: str | bytes, idempotency_key: str,
        offer_id: int | None = None, amount_points: int | None = None) -> Paid:
    """One payment at a counter, exactly once per idempotency key: for an offer of the
    counter's merchant, an open amount, or (a cashier's code) the amount the cashier set."""
    access.require(actor, ("volunteer",))
    scanned = resolve(session, key, code)
    merchant = scanned.merchant
    if scanned.charge is not None:
        if offer_id is not None or amount_points not in (None, scanned.charge.amount_points):
            raise Invalid("this code pays the amount the cashier set",
                          errors={"amount_points": [str(scanned.charge.amount_points)]})
        amount_points = scanned.charge.amount_points
    elif (offer_id is None) == (amount_points is None):
        raise Invalid("choose an offer or type an amount",
                      errors={"offer_id": ["an offer_id or an amount_points, not both"]})
    digest = _digest(scanned, offer_id, amount_points)
    if (first := _first(session, idempotency_key, digest)) is not None:
        return Paid(first, merchant, False)
    if not merchant.programme.area.contains(actor.area):
        raise Forbidden("this merchant is in another programme than yours",
                        merchant_id=merchant.id)
    limits = limits_for(session, merchant.programme_id)
    offer = _checked_request(session, merchant, scanned, offer_id, amount_points, limits)
    moment = now()
    day = moment.astimezone(CHINA).date().isoformat()
    tally = _lock_day(session, merchant.id, day)
    # A retry that waited for its own first attempt's lock finds that payment now.
    if (first := _first(session, idempotency_key, digest)) is not None:
        return Paid(first, merchant, False)
    price = offer.price_points if offer is not None else amount_points
    _check_daily(session, actor, merchant, day, tally, price, limits)
    if scanned.charge is not None:
        _use_charge(session, scanned.charge, moment)
    if offer is not None:
        redemption, title, price = _pay_offer(session, actor, offer, idempotency_key)
    else:
        redemption, title = _pay_amount(session, actor, merchant, amount_points,
                                        idempotency_key, moment), None
    session.execute(
        update(CounterDay).where(CounterDay.merchant_id == merchant.id, CounterDay.day == day)
        .values(payments=CounterDay.payments + 1, points=CounterDay.points + price)
        .execution_options(synchronize_session=False))
    payment = CounterPayment(
        counter_id=scanned.counter.id, merchant_id=merchant.id, volunteer_id=actor.id,
        offer_id=offer.id if offer is not None else None, voucher_id=redemption.voucher_id,
        charge_id=scanned.charge.id if scanned.charge else None, redemption_id=redemption.id,
        amount_points=price, title=(title or "")[:120], confirmation_code=_confirmation(),
        idempotency_key=idempotency_key, request_digest=digest, day=day, created_at=moment)
    session.add(payment)
    session.flush()
    _flag(session, payment, merchant, tally, limits, moment)
    return Paid(payment, merchant, True)


def _checked_request(session: Session, merchant: Merchant, scanned: Scanned,
                     offer_id: int | None, amount_points: int | None,
                     limits: dict) -> Offer | None:
    if offer_id is not None:
        offer = offer_service.get_offer(session, offer_id)
        if offer.merchant_id != merchant.id:
            raise OfferOfAnotherMerchant(f"offer {offer_id} is not {merchant.name}'s",
                                         offer_id=offer_id)
        return offer
    if isinstance(amount_points, bool) or not isinstance(amount_points, int) or amount_points < 1:
        raise Invalid("an amount is a whole number of points",
                      errors={"amount_points": ["a whole number, at least 1"]})
    if scanned.charge is None and not merchant.accepts_open_amount:
        raise OpenAmountNotAccepted(f"{merchant.name} takes its offers only")
    if amount_points > limits["open_amount_max_points"]:
        raise CounterLimitReached(
            f"at most {limits['open_amount_max_points']} points in one payment",
            limit="open_amount_max_points", allowed=limits["open_amount_max_points"])
    return None


def _lock_day(session: Session, merchant_id: int, day: str) -> CounterDay:
    """The merchant's tally of the day, created if missing, locked until commit."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(CounterDay).values(merchant_id=merchant_id, day=day, payments=0,
                                              points=0).on_conflict_do_nothing())
    tally = session.scalar(
        select(CounterDay).where(CounterDay.merchant_id == merchant_id, CounterDay.day == day)
        .with_for_update().execution_options(populate_existing=True))
    assert tally is not None
    return tally


def _check_daily(session: Session, actor: User, merchant: Merchant, day: str,
                 tally: CounterDay, price: int, limits: dict) -> None:
    count, points = session.execute(
        select(func.count(), func.coalesce(func.sum(CounterPayment.amount_points), 0)).where(
            CounterPayment.merchant_id == merchant.id, CounterPayment.day == day,
            CounterPayment.volunteer_id == actor.id)).one()
    for limit, used, more in (
        ("volunteer_daily_payments", count, 1),
        ("volunteer_daily_points", points, price),
        ("merchant_daily_payments", tally.payments, 1),
        ("merchant_daily_points", tally.points, price),
    ):
        if used + more > limits[limit]:
            raise CounterLimitReached(f"{limit}: {used} used of {limits[limit]}",
                                      limit=limit, allowed=limits[limit])


def _use_charge(session: Session, charge: CounterCharge, moment: datetime) -> None:
    used = session.execute(
        update(CounterCharge).where(CounterCharge.id == charge.id,
                                    CounterCharge.used_at.is_(None),
                                    CounterCharge.expires_at > moment)
        .values(used_at=moment).returning(CounterCharge.id)
        .execution_options(synchronize_session=False)).scalar()
    session.refresh(charge)
    if used is None:
        _refuse_charge(charge, moment)
        raise ChargeUsed("this amount's code was already paid", charge_id=charge.id)


def _pay_offer(session: Session, actor: User, offer: Offer,
               idempotency_key: str) -> tuple[Redemption, str, int]:
    voucher, _created = voucher_service.issue_voucher(
        session, actor, offer.id, idempotency_key=f"{idempotency_key}:voucher")
    redemption = voucher_service.redeem_at_counter(
        session, actor, voucher, idempotency_key=f"{idempotency_key}:redeem")
    return redemption, offer.title, voucher.price_points


def _pay_amount(session: Session, actor: User, merchant: Merchant, amount_points: int,
                idempotency_key: str, moment: datetime) -> Redemption:
    try:
        result = ledger.post(
            session, idempotency_key=f"{idempotency_key}:pay", kind="counter_payment",
            postings=[Posting(actor.wallet_code, -amount_points, "POINT"),
                      Posting(merchant.accepted_account, amount_points, "POINT")],
            reference=f"merchant:{merchant.id}",
            memo=f"{merchant.name} · counter"[:rules.MAX_MEMO_LENGTH], actor=actor.username)
    except ledger.InsufficientPoints as error:
        raise InsufficientPoints(
            f"{error.details.get('available')} points available, the payment is "
            f"{amount_points}", available=error.details.get("available"),
            price_points=amount_points) from error
    redemption = Redemption(
        voucher_id=None, merchant_id=merchant.id, staff_user_id=None,
        price_points=amount_points, entry_id=result.entry_id,
        idempotency_key=f"{idempotency_key}:redeem", redeemed_at=moment)
    session.add(redemption)
    session.flush()
    return redemption


def _confirmation() -> str:
    return "".join(secrets.choice(CONFIRMATION_ALPHABET) for _ in range(CONFIRMATION_LENGTH))


# --- flags to the area's admins -----------------------------------------------------------------


def _flag(session: Session, payment: CounterPayment, merchant: Merchant, tally: CounterDay,
          limits: dict, moment: datetime) -> None:
    """Outside opening hours, or far above the merchant's usual: the admins over its area
    are told (once per payment; the day's volume once, when it crosses)."""
    reasons = []
    if not is_open(merchant, moment):
        reasons.append("outside_hours")
    factor = limits["unusual_factor"]
    recent = session.scalars(
        select(CounterPayment.amount_points).where(
            CounterPayment.merchant_id == merchant.id, CounterPayment.id < payment.id)
        .order_by(CounterPayment.id.desc()).limit(UNUSUAL_SAMPLE)).all()
    if len(recent) >= UNUSUAL_MIN_HISTORY and payment.amount_points > factor * (
            sum(recent) / len(recent)):
        reasons.append("unusual_amount")
    usual = _usual_daily_payments(session, merchant.id, payment.day)
    if usual is not None and tally.payments + 1 == max(UNUSUAL_MIN_HISTORY,
                                                      int(factor * usual) + 1):
        reasons.append("unusual_volume")
    if not reasons:
        return
    payment.flags = ",".join(reasons)
    session.flush()
    messages = {
        "outside_hours": N_("%(merchant)s took a counter payment of %(points)s points outside "
                            "its opening hours."),
        "unusual_amount": N_("%(merchant)s took a counter payment of %(points)s points, far "
                             "above its usual amounts."),
        "unusual_volume": N_("%(merchant)s has taken far more counter payments today than "
                             "usual."),
    }
    for user_id in area_admins(session, merchant.area):
        for reason in reasons:
            notifications.notify(
                session, user_id, messages[reason],
                {"merchant": merchant.name, "points": payment.amount_points},
                link=f"/merchant/statement?merchant={merchant.id}",
                reference=f"counter_payment:{payment.id}")


def _usual_daily_payments(session: Session, merchant_id: int, day: str) -> float | None:
    """The merchant's average payments per day over the 28 days before, None without a
    week's history."""
    since = (datetime.fromisoformat(day) - timedelta(days=28)).date().isoformat()
    rows = session.scalars(select(CounterDay.payments).where(
        CounterDay.merchant_id == merchant_id, CounterDay.day >= since,
        CounterDay.day < day)).all()
    if len(rows) < 7:
        return None
    return sum(rows) / len(rows)


def area_admins(session: Session, area: Area) -> list[int]:
    """The users administering ``area`` or an area above it."""
    rows = session.execute(
        select(RoleGrant.user_id, Area.path).join(Area, Area.id == RoleGrant.area_id)
        .where(RoleGrant.role == "admin").order_by(RoleGrant.user_id)).all()
    found = []
    for user_id, path in rows:
        if area.path.startswith(path) and user_id not in found:
            found.append(user_id)
    return found[:MAX_ADMINS_TOLD]


# --- the cashier's amount and the live list ------------------------------------------------------


def create_charge(session: Session, actor: User, merchant_id: int, amount_points: int,
                  counter_id: int | None = None) -> CounterCharge:
    """An amount the cashier entered: its QR pays it once, within two minutes."""
    counter = get_counter(session, actor, merchant_id, counter_id)
    if not access.holds(actor, ("merchant",)) or not offer_service.is_staff(
            session, actor, merchant_id):
        raise Forbidden("only the merchant's staff set amounts at its till")
    limits = limits_for(session, counter.merchant.programme_id)
    highest = limits["open_amount_max_points"]
    if isinstance(amount_points, bool) or not isinstance(amount_points, int) or not (
            1 <= amount_points <= highest):
        raise Invalid("the amount is outside the programme's limits",
                      errors={"amount_points": [f"1 to {highest}"]})
    moment = now()
    charge = CounterCharge(counter_id=counter.id, merchant_id=merchant_id,
                           amount_points=amount_points, created_by_id=actor.id,
                           created_at=moment, expires_at=moment + timedelta(
                               seconds=CHARGE_SECONDS))
    session.add(charge)
    session.flush()
    return charge


def get_charge(session: Session, actor: User, charge_id: int) -> CounterCharge:
    charge = session.get(CounterCharge, charge_id)
    if charge is None:
        raise Invalid("no such charge", errors={"charge": ["unknown"]})
    offer_service.require_staff_or_admin(
        session, actor, offer_service.get_merchant(session, charge.merchant_id))
    return charge


def payments_since(session: Session, actor: User, merchant_id: int, *,
                   since_id: int | None = None, since_at: datetime | None = None,
                   limit: int = MAX_PAYMENTS_LISTED) -> list[CounterPayment]:
    """The merchant's counter payments after a payment id (or a moment), oldest first; with
    neither, today's (China time) last ones."""
    merchant = offer_service.get_merchant(session, merchant_id)
    offer_service.require_staff_or_admin(session, actor, merchant)
    limit = max(1, min(limit, MAX_PAYMENTS_LISTED))
    query = select(CounterPayment).where(CounterPayment.merchant_id == merchant.id)
    if since_id is not None:
        query = query.where(CounterPayment.id > since_id).order_by(CounterPayment.id).limit(limit)
        return list(session.scalars(query))
    if since_at is not None:
        query = query.where(CounterPayment.created_at > rules.as_utc(since_at))
        return list(session.scalars(query.order_by(CounterPayment.id).limit(limit)))
    today = now().astimezone(CHINA).date().isoformat()
    rows = session.scalars(query.where(CounterPayment.day == today)
                           .order_by(CounterPayment.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def last_payment_id(session: Session, merchant_id: int) -> int:
    return session.scalar(select(func.coalesce(func.max(CounterPayment.id), 0)).where(
        CounterPayment.merchant_id == merchant_id)) or 0


def own_payment(session: Session, actor: User, payment_id: int) -> CounterPayment:
    payment = session.get(CounterPayment, payment_id)
    if payment is None or payment.volunteer_id != actor.id:
        raise Forbidden("this payment is not yours", payment_id=payment_id)
    return payment
