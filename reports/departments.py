"""Responsible departments (职能部门) and their staff."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import access, areas, audit
from volunteers.errors import Conflict, Invalid, NotFound
from volunteers.models import Area, User

from .models import Category, Department, DepartmentArea, DepartmentMember

ADMIN_ROLES = ("admin",)
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_NAME_LENGTH = 120


def create_department(session: Session, actor: User, code: str, name: str, area_code: str,
                      phone: str | None = None) -> Department:
    area = areas.get_area(session, area_code)
    access.require(actor, ADMIN_ROLES, area)
    if not code or not name:
        raise Invalid("a department needs a code and a name",
                      errors={"code": ["required"], "name": ["required"]})
    existing = session.scalar(select(Department).where(Department.code == code))
    if existing is not None:
        return existing
    department = Department(code=code, name=name, area=area, phone=phone)
    session.add(department)
    session.flush()
    audit.record(session, actor, "department.create", f"department:{code}", None,
                 {"name": name, "area": area.code, "phone": phone}, area=area)
    return department


def get_department(session: Session, code: str) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(f"no department {code}", department=code)
    return department


MEMO_KEY = "report_departments_of"


def add_member(session: Session, actor: User, department: Department, user: User) -> None:
    access.require(actor, ADMIN_ROLES, department.area)
    if user.id in member_ids(session, department.id):
        return
    session.add(DepartmentMember(department_id=department.id, user_id=user.id))
    session.flush()
    session.info.pop(MEMO_KEY, None)
    audit.record(session, actor, "department.staff_add", f"department:{department.code}",
                 None, {"user_id": user.id, "username": user.username}, area=department.area)


def member_ids(session: Session, department_id: int) -> set[int]:
    return set(session.scalars(select(DepartmentMember.user_id).where(
        DepartmentMember.department_id == department_id)))


def departments_of(session: Session, user_id: int) -> list[int]:
    """The departments a person works in, asked once per session: every page and every
    visibility check needs it, and a web request has its own session."""
    memo = session.info.setdefault(MEMO_KEY, {})
    if user_id not in memo:
        memo[user_id] = list(session.scalars(select(DepartmentMember.department_id).where(
            DepartmentMember.user_id == user_id)))
    return memo[user_id]


def visible_departments(session: Session, actor: User) -> list[Department]:
    """Departments an administrator or reviewer may dispatch to: those serving an area that
    overlaps one of theirs."""
    rows = session.scalars(select(Department).order_by(Department.name)).all()
    return [d for d in rows if access.overlaps(actor, ("admin", "reviewer"), d.area)]


def create_with(session: Session, actor: User, code: str, name: str, area_code: str,
                categories: list[str] | None = None, phone: str | None = None,
                served: list[str] | None = None) -> Department:
    """A new department (a code already used is a conflict), the categories it handles and
    the other areas it serves."""
    if not CODE_PATTERN.match(code or ""):
        raise Invalid("bad department code", errors={"code": ["lowercase letters, digits, - _"]})
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise Invalid("bad department name", errors={"name": [f"1 to {MAX_NAME_LENGTH}"]})
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Conflict(f"department {code} exists", errors={"code": ["taken"]})
    department = create_department(session, actor, code, name.strip(), area_code, phone)
    if categories:
        assign_categories(session, actor, department, categories)
    for served_code in served or ():
        serve_area(session, actor, department, served_code)
    return department


def assign_categories(session: Session, actor: User, department: Department,
                      codes: list[str]) -> None:
    """The department handles these report categories from now on."""
    access.require(actor, ADMIN_ROLES, department.area)
    found = {c.code: c for c in session.scalars(select(Category).where(Category.code.in_(codes)))}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise Invalid("unknown categories",
                      errors={"categories": [f"unknown: {', '.join(unknown)}"]})
    for code in codes:
        category = found[code]
        if category.department_id != department.id:
            before = category.department_id
            category.department_id = department.id
            audit.record(session, actor, "category.update", f"category:{code}",
                         {"department_id": before}, {"department_id": department.id})
    session.flush()


def serve_area(session: Session, actor: User, department: Department, area_code: str) -> None:
    area = areas.get_area(session, area_code)
    access.require(actor, ADMIN_ROLES, area)
    if session.get(DepartmentArea, (department.id, area.id)) is None:
        session.add(DepartmentArea(department_id=department.id, area_id=area.id))
        session.flush()
        audit.record(session, actor, "department.update", f"department:{department.code}",
                     None, {"serves": area.code}, area=department.area)


def served_areas(session: Session, department: Department) -> list[Area]:
    return list(session.scalars(select(Area).join(
        DepartmentArea, DepartmentArea.area_id == Area.id).where(
        DepartmentArea.department_id == department.id).order_by(Area.path)))


def remove_member(session: Session, actor: User, department: Department, user: User) -> None:
    access.require(actor, ADMIN_ROLES, department.area)
    member = session.scalar(select(DepartmentMember).where(
        DepartmentMember.department_id == department.id, DepartmentMember.user_id == user.id))
    if member is None:
        raise NotFound(f"user {user.id} is not staff of {department.code}", user_id=user.id)
    if member in department.members:
        department.members.remove(member)
    session.delete(member)
    session.flush()
    session.info.pop(MEMO_KEY, None)
    audit.record(session, actor, "department.staff_remove", f"department:{department.code}",
                 {"user_id": user.id, "username": user.username}, None, area=department.area)


def administered_departments(session: Session, actor: User) -> list[Department]:
    rows = session.scalars(select(Department).order_by(Department.code).limit(1_000)).all()
    return [d for d in rows if access.holds(actor, ADMIN_ROLES, d.area)]


def handled_categories(session: Session, department: Department) -> list[Category]:
    return list(session.scalars(select(Category).where(
        Category.department_id == department.id).order_by(Category.code)))
