"""Cash-out (丰行侠: points exchange for equal money). A volunteer's request moves, in one
entry, the points back to the programme's budget and the money from the programme's fund to
the volunteer's cash account; an administrator pays out of band (a WeChat transfer) and
records it, moving the money on to the programme's payouts. Limits per programme: on or off,
a minimum per request and a maximum per volunteer per calendar month (Beijing time)."""

from __future__ import annotations

from datetime import datetime
from math import gcd

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting
from ledger.clock import now
from volunteers import access, fund_sources
from volunteers.errors import Invalid, NotFound, NotInYourArea
from volunteers.models import Area, Programme, User
from volunteers.notifications import N_, notify
from volunteers.programmes import FEN_PER_YUAN, get_programme

from .errors import AlreadyPaid, AmountNotConvertible, CashOutDisabled, LimitReached
from .models import CashOutPolicy, CashOutRequest
from .rules import fingerprint, lock_row, month_bounds

MAX_CASH_OUT_POINTS = 10_000_000
MAX_REFERENCE_LENGTH = 120
MAX_LISTED_REQUESTS = 200


def cash_account(volunteer: User) -> str:
    return f"volunteer:{volunteer.id}:cash"


def points_step(programme: Programme) -> int:
    """The smallest number of points worth a whole number of fen at the programme's rate."""
    rate = programme.points_per_yuan
    return rate // gcd(rate, FEN_PER_YUAN)


def fen_for(programme: Programme, amount_points: int) -> int:
    """fen = points * 100 / rate, refused unless it is a whole number: money is never rounded
    in anyone's favour. The refusal names the nearest amounts that do convert."""
    amount_fen, remainder = divmod(amount_points * FEN_PER_YUAN, programme.points_per_yuan)
    if remainder:
        step = points_step(programme)
        lower = amount_points - amount_points % step
        raise AmountNotConvertible(
            f"{amount_points} points are not a whole number of fen at "
            f"{programme.points_per_yuan} points per yuan; use a multiple of {step} "
            f"(such as {lower or step} or {lower + step})",
            errors={"amount_points": [f"a multiple of {step}"]}, step_points=step,
        )
    return amount_fen


# --- policy ---------------------------------------------------------------------------------


def policy_of(session: Session, programme: Programme) -> CashOutPolicy | None:
    return session.get(CashOutPolicy, programme.id)


def set_policy(session: Session, actor: User, programme_code: str, *, enabled: bool,
               minimum_points: int, monthly_maximum_points: int) -> CashOutPolicy:
    programme = get_programme(session, programme_code)
    access.require(actor, ("admin",), programme.area)
    problems = {}
    for name, value in (("minimum_points", minimum_points),
                        ("monthly_maximum_points", monthly_maximum_points)):
        if isinstance(value, bool) or not isinstance(value, int) or not (
                0 < value <= MAX_CASH_OUT_POINTS):
            problems[name] = [f"a whole number from 1 to {MAX_CASH_OUT_POINTS}"]
    if not problems and monthly_maximum_points < minimum_points:
        problems["monthly_maximum_points"] = ["at least the minimum"]
    if not problems and minimum_points % points_step(programme):
        problems["minimum_points"] = [f"a multiple of {points_step(programme)}"]
    if problems:
        raise Invalid("the cash-out limits are not valid", errors=problems)
    policy = policy_of(session, programme) or CashOutPolicy(programme_id=programme.id)
    policy.enabled, policy.minimum_points = bool(enabled), minimum_points
    policy.monthly_maximum_points = monthly_maximum_points
    policy.updated_by_id, policy.updated_at = actor.id, now()
    session.add(policy)
    session.flush()
    return policy


def cashed_out_this_month(session: Session, programme: Programme, volunteer: User,
                          at: datetime | None = None) -> int:
    start, end = month_bounds(at or now())
    return session.scalar(
        select(func.coalesce(func.sum(CashOutRequest.amount_points), 0)).where(
            CashOutRequest.programme_id == programme.id,
            CashOutRequest.volunteer_id == volunteer.id,
            CashOutRequest.created_at >= start, CashOutRequest.created_at < end)
    )


# --- requesting -----------------------------------------------------------------------------


def request_cash_out(session: Session, actor: User, programme_code: str, amount_points: int,
                     idempotency_key: str) -> CashOutRequest:
    """Exchange points for money owed. A retry with the same key and amount returns the first
    request; another amount under that key is refused."""
    if isinstance(amount_points, bool) or not isinstance(amount_points, int) or not (
            0 < amount_points <= MAX_CASH_OUT_POINTS):
        raise Invalid("the amount is not valid", errors={
            "amount_points": [f"a whole number from 1 to {MAX_CASH_OUT_POINTS}"]})
    access.require(actor, ("volunteer",))
    # One volunteer's requests run one at a time, so two cannot both fit the monthly limit.
    lock_row(session, select(User).where(User.id == actor.id))
    asked = fingerprint("cash_out", actor.id, programme_code, amount_points)
    earlier = session.scalar(
        select(CashOutRequest).where(CashOutRequest.idempotency_key == idempotency_key))
    if earlier is not None:
        if earlier.fingerprint != asked:
            raise ledger.IdempotencyConflict("this idempotency key was used for another cash-out",
                                             cash_out_id=earlier.id)
        return earlier
    programme = get_programme(session, programme_code)
    if not programme.area.contains(actor.area):
        raise NotInYourArea(f"programme {programme.code} is outside your area",
                            programme=programme.code)
    amount_fen = _check_limits(session, programme, actor, amount_points)
    request = CashOutRequest(
        programme=programme, volunteer=actor, amount_points=amount_points, amount_fen=amount_fen,
        status="pending", idempotency_key=idempotency_key, fingerprint=asked, created_at=now(),
    )
    session.add(request)
    session.flush()
    ledger.open_account(session, cash_account(actor), "CNY", "liability",
                        owner_type="volunteer", owner_id=actor.id)
    paying = fund_sources.choose(session, programme, amount_fen, "cash_out")
    result = ledger.post(
        session, idempotency_key=f"cash_out:{request.id}", kind="cash_out",
        postings=[Posting(actor.wallet_code, -amount_points, "POINT"),
                  Posting(programme.account("budget"), amount_points, "POINT"),
                  Posting(paying, -amount_fen, "CNY"),
                  Posting(cash_account(actor), amount_fen, "CNY")],
        reference=f"cash_out:{request.id}", memo=f"{programme.name} 积分兑现",
        actor=actor.username,
    )
    request.entry_id = result.entry_id
    session.flush()
    return request


def _check_limits(session: Session, programme: Programme, volunteer: User,
                  amount_points: int) -> int:
    policy = policy_of(session, programme)
    if policy is None or not policy.enabled:
        raise CashOutDisabled(f"programme {programme.code} does not offer cash-out",
                              programme=programme.code)
    if amount_points < policy.minimum_points:
        raise Invalid(f"a cash-out is at least {policy.minimum_points} points",
                      errors={"amount_points": [f"at least {policy.minimum_points}"]},
                      minimum_points=policy.minimum_points)
    amount_fen = fen_for(programme, amount_points)
    used = cashed_out_this_month(session, programme, volunteer)
    if used + amount_points > policy.monthly_maximum_points:
        remaining = max(policy.monthly_maximum_points - used, 0)
        raise LimitReached(
            f"this month you may cash out {remaining} more points "
            f"(at most {policy.monthly_maximum_points} a month)",
            remaining_points=remaining, monthly_maximum_points=policy.monthly_maximum_points,
        )
    return amount_fen


# --- paying ---------------------------------------------------------------------------------


def mark_paid(session: Session, actor: User, request_id: int, payout_reference: str,
              request_key: str | None = None) -> CashOutRequest:
    """Record that the money reached the volunteer (paid out of band), once. A retry of the
    same request (same ``request_key`` and reference) returns the request as paid; any other
    second marking is a conflict."""
    payout_reference = (payout_reference or "").strip()
    if not 0 < len(payout_reference) <= MAX_REFERENCE_LENGTH:
        raise Invalid("a payout needs its transfer reference", errors={
            "payout_reference": [f"1 to {MAX_REFERENCE_LENGTH} characters"]})
    request = lock_row(session, select(CashOutRequest).where(CashOutRequest.id == request_id))
    if request is None:
        raise NotFound(f"no cash-out {request_id}", cash_out_id=request_id)
    _require_payer(actor, request)
    if request.status != "pending":
        if request_key is not None and request.paid_request_key == request_key:
            if request.payout_reference != payout_reference:
                raise ledger.IdempotencyConflict(
                    "this idempotency key marked the cash-out paid with another reference",
                    cash_out_id=request_id)
            return request
        raise AlreadyPaid(f"cash-out {request_id} was already paid", cash_out_id=request_id)
    programme = request.programme
    result = ledger.post(
        session, idempotency_key=f"cash_out:{request.id}:paid", kind="cash_out_paid",
        postings=[Posting(cash_account(request.volunteer), -request.amount_fen, "CNY"),
                  Posting(programme.account("payouts"), request.amount_fen, "CNY")],
        reference=f"cash_out:{request.id}", memo=payout_reference, actor=actor.username,
    )
    request.status, request.paid_entry_id = "paid", result.entry_id
    request.paid_by_id, request.paid_at = actor.id, now()
    request.payout_reference, request.paid_request_key = payout_reference, request_key
    session.flush()
    notify(session, request.volunteer_id,
           N_("Your cash-out of %(points)s points was paid: ¥%(yuan)s, reference %(reference)s."),
           {"points": request.amount_points, "yuan": _yuan_text(request.amount_fen),
            "reference": payout_reference}, link="/cash-out", reference=f"cash_out:{request.id}")
    return request


def _yuan_text(amount_fen: int) -> str:
    return f"{amount_fen // FEN_PER_YUAN}.{amount_fen % FEN_PER_YUAN:02d}"


def _require_payer(actor: User, request: CashOutRequest) -> None:
    """An administrator over the volunteer's area who also works on the programme."""
    access.require(actor, ("admin",), request.volunteer.area)
    access.require_overlap(actor, ("admin",), request.programme.area)


# --- reading --------------------------------------------------------------------------------


def requests_of(session: Session, volunteer: User,
                limit: int = MAX_LISTED_REQUESTS) -> list[CashOutRequest]:
    return session.scalars(
        select(CashOutRequest).where(CashOutRequest.volunteer_id == volunteer.id)
        .order_by(CashOutRequest.id.desc()).limit(min(limit, MAX_LISTED_REQUESTS))
    ).all()


def queue(session: Session, actor: User, status: str = "pending",
          limit: int = MAX_LISTED_REQUESTS) -> list[CashOutRequest]:
    """Requests an administrator may pay (volunteers in their areas), oldest first; paid
    ones newest first."""
    access.require(actor, ("admin",))
    scopes = [area.path for area in access.staff_areas(actor, ("admin",))]
    rows = session.scalars(
        select(CashOutRequest)
        .join(User, User.id == CashOutRequest.volunteer_id)
        .join(Area, Area.id == User.area_id)
        .where(CashOutRequest.status == status,
               or_(*(Area.path.startswith(path, autoescape=True) for path in scopes)))
        .order_by(CashOutRequest.id if status == "pending" else CashOutRequest.id.desc())
        .limit(min(limit, MAX_LISTED_REQUESTS))
    ).all()
    return [r for r in rows if access.overlaps(actor, ("admin",), r.programme.area)]


def get_request(session: Session, actor: User, request_id: int) -> CashOutRequest:
    request = session.get(CashOutRequest, request_id)
    if request is None:
        raise NotFound(f"no cash-out {request_id}", cash_out_id=request_id)
    if request.volunteer_id != actor.id:
        _require_payer(actor, request)
    return request
