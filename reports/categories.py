"""Report categories, managed by administrators as groups and subcategories, each with its
points, urgency class, deadline, responsible department and legal basis."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import access, audit
from volunteers.errors import Invalid, NotFound
from volunteers.models import User

from .models import URGENCIES, Category, CategoryGroup, Department

AUDITED_FIELDS = ("name", "points", "urgency", "deadline_hours", "department_id", "legal_basis",
                  "active")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_POINTS = 10_000
MAX_DEADLINE_HOURS = 24 * 365
ADMIN_ROLES = ("admin",)


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    points: int
    urgency: str
    deadline_hours: int
    department_id: int | None = None
    legal_basis: str | None = None
    active: bool = True


def check_spec(spec: CategorySpec) -> None:
    errors = {}
    if not CODE_PATTERN.match(spec.code or ""):
        errors["code"] = ["lowercase letters, digits, - and _"]
    if not (spec.name or "").strip():
        errors["name"] = ["required"]
    if not 0 <= spec.points <= MAX_POINTS:
        errors["points"] = [f"0 to {MAX_POINTS}"]
    if spec.urgency not in URGENCIES:
        errors["urgency"] = [f"one of {', '.join(URGENCIES)}"]
    if not 0 < spec.deadline_hours <= MAX_DEADLINE_HOURS:
        errors["deadline_hours"] = [f"1 to {MAX_DEADLINE_HOURS}"]
    if errors:
        raise Invalid("the category is not valid", errors=errors)


def save_group(session: Session, actor: User, code: str, name: str,
               position: int = 0) -> CategoryGroup:
    access.require(actor, ADMIN_ROLES)
    if not CODE_PATTERN.match(code or "") or not (name or "").strip():
        raise Invalid("bad group", errors={"code": ["lowercase letters, digits, - and _"]})
    group = session.scalar(select(CategoryGroup).where(CategoryGroup.code == code))
    if group is None:
        group = CategoryGroup(code=code)
        session.add(group)
    group.name, group.position = name.strip(), position
    session.flush()
    return group


def save_category(session: Session, actor: User, group_code: str, spec: CategorySpec,
                  position: int = 0) -> Category:
    """Creates the category or updates the one with that code."""
    access.require(actor, ADMIN_ROLES)
    check_spec(spec)
    group = session.scalar(select(CategoryGroup).where(CategoryGroup.code == group_code))
    if group is None:
        raise Invalid(f"no group {group_code}", errors={"group": ["unknown group"]})
    if spec.department_id is not None and session.get(Department, spec.department_id) is None:
        raise Invalid("unknown department", errors={"department": ["unknown department"]})
    category = session.scalar(select(Category).where(Category.code == spec.code))
    before = None if category is None else audit.snapshot(category, AUDITED_FIELDS)
    if category is None:
        category = Category(code=spec.code)
        session.add(category)
    category.group, category.position = group, position
    for name in AUDITED_FIELDS:
        setattr(category, name, getattr(spec, name))
    session.flush()
    after = audit.snapshot(category, AUDITED_FIELDS)
    if before != after:
        audit.record(session, actor, "category.create" if before is None else "category.update",
                     f"category:{category.code}", before, after)
    return category


def active_categories(session: Session) -> list[Category]:
    return list(session.scalars(
        select(Category).join(CategoryGroup).where(Category.active.is_(True))
        .order_by(CategoryGroup.position, CategoryGroup.id, Category.position, Category.id)))


def all_groups(session: Session) -> list[CategoryGroup]:
    return list(session.scalars(select(CategoryGroup).order_by(CategoryGroup.position,
                                                               CategoryGroup.id)))


def get_category(session: Session, code: str, *, active_only: bool = True) -> Category:
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None or (active_only and not category.active):
        raise NotFound(f"no category {code}", category=code)
    return category
