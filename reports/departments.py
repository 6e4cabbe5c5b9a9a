"""Responsible departments (职能部门) and their staff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import access, areas, audit
from volunteers.errors import Invalid, NotFound
from volunteers.models import User

from .models import Department, DepartmentMember

ADMIN_ROLES = ("admin",)


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
