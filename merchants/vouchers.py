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

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import ledger
from ledger import Posting, rules
from volunteers import access, notifications
from volunteers.errors import Conflict, Forbidden, NotFound
from volunteers.models import User
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
from .models import Offer, Redemption, Voucher

MAX_SHORT_CODE_ATTEMPTS = 8
MAX_VOUCHERS_LISTED = 200
MAX_EXPIRED_PER_RUN = 500
COUNTED_STATUSES = ("issued", "redeemed")


class OfferClosed(Conflict):
    """The offer is not open: not yet started, ended or withdrawn."""

    code = "offer_closed"


def now() -> datetime:
    return datetime.now(UTC)


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


def redeem_voucher(session: Session, actor: User, code: str, *, key: str | bytes,
                   idempotency_key: str) -> Redemption:
    """A merchant's till redeems a voucher: exactly once, even when two tills scan it at the
    same moment. A retry with the same idempotency key answers the first redemption."""
    access.require(actor, ("merchant",))
    voucher = voucher_for_code(session, key, code)
    if not offer_service.is_staff(session, actor, voucher.merchant_id):
        raise VoucherWrongMerchant("this voucher belongs to another merchant",
                                   voucher_id=voucher.id)
    first = session.scalar(select(Redemption).where(
        Redemption.idempotency_key == idempotency_key))
    if first is not None:
        if first.voucher_id != voucher.id:
            raise ledger.IdempotencyConflict("this idempotency key was used for another voucher")
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
        _refuse(voucher, moment)
    # What the row now holds, without reading it back.
    set_committed_value(voucher, "status", "redeemed")
    set_committed_value(voucher, "redeemed_at", moment)
    try:
        result = ledger.post_hold(
            session, hold_entry_id, idempotency_key=f"voucher:{voucher.id}:redeem",
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
    notifications.notify(
        session, voucher.volunteer_id,
        N_("Your voucher “%(title)s” was redeemed at %(merchant)s: %(points)s points spent."),
        {"title": voucher.offer.title, "merchant": voucher.merchant.name,
         "points": voucher.price_points},
        link=f"/vouchers/{voucher.id}", reference=f"voucher:{voucher.id}")
    session.flush()
    return redemption


def _refuse(voucher: Voucher, moment: datetime) -> None:
    current = state(voucher, moment)
    if current == "redeemed":
        raise VoucherAlreadyRedeemed(
            f"voucher {voucher.id} was redeemed at {voucher.redeemed_at:%Y-%m-%d %H:%M} UTC",
            voucher_id=voucher.id)
    if current == "expired":
        raise VoucherExpired(f"voucher {voucher.id} expired", voucher_id=voucher.id)
    if current == "cancelled":
        raise VoucherInvalid(f"voucher {voucher.id} was cancelled", voucher_id=voucher.id)
    raise AssertionError(f"voucher {voucher.id} is {current} but was not redeemed")


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
        _refuse(voucher, moment)
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
