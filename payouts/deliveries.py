"""Donations that arrive as goods: a cause whose delivery is ``voucher`` names a merchant
offer; releasing its pool buys that offer's vouchers for the beneficiary through the same
voucher path as any volunteer (``merchants.vouchers.issue_voucher``: a hold on the
beneficiary's wallet for the merchant), so the goods are collected at the merchant with the
voucher's code. The organiser then confirms the delivery with a photo, cleaned of its
metadata like report and wish photos (``activities.photos.clean_photo``).

This sits on floor 4 because it joins payments (causes) with merchants (offers, vouchers)
and activities (photos), which share floor 3 and may not import each other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.photos import clean_photo
from merchants import offers as offer_service
from merchants.models import Offer, Voucher
from merchants.vouchers import issue_voucher
from payments import donations
from payments.errors import ExceedsPool, PoolBelowPrice
from payments.models import CauseDeliveryPhoto, CauseRelease, DonationCause
from volunteers.errors import Invalid, NotFound
from volunteers.models import User


def publish_cause(session: Session, actor: User, programme_code: str, area_code: str,
                  kind: str, title: str, story: str, target_points: int,
                  wish_reference: str | None = None, *, beneficiary_id: int | None = None,
                  beneficiary_name: str | None = None, delivery: str = "points",
                  offer_id: int | None = None) -> DonationCause:
    """``payments.donations.publish_cause``, and for a voucher delivery: the offer exists and
    its merchant serves the beneficiary (a volunteer of a programme covering their area)."""
    cause = donations.publish_cause(
        session, actor, programme_code, area_code, kind, title, story, target_points,
        wish_reference, beneficiary_id=beneficiary_id, beneficiary_name=beneficiary_name,
        delivery=delivery, offer_id=offer_id)
    if cause.delivery == "voucher":
        offer = session.get(Offer, cause.offer_id)
        if offer is None or not offer_service.may_take(cause.beneficiary, offer):
            raise Invalid("the offer is not valid", errors={
                "offer_id": ["an offer of a merchant serving the beneficiary"]})
    return cause


def _offer_of(session: Session, cause: DonationCause) -> Offer:
    offer = session.get(Offer, cause.offer_id)
    if offer is None:  # offers are never deleted; kept for a clear refusal
        raise NotFound(f"no offer {cause.offer_id}", offer_id=cause.offer_id)
    return offer


def release(session: Session, actor: User, cause_id: int,
            amount_points: int | None = None) -> CauseRelease:
    """``payments.donations.release``; for a voucher delivery the amount is a whole number of
    vouchers at the offer's price (by default as many as the pool buys)."""
    cause = donations.get_cause(session, actor, cause_id)
    if cause.delivery == "voucher":
        price = _offer_of(session, cause).price_points
        pool = cause.pool_points
        if amount_points is None:
            amount_points = pool - pool % price
            if amount_points == 0:
                raise PoolBelowPrice(
                    f"the pool of cause {cause_id} holds {pool} points, a voucher costs {price}",
                    pool_points=pool, price_points=price)
        elif (isinstance(amount_points, int) and not isinstance(amount_points, bool)
              and amount_points > 0 and amount_points % price):
            if amount_points > pool:
                raise ExceedsPool(f"the pool of cause {cause_id} holds {pool} points",
                                  errors={"amount_points": [f"at most {pool}"]}, pool_points=pool)
            raise Invalid("the amount is not valid", errors={
                "amount_points": [f"a multiple of the voucher's price, {price} points"]},
                price_points=price)
    return donations.release(session, actor, cause_id, amount_points)


def confirm_release(session: Session, actor: User, cause_id: int) -> CauseRelease:
    """``payments.donations.confirm_release`` (the pool moves to the beneficiary's wallet);
    for a voucher delivery, in the same transaction, the wallet buys the offer's vouchers for
    the released points. A refusal of the voucher path (out of stock, the offer closed, the
    per-person limit) refuses the whole confirmation: nothing moves. Each voucher's key names
    the release, so the vouchers are bought once. Should the price have dropped since the
    release was asked, the points left over stay in the beneficiary's wallet."""
    found = donations.confirm_release(session, actor, cause_id)
    cause = found.cause
    if cause.delivery == "voucher":
        offer = _offer_of(session, cause)
        beneficiary = session.get(User, cause.beneficiary_id)
        for number in range(found.amount_points // offer.price_points):
            issue_voucher(session, beneficiary, offer.id,
                          idempotency_key=voucher_key(found, number))
    return found


def voucher_key(found: CauseRelease, number: int) -> str:
    return f"cause:{found.cause_id}:release:{found.id}:voucher:{number}"


def vouchers_of_release(session: Session, found: CauseRelease) -> list[Voucher]:
    """The vouchers a confirmed release bought, in order."""
    prefix = f"cause:{found.cause_id}:release:{found.id}:voucher:"
    return list(session.scalars(select(Voucher).where(
        Voucher.idempotency_key.startswith(prefix, autoescape=True)).order_by(Voucher.id)))


def confirm_delivery(session: Session, actor: User, cause_id: int, photo: bytes,
                     note: str | None = None) -> CauseDeliveryPhoto:
    """The organiser's photo of the goods delivered: decoded, bounded, turned upright and
    re-encoded without EXIF or GPS before it is kept."""
    if not photo:
        raise Invalid("a photo of the delivery is needed", errors={"photo": ["required"]})
    cleaned = clean_photo(photo)
    return donations.record_delivery(session, actor, cause_id, data=cleaned.data,
                                     width=cleaned.width, height=cleaned.height,
                                     content_type=cleaned.content_type, note=note)
