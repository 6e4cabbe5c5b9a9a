"""Vouchers: taking an offer (a ledger hold), redeeming at the till (posting the hold once),
cancelling and expiring (voiding it).

Concurrency: every taker of an offer passes one conditional ``UPDATE offers ... WHERE
stock_left > 0``, which also locks the offer's row until commit, so the per-person count that
follows sees every voucher committed before it; the wallet's overdraft is refused atomically by
the ledger. Every change of a voucher's state is one conditional ``UPDATE vouchers ... WHERE
status = 'issued'``: of two tills scanning at the same moment exactly one changes the row, and
the redemption row is unique per voucher besides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import ledger
import ledger.ddl
from ledger import Posting, rules
from ledger.clock import now
from volunteers import access, notifications
from volunteers.errors import Conflict, Forbidden, NotFound
from volunteers.models import Notification, User
from volunteers.notifications import N_

from . import offers as offer_service
from . import tokens
from .errors import (
    InsufficientPoints,
    LimitReached,
    OutOfStock,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherInvalid,
    VoucherWrongMerchant,
)
from .models import Merchant, MerchantStaff, Offer, Redemption, Voucher
from .verdicts import RedeemVerdict

MAX_SHORT_CODE_ATTEMPTS = 8
MAX_VOUCHERS_LISTED = 200
MAX_EXPIRED_PER_RUN = 500
COUNTED_STATUSES = ("issued", "redeemed")


class OfferClosed(Conflict):
    """The offer is not open: not yet started, ended or withdrawn."""

    code = "offer_closed"


def state(voucher: Voucher, moment: datetime | None = None) -> str:
    """What the voucher is now: an issued voucher past its deadline reads as expired even
    before the sweep marks it."""
    if voucher.status == "issued" and rules.as_utc(voucher.expires_at) <= (moment or now()):
        return "expired"
    return voucher.status


# --- taking an offer --------------------------------------------------------------------------


def issue_voucher(session: Session, actor: User, offer_id: int, *,
                  idempotency_key: str) -> tuple[Voucher, bool]:
    """Take an offer: one voucher holding its price on the volunteer's wallet. A retry with
    the same key answers the first voucher (and False)."""
    access.require(actor, ("volunteer",))
    existing = session.scalar(select(Voucher).where(Voucher.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.offer_id != offer_id or existing.volunteer_id != actor.id:
            raise ledger.IdempotencyConflict("this idempotency key was used for another voucher")
        return existing, False
    offer = offer_service.get_offer(session, offer_id)
    if not offer_service.may_take(actor, offer):
        raise Forbidden("this offer is for another programme's volunteers", offer_id=offer_id)
    moment = now()
    if not (offer.active and offer.merchant.active
            and rules.as_utc(offer.valid_from) <= moment < rules.as_utc(offer.valid_until)):
        raise OfferClosed(f"offer {offer_id} is not open", offer_id=offer_id)
    _take_one_from_stock(session, offer, moment)
    taken = session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.offer_id == offer.id, Voucher.volunteer_id == actor.id,
        Voucher.status.in_(COUNTED_STATUSES)))
    if taken >= offer.per_person_limit:
        raise LimitReached(f"you already hold {taken} of this offer's vouchers",
                           limit=offer.per_person_limit)
    voucher = Voucher(
        offer=offer, merchant_id=offer.merchant_id, volunteer_id=actor.id,
        price_points=offer.price_points, short_code=_unused_short_code(session),
        status="issued", idempotency_key=idempotency_key, issued_at=moment,
        expires_at=offer_service.voucher_deadline(offer, moment),
    )
    session.add(voucher)
    session.flush()
    voucher.hold_entry_id = _hold(session, actor, offer, voucher)
    session.flush()
    return voucher, True


def _take_one_from_stock(session: Session, offer: Offer, moment: datetime) -> None:
    """One unit of stock, if the offer is still open: the UPDATE re-checks the flag and the
    window on the row it locks and hands back the terms as they are now, so an edit or a
    withdrawal committed a moment ago is what this voucher gets (a new price applies to
    vouchers taken after it)."""
    terms = session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.stock_left > 0, Offer.active.is_(True),
                            Offer.valid_from <= moment, Offer.valid_until > moment)
        .values(stock_left=Offer.stock_left - 1)
        .returning(Offer.stock_left, Offer.price_points, Offer.per_person_limit,
                   Offer.valid_until, Offer.voucher_valid_days, Offer.title)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if terms is None:
        session.refresh(offer)
        if offer_service.offer_status(offer, moment) in ("withdrawn", "upcoming", "ended"):
            raise OfferClosed(f"offer {offer.id} is not open", offer_id=offer.id)
        raise OutOfStock(f"offer {offer.id} is out of stock", offer_id=offer.id)
    for name, value in terms._asdict().items():
        set_committed_value(offer, name, value)


def _unused_short_code(session: Session) -> str:
    for _ in range(MAX_SHORT_CODE_ATTEMPTS):
        code = tokens.new_short_code()
        if session.scalar(select(Voucher.id).where(Voucher.short_code == code)) is None:
            return code
    raise AssertionError("no unused short code found; the alphabet is exhausted")


def _hold(session: Session, actor: User, offer: Offer, voucher: Voucher) -> int:
    try:
        result = ledger.hold(
            session, idempotency_key=f"voucher:{voucher.id}:hold", kind="voucher_hold",
            postings=[Posting(actor.wallet_code, -offer.price_points, "POINT"),
                      Posting(offer.merchant.accepted_account, offer.price_points, "POINT")],
            expires_at=voucher.expires_at, reference=f"voucher:{voucher.id}",
            memo=f"{offer.merchant.name} · {offer.title}"[:rules.MAX_MEMO_LENGTH],
            actor=actor.username,
        )
    except ledger.InsufficientPoints as error:
        raise InsufficientPoints(
            f"{error.details.get('available')} points available, the offer costs "
            f"{offer.price_points}", available=error.details.get("available"),
            price_points=offer.price_points) from error
    return result.entry_id


# --- finding a voucher ------------------------------------------------------------------------


def get_voucher(session: Session, voucher_id: int) -> Voucher:
    voucher = session.get(Voucher, voucher_id)
    if voucher is None:
        raise NotFound(f"no voucher {voucher_id}", voucher_id=voucher_id)
    return voucher


def own_voucher(session: Session, actor: User, voucher_id: int) -> Voucher:
    """The voucher, for its owner only."""
    voucher = get_voucher(session, voucher_id)
    if voucher.volunteer_id != actor.id:
        raise Forbidden("this voucher is not yours", voucher_id=voucher_id)
    return voucher


def vouchers_of(session: Session, actor: User, *, status: str | None = None) -> list[Voucher]:
    query = (select(Voucher).where(Voucher.volunteer_id == actor.id)
             .order_by(Voucher.id.desc()).limit(MAX_VOUCHERS_LISTED))
    if status is not None:
        query = query.where(Voucher.status == status)
    return list(session.scalars(query))


def voucher_for_code(session: Session, key: str | bytes, code: str) -> Voucher:
    """The voucher a scanned token or a typed short code names, or ``VoucherInvalid``."""
    if tokens.looks_like_token(code):
        voucher = session.get(Voucher, tokens.verify(key, code))
    else:
        short_code = tokens.normalise_short_code(code)
        if short_code is None:
            raise VoucherInvalid("not a voucher code")
        voucher = session.scalar(select(Voucher).where(Voucher.short_code == short_code))
    if voucher is None:
        raise VoucherInvalid("no voucher has this code")
    return voucher


# --- redeeming at the till --------------------------------------------------------------------


@dataclass(frozen=True)
class Redeemed:
    """What the till is told. ``created`` is False when this idempotency key had already
    redeemed the voucher (a till's retry): the answer is then the first redemption's."""

    redemption_id: int
    voucher_id: int
    merchant_id: int
    price_points: int
    offer_title: str
    merchant_name: str
    short_code: str
    redeemed_at: datetime
    entry_id: int
    created: bool


def redeem_voucher(session: Session, actor: User, code: str, *, key: str | bytes,
                   idempotency_key: str) -> Redeemed:
    """A merchant's till redeems a voucher: exactly once, even when two tills scan it at the
    same moment. A retry with the same idempotency key answers the first redemption.

    On PostgreSQL one read and one function call (``redeem_in_postgres``); elsewhere through
    the ORM (``redeem_with_orm``). Both write the same rows and refuse alike."""
    if ledger.ddl.has_stored_functions(session.get_bind()):
        return redeem_in_postgres(session, actor, code, key=key, idempotency_key=idempotency_key)
    return redeem_with_orm(session, actor, code, key=key, idempotency_key=idempotency_key)


def redeem_with_orm(session: Session, actor: User, code: str, *, key: str | bytes,
                    idempotency_key: str) -> Redeemed:
    """``redeem_voucher`` through the ORM and ``ledger.post_hold``, on any database."""
    access.require(actor, ("merchant",))
    voucher = voucher_for_code(session, key, code)
    if not offer_service.is_staff(session, actor, voucher.merchant_id):
        raise VoucherWrongMerchant("this voucher belongs to another merchant",
                                   voucher_id=voucher.id)
    if (first := _first_redemption(session, idempotency_key, voucher.id)) is not None:
        return first
    moment = now()
    hold_entry_id = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.status == "issued",
                              Voucher.expires_at > moment)
        .values(status="redeemed", redeemed_at=moment).returning(Voucher.hold_entry_id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if hold_entry_id is None:
        session.refresh(voucher)
        # A retry that raced its own first attempt (it waited for that scan's row lock).
        if (first := _first_redemption(session, idempotency_key, voucher.id)) is not None:
            return first
        _refuse(voucher.id, voucher.status, voucher.expires_at, voucher.redeemed_at, moment)
    # What the row now holds, without reading it back.
    set_committed_value(voucher, "status", "redeemed")
    set_committed_value(voucher, "redeemed_at", moment)
    try:
        result = ledger.post_hold(
            session, hold_entry_id, idempotency_key=_settlement_key(voucher.id),
            kind="voucher_redeem", actor=actor.username, at=moment,
        )
    except (ledger.HoldExpired, ledger.HoldNotPending) as error:
        raise VoucherExpired("this voucher's hold has lapsed", voucher_id=voucher.id) from error
    redemption = Redemption(
        voucher_id=voucher.id, merchant_id=voucher.merchant_id, staff_user_id=actor.id,
        price_points=voucher.price_points, entry_id=result.entry_id,
        idempotency_key=idempotency_key, redeemed_at=moment,
    )
    session.add(redemption)
    session.add(Notification(**_redeemed_notification(
        voucher.id, voucher.volunteer_id, voucher.offer.title, voucher.merchant.name,
        voucher.price_points)))
    session.flush()
    return _answer(redemption, voucher.offer.title, voucher.merchant.name, voucher.short_code,
                   created=True)


def redeem_at_counter(session: Session, volunteer: User, voucher: Voucher, *,
                      idempotency_key: str) -> Redemption:
    """A voucher the volunteer took at a counter QR this very moment, redeemed by that same
    payment (``counter.pay``): the same conditional change, hold posting and redemption row
    as a till's scan, so stock, per-person limits, statements and settlement stay one. No
    till user scanned it, and the volunteer is told on the confirmation page instead."""
    assert voucher.volunteer_id == volunteer.id, (voucher.id, volunteer.id)
    moment = now()
    hold_entry_id = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.status == "issued")
        .values(status="redeemed", redeemed_at=moment).returning(Voucher.hold_entry_id)
        .execution_options(synchronize_session=False)
    ).scalar()
    assert hold_entry_id is not None, f"voucher {voucher.id} taken at the counter was changed"
    set_committed_value(voucher, "status", "redeemed")
    set_committed_value(voucher, "redeemed_at", moment)
    result = ledger.post_hold(session, hold_entry_id,
                              idempotency_key=_settlement_key(voucher.id),
                              kind="voucher_redeem", actor=volunteer.username, at=moment)
    redemption = Redemption(
        voucher_id=voucher.id, merchant_id=voucher.merchant_id, staff_user_id=None,
        price_points=voucher.price_points, entry_id=result.entry_id,
        idempotency_key=idempotency_key, redeemed_at=moment)
    session.add(redemption)
    session.flush()
    return redemption


def _settlement_key(voucher_id: int) -> str:
    return f"voucher:{voucher_id}:redeem"


def _redeemed_notification(voucher_id: int, volunteer_id: int, offer_title: str,
                           merchant_name: str, price_points: int) -> dict:
    return notifications.notification_row(
        volunteer_id,
        N_("Your voucher “%(title)s” was redeemed at %(merchant)s: %(points)s points spent."),
        {"title": offer_title, "merchant": merchant_name, "points": price_points},
        link=f"/vouchers/{voucher_id}", reference=f"voucher:{voucher_id}")


def _answer(redemption, offer_title: str, merchant_name: str, short_code: str, *,
            created: bool) -> Redeemed:
    return Redeemed(
        redemption_id=redemption.id, voucher_id=redemption.voucher_id,
        merchant_id=redemption.merchant_id, price_points=redemption.price_points,
        offer_title=offer_title, merchant_name=merchant_name, short_code=short_code,
        redeemed_at=rules.as_utc(redemption.redeemed_at), entry_id=redemption.entry_id,
        created=created)


def _first_redemption(session: Session, idempotency_key: str, voucher_id: int) -> Redeemed | None:
    first = session.scalar(select(Redemption).where(
        Redemption.idempotency_key == idempotency_key))
    if first is None:
        return None
    if first.voucher_id != voucher_id:
        raise ledger.IdempotencyConflict("this idempotency key was used for another voucher")
    voucher = first.voucher
    return _answer(first, voucher.offer.title, voucher.merchant.name, voucher.short_code,
                   created=False)


def _refuse(voucher_id: int, status: str, expires_at: datetime, redeemed_at: datetime | None,
            moment: datetime) -> None:
    if status == "issued" and rules.as_utc(expires_at) <= moment:
        status = "expired"
    if status == "redeemed":
        raise VoucherAlreadyRedeemed(
            f"voucher {voucher_id} was redeemed at {redeemed_at:%Y-%m-%d %H:%M} UTC",
            voucher_id=voucher_id)
    if status == "expired":
        raise VoucherExpired(f"voucher {voucher_id} expired", voucher_id=voucher_id)
    if status == "cancelled":
        raise VoucherInvalid(f"voucher {voucher_id} was cancelled", voucher_id=voucher_id)
    raise AssertionError(f"voucher {voucher_id} is {status} but was not redeemed")


# What a scan reads on PostgreSQL, in one statement: the voucher with its offer's title and its
# merchant's name, whether the till user is that merchant's staff, the hold it carries with that
# hold's postings (one row per posting), and the redemption this idempotency key already made.
_VOUCHERS = Voucher.__table__
_FIRST = Redemption.__table__.alias("first_redemption")
_HOLD = ledger.Entry.__table__.alias("hold")
_HELD = ledger.PostingRow.__table__
_ACCOUNTS = ledger.Account.__table__
_IS_STAFF = select(MerchantStaff.__table__.c.id).where(
    MerchantStaff.__table__.c.merchant_id == _VOUCHERS.c.merchant_id,
    MerchantStaff.__table__.c.user_id == bindparam("actor_id")).exists()
_SCAN = (
    select(
        _VOUCHERS.c.id, _VOUCHERS.c.status, _VOUCHERS.c.expires_at, _VOUCHERS.c.redeemed_at,
        _VOUCHERS.c.merchant_id, _VOUCHERS.c.volunteer_id, _VOUCHERS.c.price_points,
        _VOUCHERS.c.short_code, _VOUCHERS.c.hold_entry_id,
        Offer.__table__.c.title.label("offer_title"), Merchant.__table__.c.name.label(
            "merchant_name"),
        _IS_STAFF.label("is_staff"),
        _HOLD.c.status.label("hold_status"), _HOLD.c.reference.label("hold_reference"),
        _HOLD.c.expires_at.label("hold_expires_at"),
        _ACCOUNTS.c.code.label("account"), _HELD.c.amount, _HELD.c.unit,
        _FIRST.c.id.label("first_id"), _FIRST.c.voucher_id.label("first_voucher_id"),
        _FIRST.c.merchant_id.label("first_merchant_id"),
        _FIRST.c.price_points.label("first_price_points"),
        _FIRST.c.entry_id.label("first_entry_id"),
        _FIRST.c.redeemed_at.label("first_redeemed_at"),
    )
    .select_from(
        _VOUCHERS.join(Offer.__table__, Offer.__table__.c.id == _VOUCHERS.c.offer_id)
        .join(Merchant.__table__, Merchant.__table__.c.id == _VOUCHERS.c.merchant_id)
        .outerjoin(_HOLD, _HOLD.c.id == _VOUCHERS.c.hold_entry_id)
        .outerjoin(_HELD, _HELD.c.entry_id == _HOLD.c.id)
        .outerjoin(_ACCOUNTS, _ACCOUNTS.c.id == _HELD.c.account_id)
        .outerjoin(_FIRST, _FIRST.c.idempotency_key == bindparam("scan_key")))
    .order_by(_HELD.c.id)
)
_SCAN_BY_ID = _SCAN.where(_VOUCHERS.c.id == bindparam("voucher_id"))
_SCAN_BY_SHORT_CODE = _SCAN.where(_VOUCHERS.c.short_code == bindparam("short_code"))
_REDEEM = text("SELECT merchants_redeem_voucher(CAST(:request AS jsonb))")


def redeem_in_postgres(session: Session, actor: User, code: str, *, key: str | bytes,
                       idempotency_key: str) -> Redeemed:
    """``redeem_voucher`` in two round trips: one statement reads and checks everything, then
    ``merchants_redeem_voucher`` (``sql/merchants_redeem_voucher.v1.sql``) makes the single
    conditional change, settles the hold through ``ledger_post`` with the ledger's own plan,
    and writes the redemption and the notification; it refuses, without writing, whatever
    changed since the read."""
    access.require(actor, ("merchant",))
    rows = _scan(session, key, code, actor.id, idempotency_key)
    if not rows:
        raise VoucherInvalid("no voucher has this code")
    voucher = rows[0]
    if not voucher.is_staff:
        raise VoucherWrongMerchant("this voucher belongs to another merchant",
                                   voucher_id=voucher.id)
    if voucher.first_id is not None:
        return _first_answer(voucher, voucher.first_voucher_id, voucher.first_id,
                             voucher.first_merchant_id, voucher.first_price_points,
                             voucher.first_entry_id, voucher.first_redeemed_at)
    moment = now()
    if voucher.status != "issued" or rules.as_utc(voucher.expires_at) <= moment:
        _refuse(voucher.id, voucher.status, voucher.expires_at, voucher.redeemed_at, moment)
    if voucher.hold_status != "pending":
        raise ledger.UnknownEntry(f"no hold {voucher.hold_entry_id}",
                                  entry_id=voucher.hold_entry_id)
    if rules.as_utc(voucher.hold_expires_at) <= moment:
        raise VoucherExpired("this voucher's hold has lapsed", voucher_id=voucher.id)
    document = ledger.plan_post_hold(
        voucher.hold_entry_id, [Posting(row.account, row.amount, row.unit) for row in rows],
        idempotency_key=_settlement_key(voucher.id), kind="voucher_redeem",
        reference=voucher.hold_reference, actor=actor.username)
    request = {
        "voucher_id": voucher.id, "at": rules.timestamp_text(moment),
        "idempotency_key": idempotency_key, "staff_user_id": actor.id,
        "merchant_id": voucher.merchant_id, "price_points": voucher.price_points,
        "plan": document,
        "notification": _redeemed_notification(
            voucher.id, voucher.volunteer_id, voucher.offer_title, voucher.merchant_name,
            voucher.price_points),
    }
    answer = session.connection().execute(
        _REDEEM, {"request": json.dumps(request, default=_json_moment)}).scalar_one()
    return _function_answer(session, voucher, document, answer, moment)


def _scan(session: Session, key: str | bytes, code: str, actor_id: int, idempotency_key: str):
    """The rows of the scanned voucher (one per posting of its hold), or none."""
    parameters = {"actor_id": actor_id, "scan_key": idempotency_key}
    if tokens.looks_like_token(code):
        query, parameters["voucher_id"] = _SCAN_BY_ID, tokens.verify(key, code)
    else:
        short_code = tokens.normalise_short_code(code)
        if short_code is None:
            raise VoucherInvalid("not a voucher code")
        query, parameters["short_code"] = _SCAN_BY_SHORT_CODE, short_code
    session.flush()
    return session.connection().execute(query, parameters).all()


def _json_moment(value):
    if isinstance(value, datetime):
        return rules.timestamp_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _first_answer(voucher, voucher_id: int, redemption_id: int, merchant_id: int,
                  price_points: int, entry_id: int, redeemed_at) -> Redeemed:
    """The first redemption made under this idempotency key, if it redeemed this voucher."""
    if voucher_id != voucher.id:
        raise ledger.IdempotencyConflict("this idempotency key was used for another voucher")
    if isinstance(redeemed_at, str):
        redeemed_at = datetime.fromisoformat(redeemed_at)
    return Redeemed(
        redemption_id=redemption_id, voucher_id=voucher_id, merchant_id=merchant_id,
        price_points=price_points, offer_title=voucher.offer_title,
        merchant_name=voucher.merchant_name, short_code=voucher.short_code,
        redeemed_at=rules.as_utc(redeemed_at), entry_id=entry_id, created=False)


def _function_answer(session: Session, voucher, document: dict, answer: dict,
                     moment: datetime) -> Redeemed:
    verdict = answer["result"]
    if verdict == RedeemVerdict.REFUSED:
        first = answer["first"]
        if first is not None:
            return _first_answer(voucher, first["voucher_id"], first["id"], first["merchant_id"],
                                 first["price_points"], first["entry_id"], first["redeemed_at"])
        redeemed_at = answer["redeemed_at"]
        _refuse(voucher.id, answer["status"], datetime.fromisoformat(answer["expires_at"]),
                redeemed_at and datetime.fromisoformat(redeemed_at), moment)
    if verdict == RedeemVerdict.CONFLICT:
        raise ledger.IdempotencyConflict("this idempotency key was used for another voucher")
    outcome = answer["outcome"] if verdict == RedeemVerdict.LEDGER else answer["ledger"]
    try:
        result = ledger.accept_outcome(session, document, outcome)
    except (ledger.HoldExpired, ledger.HoldNotPending) as error:
        raise VoucherExpired("this voucher's hold has lapsed", voucher_id=voucher.id) from error
    assert verdict == RedeemVerdict.REDEEMED, answer
    loaded = session.identity_map.get(session.identity_key(Voucher, voucher.id))
    if loaded is not None:
        session.expire(loaded)
    return Redeemed(
        redemption_id=answer["redemption_id"], voucher_id=voucher.id,
        merchant_id=voucher.merchant_id, price_points=voucher.price_points,
        offer_title=voucher.offer_title, merchant_name=voucher.merchant_name,
        short_code=voucher.short_code, redeemed_at=moment, entry_id=result.entry_id,
        created=True)


# --- cancelling and expiring ------------------------------------------------------------------


def cancel_voucher(session: Session, actor: User, voucher_id: int) -> Voucher:
    """The owner gives a voucher back: the hold is voided and the stock returns. Cancelling a
    cancelled voucher again answers it as it is."""
    voucher = own_voucher(session, actor, voucher_id)
    moment = now()
    changed = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.status == "issued",
                              Voucher.expires_at > moment)
        .values(status="cancelled", cancelled_at=moment).returning(Voucher.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.expire(voucher)
    if changed is None:
        if voucher.status == "cancelled":
            return voucher
        _refuse(voucher.id, voucher.status, voucher.expires_at, voucher.redeemed_at, moment)
    _return_to_stock(session, {voucher.offer_id: 1})
    ledger.void_hold(session, voucher.hold_entry_id, idempotency_key=f"voucher:{voucher.id}:cancel",
                     memo="cancelled by the volunteer", actor=actor.username)
    session.flush()
    return voucher


def expire_vouchers(session: Session, *, at: datetime | None = None,
                    max_vouchers: int = MAX_EXPIRED_PER_RUN) -> int:
    """Mark issued vouchers past their deadline expired and void their holds (cron-safe: a
    second run, or one racing this one, finds nothing left to do). Returns how many.

    Locks are taken in the order every writer of vouchers uses (voucher rows, then offer rows
    in id order, then ledger accounts), so a sweep never deadlocks against takes and scans."""
    moment = rules.as_utc(at or now())
    due = session.scalars(
        select(Voucher.id).where(Voucher.status == "issued", Voucher.expires_at <= moment)
        .order_by(Voucher.id).limit(max_vouchers)
    ).all()
    if not due:
        return 0
    expired = session.execute(
        update(Voucher).where(Voucher.id.in_(due), Voucher.status == "issued")
        .values(status="expired")
        .returning(Voucher.id, Voucher.offer_id, Voucher.hold_entry_id)
        .execution_options(synchronize_session=False)
    ).all()
    returned: dict[int, int] = {}
    for _voucher_id, offer_id, _hold in expired:
        returned[offer_id] = returned.get(offer_id, 0) + 1
    _return_to_stock(session, returned)
    for voucher_id, _offer_id, hold_entry_id in sorted(expired):
        # The same key and content as ledger.expire_holds: whichever sweep runs first voids
        # the hold, and the other's call answers that first result.
        ledger.void_hold(session, hold_entry_id, idempotency_key=f"hold-expire:{hold_entry_id}",
                         kind="hold_expire", memo="expired", actor="system")
        voucher = session.get(Voucher, voucher_id)
        session.expire(voucher)
        notifications.notify(
            session, voucher.volunteer_id,
            N_("Your voucher “%(title)s” expired: its %(points)s points are available again."),
            {"title": voucher.offer.title, "points": voucher.price_points},
            link=f"/vouchers/{voucher.id}", reference=f"voucher:{voucher.id}")
    session.flush()
    return len(expired)


def _return_to_stock(session: Session, counts: dict[int, int]) -> None:
    """Stock back to offers, locking their rows in id order (as takes lock them: one offer,
    before any ledger account)."""
    for offer_id in sorted(counts):
        session.execute(
            update(Offer).where(Offer.id == offer_id)
            .values(stock_left=func.min(Offer.stock_left + counts[offer_id], Offer.stock_total)
                    if session.get_bind().dialect.name == "sqlite"
                    else func.least(Offer.stock_left + counts[offer_id], Offer.stock_total))
            .execution_options(synchronize_session=False))
    for offer in list(session.identity_map.values()):
        if isinstance(offer, Offer) and offer.id in counts:
            session.expire(offer, ["stock_left"])
