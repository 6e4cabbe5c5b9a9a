"""Micro-wishes (微心愿): an organiser publishes a resident's small wish, a volunteer or a
team claims it (one claim at a time), fulfils it with photos, the organiser confirms and
the programme pays. A team claim is made by the team's leader and paid to the leader, the
team's accountable contact, as one reward (``source=f"wish:{id}"``), so it can never be
paid twice or in part."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from ledger.clock import now
from volunteers import access, areas, programmes
from volunteers.errors import Forbidden, Invalid, NotInYourArea
from volunteers.models import Area, Programme, User

from .common import (
    ORGANISER_ROLES,
    clean_reason,
    get_or_404,
    require_volunteer_in,
    visible_area_clause,
)
from .errors import WishAlreadyClaimed, WishWrongState
from .models import Wish, WishClaim, WishPhoto
from .photos import MAX_PHOTOS, clean_photo

MAX_WISH_POINTS = 1_000
MAX_LIST = 200
LISTED_STATUSES = ("open", "claimed", "fulfilled", "confirmed")


def mask_name(name: str) -> str:
    """张三 -> 张*, 李小芳 -> 李*芳, 欧阳娜娜 -> 欧**娜: enough for neighbours, not a record."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass
class WishDraft:
    title: str
    resident_name: str
    story: str
    needs: str
    area: str
    programme: str
    reward_points: int


def publish_wish(session: Session, actor: User, draft: WishDraft) -> Wish:
    area = areas.get_area(session, draft.area)
    access.require(actor, ORGANISER_ROLES, area)
    programme = session.scalar(select(Programme).where(Programme.code == draft.programme))
    if programme is None or not programme.area.contains(area):
        raise Invalid("the programme does not cover this area",
                      errors={"programme": ["a programme covering the wish's area"]})
    if not 1 <= draft.reward_points <= MAX_WISH_POINTS:
        raise Invalid("bad reward", errors={"reward_points": [f"1 to {MAX_WISH_POINTS}"]})
    wish = Wish(title=draft.title.strip(), resident_name=mask_name(draft.resident_name),
                story=draft.story.strip(), needs=draft.needs.strip(), area=area,
                programme=programme, reward_points=draft.reward_points, status="open",
                published_by_id=actor.id, abandon_count=0, created_at=now())
    session.add(wish)
    session.flush()
    return wish


def get_wish(session: Session, wish_id: int) -> Wish:
    return get_or_404(session, Wish, wish_id, "wish")


def can_see(actor: User, wish: Wish) -> bool:
    if access.overlaps(actor, ORGANISER_ROLES, wish.area):
        return True
    return access.holds(actor, ("volunteer",)) and wish.programme.area.contains(actor.area)


def visible_wish(session: Session, actor: User, wish_id: int) -> Wish:
    wish = get_wish(session, wish_id)
    if not can_see(actor, wish):
        raise NotInYourArea("this wish is outside your area", area=wish.area.code)
    return wish


def list_wishes(session: Session, actor: User, status: str | None = "open",
                mine: bool = False, limit: int = MAX_LIST) -> list[Wish]:
    programme_area = aliased(Area)
    query = (select(Wish).join(Area, Area.id == Wish.area_id)
             .join(Programme, Programme.id == Wish.programme_id)
             .join(programme_area, programme_area.id == Programme.area_id)
             .where(visible_area_clause(actor, Area.path, programme_area.path,
                                        ORGANISER_ROLES)))
    if status:
        query = query.where(Wish.status == status)
    else:
        query = query.where(Wish.status.in_(LISTED_STATUSES))
    if mine:
        query = query.where(Wish.claimed_by_id == actor.id)
    query = query.order_by(Wish.created_at.desc(), Wish.id.desc()).limit(min(limit, MAX_LIST))
    return list(session.scalars(query))


def claim(session: Session, actor: User, wish_id: int, team_id: int | None = None) -> Wish:
    wish = get_wish(session, wish_id)
    require_volunteer_in(actor, wish.programme)
    if team_id is not None:
        _require_leader(session, actor, team_id)
    if wish.status != "open":
        raise _claim_refusal(wish)
    # One conditional UPDATE decides among concurrent claimers: PostgreSQL re-checks
    # status = 'open' on the locked row, so exactly one of them changes it.
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "open")
        .values(status="claimed", claimed_by_id=actor.id, claimed_team_id=team_id,
                claimed_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.refresh(wish)
        raise _claim_refusal(wish)
    session.add(WishClaim(wish_id=wish.id, user_id=actor.id, team_id=team_id, status="active",
                          created_at=now()))
    session.flush()
    session.refresh(wish)
    return wish


def _claim_refusal(wish: Wish):
    if wish.status in ("claimed", "fulfilled"):
        return WishAlreadyClaimed(f"wish {wish.id} is already claimed")
    return WishWrongState(f"wish {wish.id} is {wish.status}")


def _require_leader(session: Session, actor: User, team_id: int) -> None:
    from volunteers.teams import Team

    team = get_or_404(session, Team, team_id, "team")
    if team.leader_id != actor.id:
        raise Forbidden("only the team's leader claims for the team")


def abandon(session: Session, actor: User, wish_id: int, reason: str | None = None) -> Wish:
    """The claimer gives the wish back; it is listed as open again (with its abandon count)."""
    wish = _claimed_by(session, actor, wish_id, ("claimed",))
    _end_claim(session, wish, "abandoned", (reason or "").strip()[:500] or None)
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "claimed",
                           Wish.claimed_by_id == actor.id)
        .values(status="open", claimed_by_id=None, claimed_team_id=None, claimed_at=None,
                abandon_count=Wish.abandon_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WishWrongState(f"wish {wish.id} changed meanwhile")
    session.flush()
    session.refresh(wish)
    return wish


def fulfil(session: Session, actor: User, wish_id: int, note: str,
           photos: list[bytes]) -> Wish:
    wish = _claimed_by(session, actor, wish_id, ("claimed",))
    if not photos:
        raise Invalid("a photo of the fulfilled wish is needed", errors={"photo": ["required"]})
    if len(photos) > MAX_PHOTOS:
        raise Invalid("too many photos", errors={"photo": [f"at most {MAX_PHOTOS}"]})
    cleaned = [clean_photo(raw) for raw in photos]
    note = (note or "").strip()
    if len(note) > 1000:
        raise Invalid("the note is too long", errors={"note": ["at most 1000 characters"]})
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "claimed",
                           Wish.claimed_by_id == actor.id)
        .values(status="fulfilled", fulfilled_at=now(), fulfilment_note=note or None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WishWrongState(f"wish {wish.id} changed meanwhile")
    for photo in cleaned:
        session.add(WishPhoto(wish_id=wish.id, uploaded_by_id=actor.id,
                              content_type=photo.content_type, width=photo.width,
                              height=photo.height, data=photo.data, created_at=now()))
    _end_claim(session, wish, "fulfilled")
    session.flush()
    session.refresh(wish)
    return wish


def confirm(session: Session, actor: User, wish_id: int) -> Wish:
    """The organiser confirms the fulfilment; the claimer (for a team, its leader) is paid
    and told."""
    from volunteers.notifications import N_, notify

    wish = get_wish(session, wish_id)
    access.require(actor, ORGANISER_ROLES, wish.area)
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "fulfilled")
        .values(status="confirmed", confirmed_by_id=actor.id, confirmed_at=now(),
                paid_user_id=Wish.claimed_by_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WishWrongState(f"wish {wish.id} is {wish.status}, not fulfilled")
    session.refresh(wish)
    payee = get_or_404(session, User, wish.claimed_by_id, "user")
    wish.entry_id = programmes.reward(
        session, wish.programme, payee, wish.reward_points, kind="wish_reward",
        source=f"wish:{wish.id}", memo=f"微心愿：{wish.title}", actor=actor)
    for row in wish.claims:
        if row.status == "fulfilled":
            row.status = "confirmed"
    notify(session, payee.id,
           N_("Your micro-wish \"%(title)s\" was confirmed: %(points)s points are yours."),
           {"title": wish.title, "points": wish.reward_points},
           link=f"/wishes/{wish.id}", reference=f"wish:{wish.id}")
    session.flush()
    return wish


def send_back(session: Session, actor: User, wish_id: int, reason: str) -> Wish:
    """The organiser finds the fulfilment incomplete: the wish goes back to its claimer."""
    from volunteers.notifications import N_, notify

    wish = get_wish(session, wish_id)
    access.require(actor, ORGANISER_ROLES, wish.area)
    reason = clean_reason(reason)
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "fulfilled")
        .values(status="claimed", fulfilled_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WishWrongState(f"wish {wish.id} is {wish.status}, not fulfilled")
    session.refresh(wish)
    session.add(WishClaim(wish_id=wish.id, user_id=wish.claimed_by_id,
                          team_id=wish.claimed_team_id, status="active", reason=reason,
                          created_at=now()))
    notify(session, wish.claimed_by_id,
           N_("Your micro-wish \"%(title)s\" needs more: %(reason)s"),
           {"title": wish.title, "reason": reason},
           link=f"/wishes/{wish.id}", reference=f"wish:{wish.id}")
    session.flush()
    return wish


def _claimed_by(session: Session, actor: User, wish_id: int, statuses) -> Wish:
    wish = get_wish(session, wish_id)
    access.require(actor, ("volunteer",))
    if wish.claimed_by_id != actor.id:
        raise Forbidden("this wish is not claimed by you")
    if wish.status not in statuses:
        raise WishWrongState(f"wish {wish.id} is {wish.status}")
    return wish


def _end_claim(session: Session, wish: Wish, status: str, reason: str | None = None) -> None:
    row = session.scalar(select(WishClaim).where(WishClaim.wish_id == wish.id,
                                                 WishClaim.status == "active")
                         .order_by(WishClaim.id.desc()))
    if row is not None:
        row.status, row.ended_at = status, now()
        if reason:
            row.reason = reason


def photo(session: Session, actor: User, photo_id: int) -> WishPhoto:
    found = get_or_404(session, WishPhoto, photo_id, "photo")
    wish = found.wish
    if not (access.overlaps(actor, ORGANISER_ROLES, wish.area) or wish.claimed_by_id == actor.id
            or wish.paid_user_id == actor.id):
        raise Forbidden("only the claimer and the organisers see fulfilment photos")
    return found




def withdraw(session: Session, actor: User, wish_id: int, reason: str) -> Wish:
    """The organiser takes down a wish nobody holds (the resident no longer needs it)."""
    wish = get_wish(session, wish_id)
    access.require(actor, ORGANISER_ROLES, wish.area)
    reason = clean_reason(reason)
    changed = session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.status == "open")
        .values(status="withdrawn", fulfilment_note=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WishWrongState(f"wish {wish.id} is {wish.status}: only an open wish is withdrawn")
    session.refresh(wish)
    return wish
