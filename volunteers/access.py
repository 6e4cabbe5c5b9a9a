"""Who may do what, where: a role granted on an area reaches that area's subtree only."""

from __future__ import annotations

from .errors import Forbidden, NotInYourArea, Unauthorized
from .models import Area, User


def holds(user: User, roles, area: Area | None = None) -> bool:
    """Whether ``user`` holds one of ``roles`` on ``area`` or above it (anywhere if None)."""
    for grant in user.grants:
        if grant.role in roles and (area is None or grant.area.contains(area)):
            return True
    return False


def require(user: User | None, roles, area: Area | None = None) -> None:
    """Raise unless ``user`` holds one of ``roles`` over ``area``."""
    if user is None:
        raise Unauthorized("sign in first")
    if not holds(user, roles):
        raise Forbidden(f"needs the role {' or '.join(roles)}")
    if area is not None and not holds(user, roles, area):
        raise NotInYourArea(f"area {area.code} is outside your areas", area=area.code)


def staff_areas(user: User, roles) -> list[Area]:
    return [grant.area for grant in user.grants if grant.role in roles]


def overlaps(user: User, roles, area: Area) -> bool:
    """Whether one of the user's ``roles`` reaches ``area`` or some part of it: a community
    reviewer works inside a street-wide programme, but not in another street's."""
    return any(
        grant.role in roles and (grant.area.contains(area) or area.contains(grant.area))
        for grant in user.grants
    )


def require_overlap(user: User | None, roles, area: Area) -> None:
    require(user, roles)
    if not overlaps(user, roles, area):
        raise NotInYourArea(f"area {area.code} is outside your areas", area=area.code)
