"""Small helpers the activity services share: the clock, China's calendar, who may act."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import CHINA
from volunteers import access
from volunteers.errors import NotFound, NotInYourArea
from volunteers.models import Area, Programme, User

ORGANISER_ROLES = ("organiser", "admin")
MAX_REASON_LENGTH = 500


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def programme_for_area(session: Session, area: Area) -> Programme | None:
    """The programme closest above ``area`` (a community's street programme before its
    district's), or None."""
    found = [p for p in session.scalars(select(Programme)) if p.area.contains(area)]
    return max(found, key=lambda p: len(p.area.path), default=None)


def require_volunteer_in(actor: User | None, programme: Programme) -> None:
    """A volunteer acts in the programmes that cover their own area, whose budget pays them."""
    access.require(actor, ("volunteer",))
    if not programme.area.contains(actor.area):
        raise NotInYourArea(f"{programme.name} is outside your area", area=programme.area.code)


def visible_area_clause(actor: User, area_column, programme_area_column, staff_roles):
    """SQL for "the actor may see this": inside a staff area of theirs, or (for a volunteer)
    paid by a programme whose area contains the volunteer's own area."""
    from sqlalchemy import false, or_

    clauses = [area_column.startswith(grant.area.path, autoescape=True)
               for grant in actor.grants if grant.role in staff_roles]
    if access.holds(actor, ("volunteer",)):
        ancestors = [f"/{'/'.join(areas_ancestry(actor.area)[:depth])}/"
                     for depth in range(1, len(areas_ancestry(actor.area)) + 1)]
        clauses.append(programme_area_column.in_(ancestors))
    return or_(*clauses) if clauses else false()


def areas_ancestry(area: Area) -> list[str]:
    return [code for code in area.path.split("/") if code]


def get_or_404(session: Session, model, object_id: int, label: str):
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"no {label} {object_id}", **{f"{label}_id": object_id})
    return found


def clean_reason(reason: str | None, field: str = "reason") -> str:
    from volunteers.errors import Invalid

    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON_LENGTH:
        raise Invalid(f"a {field} is required", errors={field: ["1 to 500 characters"]})
    return text
