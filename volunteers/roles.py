"""Roles granted and revoked per area by an administrator of that area. Nobody grants above
their own areas; ``admin`` itself needs a second administrator of the area (maker-checker),
and the last administrator of an area cannot be revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now

from . import access, areas, audit, users
from .errors import Conflict, Forbidden, Invalid, NotFound
from .models import ROLES, Area, RoleGrant, RoleRequest, User

ADMIN_ROLES = ("admin",)
MAX_PENDING_LISTED = 200


class RoleRefused(Conflict):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message, **details)
        self.code = code


def grant(session: Session, actor: User, user_id: int, role: str,
          area_code: str) -> RoleGrant | RoleRequest:
    """Grants ``role`` on the area at once, or for ``admin`` files a request that another
    administrator of the area approves."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", errors={"role": [f"one of {', '.join(ROLES)}"]})
    area = areas.get_area(session, area_code)
    access.require(actor, ADMIN_ROLES, area)
    user = users.get_user(session, user_id)
    if area.closed_at is not None:
        raise RoleRefused("area_closed", f"area {area.code} is closed", area=area.code)
    existing = _grant_of(user, role, area)
    if existing is not None:
        return existing
    if role == "admin":
        return _request_admin(session, actor, user, area)
    return _apply(session, actor, user, role, area)


def _apply(session: Session, actor: User, user: User, role: str, area: Area,
           approved_by: User | None = None) -> RoleGrant:
    granted = users.grant_role(session, user, role, area.code)
    after = {"user_id": user.id, "username": user.username, "role": role, "area": area.code}
    if approved_by is not None:
        after["approved_by"] = approved_by.username
    audit.record(session, approved_by or actor, "role.grant", f"user:{user.id}", None, after,
                 area=area)
    return granted


def _request_admin(session: Session, actor: User, user: User, area: Area) -> RoleRequest:
    pending = session.scalar(select(RoleRequest).where(
        RoleRequest.user_id == user.id, RoleRequest.role == "admin",
        RoleRequest.area_id == area.id, RoleRequest.status == "awaiting_approval"))
    if pending is not None:
        return pending
    request = RoleRequest(user_id=user.id, role="admin", area_id=area.id,
                          status="awaiting_approval", requested_by_id=actor.id,
                          created_at=now())
    session.add(request)
    session.flush()
    audit.record(session, actor, "role.request", f"user:{user.id}", None,
                 {"user_id": user.id, "username": user.username, "role": "admin",
                  "area": area.code, "request_id": request.id}, area=area)
    return request


def decide(session: Session, actor: User, request_id: int, approve: bool) -> RoleRequest:
    """A second administrator of the area approves (the role is granted) or rejects."""
    request = session.get(RoleRequest, request_id)
    if request is None:
        raise NotFound(f"no role request {request_id}", request_id=request_id)
    access.require(actor, ADMIN_ROLES, request.area)
    if request.status != "awaiting_approval":
        raise RoleRefused("already_decided", f"role request {request_id} was already decided")
    if request.requested_by_id == actor.id:
        raise Forbidden("a second administrator must approve: not the one who asked")
    if request.user_id == actor.id:
        raise Forbidden("nobody approves their own role")
    request.status = "granted" if approve else "rejected"
    request.decided_by_id, request.decided_at = actor.id, now()
    session.flush()
    if approve:
        _apply(session, request.requested_by, request.user, "admin", request.area,
               approved_by=actor)
    else:
        audit.record(session, actor, "role.reject", f"user:{request.user_id}", None,
                     {"request_id": request.id, "role": "admin", "area": request.area.code},
                     area=request.area)
    return request


def pending_requests(session: Session, actor: User) -> list[RoleRequest]:
    rows = session.scalars(select(RoleRequest).where(
        RoleRequest.status == "awaiting_approval").order_by(RoleRequest.id)
        .limit(MAX_PENDING_LISTED)).all()
    return [r for r in rows if access.holds(actor, ADMIN_ROLES, r.area)]


def revoke(session: Session, actor: User, user_id: int, role: str, area_code: str) -> None:
    """Takes ``role`` on that area away; never the last administrator of an area."""
    area = areas.get_area(session, area_code)
    access.require(actor, ADMIN_ROLES, area)
    user = users.get_user(session, user_id)
    found = _grant_of(user, role, area)
    if found is None:
        raise NotFound(f"user {user_id} holds no {role} on {area.code}", user_id=user_id)
    if role == "admin" and not _other_admins(session, user, area):
        raise RoleRefused("last_admin", f"{user.username} is the last administrator of "
                          f"{area.code}", area=area.code)
    user.grants.remove(found)
    session.delete(found)
    session.flush()
    audit.record(session, actor, "role.revoke", f"user:{user.id}",
                 {"user_id": user.id, "username": user.username, "role": role,
                  "area": area.code}, None, area=area)


def _grant_of(user: User, role: str, area: Area) -> RoleGrant | None:
    for each in user.grants:
        if each.role == role and each.area_id == area.id:
            return each
    return None


def _other_admins(session: Session, user: User, area: Area) -> bool:
    """Whether an active administrator other than ``user`` reaches ``area`` (holds admin on it
    or on one of its ancestors)."""
    ancestors = areas.ancestry(area)
    return session.scalar(
        select(RoleGrant.id).join(User, User.id == RoleGrant.user_id)
        .join(Area, Area.id == RoleGrant.area_id)
        .where(RoleGrant.role == "admin", RoleGrant.user_id != user.id,
               User.active.is_(True), Area.code.in_(ancestors)).limit(1)) is not None
