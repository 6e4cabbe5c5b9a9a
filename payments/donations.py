"""Donating points (转赠): a volunteer gives points from their wallet to a programme's
donations pool, or earmarked to a cause published by staff of its area (a family in need,
a student, a resident's micro-wish). One ledger entry per donation:
``volunteer:V:wallet -> programme:P:donations``, kind ``donation``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting
from ledger.clock import now
from volunteers import access, areas
from volunteers.errors import Invalid, NotFound, NotInYourArea
from volunteers.models import STAFF_ROLES, Programme, User
from volunteers.notifications import N_, notify
from volunteers.programmes import get_programme

from .errors import (
    CauseNotOpen,
    ExceedsPool,
    NoBeneficiaryAccount,
    NoReleaseRequested,
    NothingReleased,
    OwnRelease,
    ReleasePending,
)
from .models import (
    CAUSE_KINDS,
    CauseDeliveryPhoto,
    CauseRelease,
    Donation,
    DonationCause,
)
from .rules import fingerprint, lock_row

PUBLISHER_ROLES = ("admin", "organiser")
RELEASE_ROLES = ("admin", "organiser")
MAX_TITLE_LENGTH = 120
MAX_STORY_LENGTH = 4_000
MAX_MESSAGE_LENGTH = 200
MAX_TARGET_POINTS = 10_000_000
MAX_DONATION_POINTS = 1_000_000
MAX_LISTED_CAUSES = 200
MAX_HISTORY_ROWS = 200
MAX_DELIVERY_NOTE_LENGTH = 500
MAX_DELIVERY_PHOTOS = 20
# Deliveries a cause may name today: CNY through a payout run is not built yet.
AVAILABLE_DELIVERIES = ("points", "voucher")


# --- causes ---------------------------------------------------------------------------------


def publish_cause(
    session: Session,
    actor: User,
    programme_code: str,
    area_code: str,
    kind: str,
    title: str,
    story: str,
    target_points: int,
    wish_reference: str | None = None,
    *,
    beneficiary_id: int | None = None,
    beneficiary_name: str | None = None,
    delivery: str = "points",
    offer_id: int | None = None,
) -> DonationCause:
    """A cause on an area inside the programme's, published by an administrator or organiser
    of that area, for a beneficiary: a resident with an account (``beneficiary_id``: the pool
    is released into their wallet) or a person or organisation named only. ``delivery`` says
    how the pool reaches them: ``points`` into the wallet, or ``voucher``: vouchers of the
    merchant offer ``offer_id`` bought for them on release (that the offer exists and suits
    the beneficiary is checked by ``payouts.deliveries``, which knows merchants)."""
    programme = get_programme(session, programme_code)
    area = areas.get_area(session, area_code)
    access.require(actor, PUBLISHER_ROLES, area)
    title, story = (title or "").strip(), (story or "").strip()
    problems = {}
    if kind not in CAUSE_KINDS:
        problems["kind"] = [f"one of {', '.join(CAUSE_KINDS)}"]
    if not 0 < len(title) <= MAX_TITLE_LENGTH:
        problems["title"] = [f"1 to {MAX_TITLE_LENGTH} characters"]
    if not 0 < len(story) <= MAX_STORY_LENGTH:
        problems["story"] = [f"1 to {MAX_STORY_LENGTH} characters"]
    if isinstance(target_points, bool) or not isinstance(target_points, int) or not (
            0 < target_points <= MAX_TARGET_POINTS):
        problems["target_points"] = [f"a whole number from 1 to {MAX_TARGET_POINTS}"]
    if not programme.area.contains(area):
        problems["area"] = [f"must lie inside the programme's area {programme.area.code}"]
    beneficiary = None
    if beneficiary_id is not None:
        beneficiary = session.get(User, beneficiary_id)
        if beneficiary is None or not beneficiary.active or not programme.area.contains(
                beneficiary.area):
            problems["beneficiary_id"] = ["a resident of the programme's area"]
    beneficiary_name = (beneficiary_name or "").strip() or (
        beneficiary.display_name if beneficiary else None)
    if beneficiary_name is not None and len(beneficiary_name) > MAX_TITLE_LENGTH:
        problems["beneficiary_name"] = [f"at most {MAX_TITLE_LENGTH} characters"]
    if delivery not in AVAILABLE_DELIVERIES:
        problems["delivery"] = [f"one of {', '.join(AVAILABLE_DELIVERIES)}"]
    elif delivery == "voucher" and beneficiary_id is None:
        problems["beneficiary_id"] = ["required when the delivery is voucher"]
    if delivery == "voucher" and offer_id is None:
        problems["offer_id"] = ["required when the delivery is voucher"]
    if delivery != "voucher" and offer_id is not None:
        problems["offer_id"] = ["only for the delivery voucher"]
    if problems:
        raise Invalid("the cause is not valid", errors=problems)
    cause = DonationCause(
        programme=programme, area=area, kind=kind, title=title, story=story,
        target_points=target_points, raised_points=0, status="open",
        wish_reference=(wish_reference or None), created_by_id=actor.id, created_at=now(),
        beneficiary_id=beneficiary.id if beneficiary else None,
        beneficiary_name=beneficiary_name, released_points=0, returned_points=0,
        delivery=delivery, offer_id=offer_id,
    )
    session.add(cause)
    session.flush()
    return cause


def close_cause(session: Session, actor: User, cause_id: int) -> DonationCause:
    """Stops donations to a cause (it was helped otherwise, or withdrawn). What was released
    stays with the beneficiary; what is still in the pool returns to the programme's budget
    (``programme:P:donations -> programme:P:budget``, kind ``donation_return``), so nothing
    stays in the pool unaccounted for. Refused while a release waits for confirmation."""
    cause = lock_row(session, select(DonationCause).where(DonationCause.id == cause_id))
    if cause is None:
        raise NotFound(f"no cause {cause_id}", cause_id=cause_id)
    access.require(actor, PUBLISHER_ROLES, cause.area)
    if cause.status == "closed":
        raise CauseNotOpen(f"cause {cause_id} is already closed", cause_id=cause_id)
    if _pending_release(session, cause) is not None:
        raise ReleasePending(f"a release of cause {cause_id} waits for confirmation",
                             cause_id=cause_id)
    rest = cause.pool_points
    if rest:
        programme = cause.programme
        ledger.post(session, idempotency_key=f"cause:{cause.id}:return", kind="donation_return",
                    postings=[Posting(programme.account("donations"), -rest, "POINT"),
                              Posting(programme.account("budget"), rest, "POINT")],
                    reference=f"cause:{cause.id}", memo=f"{cause.title}（余额退回）",
                    actor=actor.username)
        cause.returned_points += rest
    cause.status, cause.closed_at = "closed", now()
    session.flush()
    return cause


# --- releasing the pool to the beneficiary --------------------------------------------------


def _pending_release(session: Session, cause: DonationCause) -> CauseRelease | None:
    return session.scalar(select(CauseRelease).where(CauseRelease.cause_id == cause.id,
                                                     CauseRelease.status == "requested"))


def _locked_cause(session: Session, actor: User, cause_id: int) -> DonationCause:
    cause = lock_row(session, select(DonationCause).where(DonationCause.id == cause_id))
    if cause is None:
        raise NotFound(f"no cause {cause_id}", cause_id=cause_id)
    access.require(actor, RELEASE_ROLES, cause.area)
    return cause


def release(session: Session, actor: User, cause_id: int,
            amount_points: int | None = None) -> CauseRelease:
    """An organiser (or administrator) of the cause's area asks to release points of the pool
    (all of it by default) to the beneficiary; nothing moves until a second person confirms."""
    cause = _locked_cause(session, actor, cause_id)
    if cause.beneficiary_id is None:
        raise NoBeneficiaryAccount(
            f"cause {cause_id} names no beneficiary with an account to receive points",
            cause_id=cause_id)
    if _pending_release(session, cause) is not None:
        raise ReleasePending(f"a release of cause {cause_id} waits for confirmation",
                             cause_id=cause_id)
    pool = cause.pool_points
    if amount_points is None:
        amount_points = pool
    if isinstance(amount_points, bool) or not isinstance(amount_points, int) or (
            amount_points <= 0):
        raise Invalid("the amount is not valid",
                      errors={"amount_points": ["a whole number of points above 0"]})
    if amount_points > pool:
        raise ExceedsPool(f"the pool of cause {cause_id} holds {pool} points",
                          errors={"amount_points": [f"at most {pool}"]}, pool_points=pool)
    found = CauseRelease(cause_id=cause.id, amount_points=amount_points, status="requested",
                         requested_by_id=actor.id, requested_at=now())
    session.add(found)
    session.flush()
    return found


def confirm_release(session: Session, actor: User, cause_id: int) -> CauseRelease:
    """A second person (another organiser or an administrator of the area) confirms the
    release: the points move from the pool to the beneficiary's wallet, spendable at once;
    each donor and the beneficiary are told."""
    cause = _locked_cause(session, actor, cause_id)
    found = _pending_release(session, cause)
    if found is None:
        raise NoReleaseRequested(f"no release of cause {cause_id} waits for confirmation",
                                 cause_id=cause_id)
    if found.requested_by_id == actor.id:
        raise OwnRelease("another organiser or an administrator must confirm a release you "
                         "asked for", cause_id=cause_id)
    if found.amount_points > cause.pool_points:  # the pool changed meanwhile (it cannot shrink)
        raise ExceedsPool(f"the pool of cause {cause_id} holds {cause.pool_points} points",
                          pool_points=cause.pool_points)
    beneficiary = cause.beneficiary
    programme = cause.programme
    result = ledger.post(
        session, idempotency_key=f"cause:{cause.id}:release:{found.id}", kind="donation_release",
        postings=[Posting(programme.account("donations"), -found.amount_points, "POINT"),
                  Posting(beneficiary.wallet_code, found.amount_points, "POINT")],
        reference=f"cause:{cause.id}", memo=cause.title, actor=actor.username)
    found.status, found.confirmed_by_id, found.confirmed_at = "confirmed", actor.id, now()
    found.entry_id = result.entry_id
    cause.released_points += found.amount_points
    donors = session.scalars(select(Donation.donor_id).where(
        Donation.cause_id == cause.id).distinct()).all()
    for donor_id in donors:
        notify(session, donor_id,
               N_("Your gift to “%(title)s” reached %(beneficiary)s."),
               {"title": cause.title, "beneficiary": cause.beneficiary_name or ""},
               link=f"/causes/{cause.id}", reference=f"cause:{cause.id}:release:{found.id}")
    if cause.delivery == "voucher":
        notify(session, beneficiary.id,
               N_("“%(title)s” bought you vouchers for %(points)s points: show them at the "
                  "merchant to collect the goods."),
               {"points": found.amount_points, "title": cause.title}, link="/wallet",
               reference=f"cause:{cause.id}:release:{found.id}")
    else:
        notify(session, beneficiary.id,
               N_("%(points)s points from “%(title)s” were given to you; they are in your "
                  "wallet."),
               {"points": found.amount_points, "title": cause.title}, link="/wallet",
               reference=f"cause:{cause.id}:release:{found.id}")
    session.flush()
    return found


def record_delivery(session: Session, actor: User, cause_id: int, *, data: bytes, width: int,
                    height: int, content_type: str = "image/jpeg",
                    note: str | None = None) -> CauseDeliveryPhoto:
    """An organiser (or administrator) of the cause's area confirms, with a photo already
    cleaned of its metadata (``payouts.deliveries.confirm_delivery`` cleans it), that what
    was released reached the beneficiary. Refused before anything was released."""
    cause = _locked_cause(session, actor, cause_id)
    if cause.released_points <= 0:
        raise NothingReleased(f"nothing of cause {cause_id} was released yet", cause_id=cause_id)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_DELIVERY_NOTE_LENGTH:
        raise Invalid("the note is too long",
                      errors={"note": [f"at most {MAX_DELIVERY_NOTE_LENGTH} characters"]})
    if len(delivery_photos(session, cause)) >= MAX_DELIVERY_PHOTOS:
        raise Invalid("too many photos", errors={"photo": [f"at most {MAX_DELIVERY_PHOTOS}"]})
    photo = CauseDeliveryPhoto(cause_id=cause.id, uploaded_by_id=actor.id, note=note,
                               content_type=content_type, width=width, height=height, data=data,
                               created_at=now())
    session.add(photo)
    session.flush()
    return photo


def delivery_photos(session: Session, cause: DonationCause) -> list[CauseDeliveryPhoto]:
    """The photos confirming the delivery, oldest first."""
    return list(session.scalars(select(CauseDeliveryPhoto).where(
        CauseDeliveryPhoto.cause_id == cause.id).order_by(CauseDeliveryPhoto.id)))


def delivery_photo(session: Session, actor: User, cause_id: int,
                   photo_id: int) -> CauseDeliveryPhoto:
    """One delivery photo, for whoever may see the cause."""
    get_cause(session, actor, cause_id)
    photo = session.get(CauseDeliveryPhoto, photo_id)
    if photo is None or photo.cause_id != cause_id:
        raise NotFound(f"no photo {photo_id} of cause {cause_id}", photo_id=photo_id)
    return photo


def pending_release(session: Session, cause: DonationCause) -> CauseRelease | None:
    """The release of the cause waiting for confirmation, if any."""
    return _pending_release(session, cause)


def releases_of(session: Session, cause: DonationCause) -> list[CauseRelease]:
    return list(session.scalars(select(CauseRelease).where(CauseRelease.cause_id == cause.id)
                                .order_by(CauseRelease.id)))


def get_cause(session: Session, actor: User, cause_id: int) -> DonationCause:
    cause = session.get(DonationCause, cause_id)
    if cause is None or not can_see(actor, cause.programme):
        raise NotFound(f"no cause {cause_id}", cause_id=cause_id)
    return cause


def visible_causes(session: Session, actor: User, *, include_finished: bool = False,
                   programme_code: str | None = None) -> list[DonationCause]:
    """Causes of the programmes the actor belongs to or works on, open ones first."""
    query = select(DonationCause).order_by(DonationCause.id.desc()).limit(MAX_LISTED_CAUSES)
    if not include_finished:
        query = query.where(DonationCause.status == "open")
    if programme_code:
        query = query.join(Programme).where(Programme.code == programme_code)
    causes = session.scalars(query).all()
    return [c for c in causes if can_see(actor, c.programme)]


def can_see(actor: User, programme: Programme) -> bool:
    """A programme concerns the people living inside its area and the staff working on it."""
    return programme.area.contains(actor.area) or access.overlaps(actor, STAFF_ROLES,
                                                                   programme.area)


# --- donating -------------------------------------------------------------------------------


def donate(
    session: Session,
    actor: User,
    amount_points: int,
    idempotency_key: str,
    *,
    programme_code: str | None = None,
    cause_id: int | None = None,
    message: str | None = None,
) -> Donation:
    """Give points to a programme's pool or to one of its causes. A retry with the same key
    and request returns the first donation; with another request it is refused."""
    if isinstance(amount_points, bool) or not isinstance(amount_points, int) or not (
            0 < amount_points <= MAX_DONATION_POINTS):
        raise Invalid("the amount is not valid", errors={
            "amount_points": [f"a whole number from 1 to {MAX_DONATION_POINTS}"]})
    message = (message or "").strip()[:MAX_MESSAGE_LENGTH] or None
    asked = fingerprint("donation", actor.id, programme_code, cause_id, amount_points, message)
    earlier = _earlier(session, idempotency_key, asked)
    if earlier is not None:
        return earlier
    access.require(actor, ("volunteer",))
    cause = None
    if cause_id is not None:
        cause = lock_row(session, select(DonationCause).where(DonationCause.id == cause_id))
        if cause is None or not can_see(actor, cause.programme):
            raise NotFound(f"no cause {cause_id}", cause_id=cause_id)
        programme = cause.programme
    else:
        programme = get_programme(session, programme_code)
    if not programme.area.contains(actor.area):
        raise NotInYourArea(f"programme {programme.code} is outside your area",
                            programme=programme.code)
    if cause is not None:
        _check_cause_takes(cause, amount_points)
    result = ledger.post(
        session, idempotency_key=idempotency_key, kind="donation",
        postings=[Posting(actor.wallet_code, -amount_points, "POINT"),
                  Posting(programme.account("donations"), amount_points, "POINT")],
        reference=f"cause:{cause.id}" if cause else f"programme:{programme.code}",
        memo=cause.title if cause else message, actor=actor.username,
    )
    if not result.created:
        # A twin request with this key committed first: answer with its donation.
        twin = session.scalar(select(Donation).where(Donation.entry_id == result.entry_id))
        if twin is not None:
            return _same_request(twin, asked)
    donation = Donation(
        programme=programme, cause=cause, donor_id=actor.id, amount_points=amount_points,
        message=message, entry_id=result.entry_id, idempotency_key=idempotency_key,
        fingerprint=asked, created_at=now(),
    )
    session.add(donation)
    if cause is not None:
        cause.raised_points += amount_points
        if cause.raised_points == cause.target_points:
            cause.status, cause.closed_at = "completed", now()
            notify(session, cause.created_by_id,
                   N_("The cause “%(title)s” reached its target of %(points)s points."),
                   {"title": cause.title, "points": cause.target_points},
                   link=f"/causes/{cause.id}", reference=f"cause:{cause.id}")
    session.flush()
    return donation


def _earlier(session: Session, idempotency_key: str, asked: str) -> Donation | None:
    earlier = session.scalar(select(Donation).where(Donation.idempotency_key == idempotency_key))
    return _same_request(earlier, asked) if earlier is not None else None


def _same_request(donation: Donation, asked: str) -> Donation:
    if donation.fingerprint != asked:
        raise ledger.IdempotencyConflict("this idempotency key was used for another donation",
                                         donation_id=donation.id)
    return donation


def _check_cause_takes(cause: DonationCause, amount_points: int) -> None:
    if cause.status != "open":
        raise CauseNotOpen(f"cause {cause.id} is {cause.status}", cause_id=cause.id,
                           status=cause.status)
    if amount_points > cause.remaining_points:
        raise Invalid(
            f"the cause needs only {cause.remaining_points} more points",
            errors={"amount_points": [f"at most {cause.remaining_points}"]},
            remaining_points=cause.remaining_points,
        )


def donations_of(session: Session, donor: User, limit: int = MAX_HISTORY_ROWS) -> list[Donation]:
    return session.scalars(
        select(Donation).where(Donation.donor_id == donor.id)
        .order_by(Donation.id.desc()).limit(min(limit, MAX_HISTORY_ROWS))
    ).all()


def donations_to(session: Session, cause: DonationCause,
                 limit: int = MAX_HISTORY_ROWS) -> list[Donation]:
    return session.scalars(
        select(Donation).where(Donation.cause_id == cause.id)
        .order_by(Donation.id.desc()).limit(min(limit, MAX_HISTORY_ROWS))
    ).all()
