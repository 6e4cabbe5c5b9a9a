"""Programmes: their chart of accounts, funding, and manual awards with maker-checker."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting
from ledger.clock import now

from . import access, areas, audit
from .errors import BudgetExhausted, Conflict, Forbidden, Invalid, NotFound
from .models import STAFF_ROLES, Award, Programme, User
from .users import user_with_roles

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_APPROVAL_THRESHOLD_POINTS = 500
MAX_POINTS_PER_YUAN = 10_000
MAX_REASON_LENGTH = 500
FEN_PER_YUAN = 100
AWARD_ROLES = ("admin", "reviewer")

# (name, unit, kind, no_overdraft): DESIGN section 3's chart, per programme.
CHART = (
    ("fund", "CNY", "asset", True),
    ("budget", "POINT", "equity", True),
    ("donations", "POINT", "liability", False),
    ("expired", "POINT", "income", False),
    ("payouts", "CNY", "liability", False),
)


def open_world(session: Session) -> None:
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, "world:cny", "CNY", "equity")


def create_programme(
    session: Session,
    actor: User,
    code: str,
    name: str,
    area_code: str,
    points_per_yuan: int,
    award_approval_threshold_points: int = DEFAULT_APPROVAL_THRESHOLD_POINTS,
) -> Programme:
    if not CODE_PATTERN.match(code or ""):
        raise Invalid("bad programme code", errors={"code": ["lowercase letters, digits, - and _"]})
    if not 0 < points_per_yuan <= MAX_POINTS_PER_YUAN:
        raise Invalid("bad rate", errors={"points_per_yuan": [f"1 to {MAX_POINTS_PER_YUAN}"]})
    area = areas.get_area(session, area_code)
    access.require(actor, ("admin",), area)
    if session.scalar(select(Programme.id).where(Programme.code == code)) is not None:
        raise Conflict(f"programme {code} exists", errors={"code": ["taken"]})
    programme = Programme(
        code=code, name=name, area=area, points_per_yuan=points_per_yuan,
        award_approval_threshold_points=award_approval_threshold_points, created_at=now(),
    )
    session.add(programme)
    session.flush()
    audit.record(session, actor, "programme.create", f"programme:{code}", None, {
        "name": name, "area": area.code, "points_per_yuan": points_per_yuan,
        "award_approval_threshold_points": award_approval_threshold_points}, area=area)
    open_world(session)
    for account_name, unit, kind, no_overdraft in CHART:
        ledger.open_account(session, programme.account(account_name), unit, kind,
                            no_overdraft=no_overdraft, owner_type="programme",
                            owner_id=programme.id)
    return programme


def get_programme(session: Session, code: str) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        raise NotFound(f"no programme {code}", programme=code)
    return programme


def visible_programmes(session: Session, actor: User) -> list[Programme]:
    programmes = session.scalars(select(Programme).order_by(Programme.code)).all()
    return [p for p in programmes
            if access.overlaps(actor, STAFF_ROLES, p.area) or p.area.contains(actor.area)]


def points_for(programme: Programme, amount_fen: int) -> int:
    """Points a payment adds to the budget; fractions of a point are not issued."""
    return amount_fen * programme.points_per_yuan // FEN_PER_YUAN


@dataclass(frozen=True)
class Funding:
    entry_id: int
    programme: str
    amount_fen: int
    amount_points: int
    source: str
    created: bool
    fund_source: str = "general"


def fund_programme(
    session: Session,
    actor: User | None,
    code: str,
    amount_fen: int,
    source: str,
    idempotency_key: str,
    fund_source: str | None = None,
) -> Funding:
    """Money in (world:cny -> the fund source named, the general fund by default) and the
    points budget up by the rate, in one entry. ``actor`` None is the system itself (a
    confirmed card payment)."""
    from . import fund_sources

    programme = get_programme(session, code)
    if actor is not None:
        access.require(actor, ("admin",), programme.area)
    ledger.rules.check_positive(amount_fen)
    amount_points = points_for(programme, amount_fen)
    postings = [
        Posting("world:cny", -amount_fen, "CNY"),
        Posting(fund_sources.account_for_funding(session, programme, fund_source), amount_fen,
                "CNY"),
    ]
    if amount_points:
        postings += [
            Posting("world:points", -amount_points, "POINT"),
            Posting(programme.account("budget"), amount_points, "POINT"),
        ]
    result = ledger.post(
        session, idempotency_key=idempotency_key, kind="funding", postings=postings,
        reference=f"programme:{code}", memo=(source or "")[:MAX_REASON_LENGTH],
        actor=actor.username if actor else "system",
    )
    return Funding(result.entry_id, code, amount_fen, amount_points, source, result.created,
                   fund_source or "general")


def request_award(
    session: Session,
    actor: User,
    code: str,
    volunteer_id: int,
    amount_points: int,
    reason: str,
    idempotency_key: str,
) -> Award:
    """A manual award. Within the threshold it posts at once; above it, it waits for a
    second administrator. A retry with the same key returns the first award."""
    programme = get_programme(session, code)
    access.require_overlap(actor, AWARD_ROLES, programme.area)
    ledger.rules.check_positive(amount_points)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise Invalid("an award needs a reason", errors={"reason": ["1 to 500 characters"]})
    fingerprint = _fingerprint(code, volunteer_id, amount_points, reason)
    # Two columns, not the award with its eagerly joined programme and volunteer: nearly
    # every request is new, and the entity query cost more than the rest of the check.
    existing = session.execute(select(Award.id, Award.fingerprint)
                               .where(Award.idempotency_key == idempotency_key)).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise ledger.IdempotencyConflict("this idempotency key was used for another award")
        return session.get(Award, existing.id)
    # The volunteer and their roles in one round trip (a lazy load of the roles is another).
    volunteer = user_with_roles(session, volunteer_id)
    if volunteer is None or not access.holds(volunteer, ("volunteer",)):
        raise NotFound(f"no volunteer {volunteer_id}", volunteer_id=volunteer_id)
    access.require(actor, AWARD_ROLES, volunteer.area)
    if not programme.area.contains(volunteer.area):
        raise Invalid(f"volunteer {volunteer_id} is outside the programme's area",
                      errors={"volunteer_id": [f"not in {programme.area.name}"]})
    award = Award(
        programme=programme, volunteer=volunteer, amount_points=amount_points, reason=reason,
        status="awaiting_approval", requested_by_id=actor.id, idempotency_key=idempotency_key,
        fingerprint=fingerprint, created_at=now(),
    )
    session.add(award)
    session.flush()
    if amount_points <= programme.award_approval_threshold_points:
        _post_award(session, award, actor)
    return award


def approve_award(session: Session, actor: User, award_id: int, note: str | None = None) -> Award:
    award = _pending_award(session, actor, award_id)
    if award.requested_by_id == actor.id:
        raise Forbidden("a second administrator must approve an award you requested")
    award.decision_note = note
    _post_award(session, award, actor)
    return award


def reject_award(session: Session, actor: User, award_id: int, note: str) -> Award:
    award = _pending_award(session, actor, award_id)
    award.status, award.decided_by_id, award.decided_at = "rejected", actor.id, now()
    award.decision_note = note
    session.flush()
    return award


def pending_awards(session: Session, actor: User) -> list[Award]:
    awards = session.scalars(
        select(Award).where(Award.status == "awaiting_approval").order_by(Award.id)
    ).all()
    return [a for a in awards if access.holds(actor, ("admin",), a.programme.area)]


def _pending_award(session: Session, actor: User, award_id: int) -> Award:
    award = session.get(Award, award_id)
    if award is None:
        raise NotFound(f"no award {award_id}", award_id=award_id)
    access.require(actor, ("admin",), award.programme.area)
    if award.status != "awaiting_approval":
        raise Conflict(f"award {award_id} is already {award.status}")
    return award


def _post_award(session: Session, award: Award, actor: User) -> None:
    award.entry_id = reward(
        session, award.programme, award.volunteer, award.amount_points, kind="manual_award",
        source=f"award:{award.id}", memo=award.reason, actor=actor,
    )
    award.status = "posted"
    if award.requested_by_id != actor.id:
        award.decided_by_id, award.decided_at = actor.id, now()
    session.flush()


def reward(
    session: Session,
    programme: Programme,
    volunteer: User,
    amount_points: int,
    *,
    kind: str,
    source: str,
    memo: str | None,
    actor: User | None,
) -> int:
    """Pays ``amount_points`` from the programme's budget into the volunteer's wallet for one
    source object (``report:17``, ``attendance:5``); the source names the entry, so paying
    the same source again returns the first entry and never pays twice."""
    ledger.rules.check_positive(amount_points)
    try:
        result = ledger.post(
            session, idempotency_key=f"{source}:reward", kind=kind,
            postings=[Posting(programme.account("budget"), -amount_points, "POINT"),
                      Posting(volunteer.wallet_code, amount_points, "POINT")],
            reference=source, memo=(memo or "")[:MAX_REASON_LENGTH] or None,
            actor=actor.username if actor else "system",
        )
    except ledger.InsufficientPoints as error:
        raise BudgetExhausted(
            f"programme {programme.code} has {error.details.get('available')} points left",
            programme=programme.code, available=error.details.get("available"),
        ) from error
    return result.entry_id


def reward_entry_id(session: Session, source: str) -> int | None:
    """The entry that paid ``source``'s reward, if one was paid."""
    return session.scalar(
        select(ledger.Entry.id).where(ledger.Entry.idempotency_key == f"{source}:reward")
    )


def claw_back(
    session: Session, programme: Programme, source: str, reason: str, actor: User | None
) -> int | None:
    """Reverses the reward paid for ``source`` (a report found false): a reversing entry, never
    an edit. None when nothing was paid. Raises ``ledger.InsufficientPoints`` when the wallet
    no longer holds the points; the caller decides what to record then."""
    entry_id = reward_entry_id(session, source)
    if entry_id is None:
        return None
    result = ledger.reverse(
        session, entry_id, idempotency_key=f"{source}:claw-back",
        memo=(reason or "")[:MAX_REASON_LENGTH] or None,
        actor=actor.username if actor else "system",
    )
    return result.entry_id


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
