"""The area tree: 区 > 街道 > 社区 > 网格 > 院落 under the root ``root``."""

from __future__ import annotations

import re

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from ledger.clock import now

from . import access, audit
from .errors import Conflict, Invalid, NotFound
from .models import AREA_LEVELS, Area, User

ROOT_CODE = "root"
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CODE_RULE = "lowercase letters, digits, - and _"


def ensure_root(session: Session) -> Area:
    root = session.scalar(select(Area).where(Area.code == ROOT_CODE))
    if root is None:
        root = Area(code=ROOT_CODE, name="全部地区", level="root", path=f"/{ROOT_CODE}/")
        session.add(root)
        session.flush()
    return root


def get_area(session: Session, code: str) -> Area:
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise NotFound(f"no area {code}", area=code)
    return area


def create_area(session: Session, code: str, name: str, level: str, parent_code: str) -> Area:
    """A child area one level below its parent (the root takes districts)."""
    if not CODE_PATTERN.match(code or ""):
        raise Invalid(f"bad area code {code!r}", errors={"code": [CODE_RULE]})
    if level not in AREA_LEVELS[1:]:
        raise Invalid(f"unknown area level {level!r}",
                      errors={"level": [f"one of {AREA_LEVELS[1:]}"]})
    parent = get_area(session, parent_code)
    if AREA_LEVELS.index(level) != AREA_LEVELS.index(parent.level) + 1:
        raise Invalid(f"a {level} cannot sit under a {parent.level}")
    existing = session.scalar(select(Area).where(Area.code == code))
    if existing is not None:
        return existing
    area = Area(code=code, name=name, level=level, parent=parent, path=f"{parent.path}{code}/")
    session.add(area)
    session.flush()
    return area


def subtree(session: Session, area: Area) -> list[Area]:
    return list(session.scalars(
        select(Area).where(Area.path.startswith(area.path, autoescape=True)).order_by(Area.path)
    ))


def ancestry(area: Area) -> list[str]:
    """The codes from the root down to the area itself."""
    return [code for code in area.path.split("/") if code]


# --- Running the tree: administrators create, rename, move and close areas --------------

ADMIN_ROLES = ("admin",)
MAX_NAME_LENGTH = 120
MAX_BOUNDARY_POINTS = 5_000
# Tables that copy an area's path (a report's ``area_path``): a move rewrites them with the
# tree. Packages above this one register theirs (``reports`` does) at import.
PATH_COPIES: list[tuple[str, str]] = []
# Checks run before an area closes, registered by the packages that know what keeps an area
# open (open reports, live offers): each answers None, or the stable code of its refusal.
CLOSE_GUARDS: list = []
AUDITED_FIELDS = ("name", "level", "path", "boundary", "centre_lat", "centre_lng", "closed_at")


class AreaRefused(Conflict):
    """The area cannot be changed that way."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message, **details)
        self.code = code


def add_area(session: Session, actor: User, code: str, name: str, level: str,
             parent_code: str, boundary: dict | None = None,
             centre: tuple[float, float] | None = None) -> Area:
    """A new area under one the actor administers; a code already used is a conflict."""
    parent = get_area(session, parent_code)
    access.require(actor, ADMIN_ROLES, parent)
    errors = _name_errors(name)
    if not CODE_PATTERN.match(code or ""):
        errors["code"] = [CODE_RULE]
    if level not in AREA_LEVELS[1:]:
        errors["level"] = [f"one of {', '.join(AREA_LEVELS[1:])}"]
    elif AREA_LEVELS.index(level) != AREA_LEVELS.index(parent.level) + 1:
        errors["level"] = [f"a {level} cannot sit under a {parent.level}"]
    errors |= geometry_errors(boundary, centre)
    if errors:
        raise Invalid("the area is not valid", errors=errors)
    if parent.closed_at is not None:
        raise AreaRefused("area_closed", f"area {parent.code} is closed", area=parent.code)
    if session.scalar(select(Area.id).where(Area.code == code)) is not None:
        raise Conflict(f"area {code} exists", errors={"code": ["taken"]})
    area = Area(code=code, name=name.strip(), level=level, parent=parent,
                path=f"{parent.path}{code}/", boundary=boundary,
                centre_lat=centre[0] if centre else None,
                centre_lng=centre[1] if centre else None)
    session.add(area)
    session.flush()
    audit.record(session, actor, "area.create", f"area:{code}", None,
                 audit.snapshot(area, AUDITED_FIELDS), area=area)
    return area


def update_area(session: Session, actor: User, code: str, changes: dict) -> Area:
    """Rename, redraw (boundary, centre) or move (``parent``) an area the actor administers.
    A move keeps the level, so the new parent sits one level above; never under itself."""
    area = get_area(session, code)
    access.require(actor, ADMIN_ROLES, area)
    if area.code == ROOT_CODE:
        raise AreaRefused("area_is_root", "the root area cannot be changed")
    before = audit.snapshot(area, AUDITED_FIELDS)
    errors = {}
    if "name" in changes:
        errors |= _name_errors(changes["name"])
    centre = changes.get("centre")
    if "boundary" in changes or "centre" in changes:
        errors |= geometry_errors(changes.get("boundary"), centre)
    if errors:
        raise Invalid("the area is not valid", errors=errors)
    if "name" in changes:
        area.name = changes["name"].strip()
    if "boundary" in changes:
        area.boundary = changes["boundary"]
    if "centre" in changes:
        area.centre_lat, area.centre_lng = centre if centre else (None, None)
    kind = "area.update"
    if changes.get("parent") and changes["parent"] != area.parent.code:
        _move(session, actor, area, changes["parent"])
        kind = "area.move"
    session.flush()
    audit.record(session, actor, kind, f"area:{code}", before,
                 audit.snapshot(area, AUDITED_FIELDS), area=area)
    return area


def _move(session: Session, actor: User, area: Area, parent_code: str) -> None:
    parent = get_area(session, parent_code)
    access.require(actor, ADMIN_ROLES, parent)
    if area.contains(parent):
        raise AreaRefused("area_cycle", f"area {area.code} cannot move under itself or its "
                          f"own child {parent.code}", area=area.code, parent=parent.code)
    if AREA_LEVELS.index(area.level) != AREA_LEVELS.index(parent.level) + 1:
        raise Invalid(f"a {area.level} cannot sit under a {parent.level}",
                      errors={"parent": [f"a {area.level} sits under a "
                                         f"{AREA_LEVELS[AREA_LEVELS.index(area.level) - 1]}"]})
    if parent.closed_at is not None:
        raise AreaRefused("area_closed", f"area {parent.code} is closed", area=parent.code)
    old, new = area.path, f"{parent.path}{area.code}/"
    session.flush()
    for table, column in [("areas", "path"), *PATH_COPIES]:
        session.execute(
            text(f"UPDATE {table} SET {column} = :new || substr({column}, :cut) "
                 f"WHERE substr({column}, 1, :length) = :old"),
            {"new": new, "old": old, "cut": len(old) + 1, "length": len(old)})
    session.expire_all()
    area.parent_id = parent.id


def close_area(session: Session, actor: User, code: str) -> Area:
    """Closes an area and its subtree for new things (people, reports, areas); its history
    stays. Refused while it has open reports or live offers."""
    area = get_area(session, code)
    access.require(actor, ADMIN_ROLES, area)
    if area.code == ROOT_CODE:
        raise AreaRefused("area_is_root", "the root area cannot be closed")
    if area.closed_at is not None:
        raise AreaRefused("area_closed", f"area {code} is already closed", area=code)
    for guard in CLOSE_GUARDS:
        refusal = guard(session, area)
        if refusal is not None:
            raise AreaRefused(refusal[0], refusal[1], area=code)
    before = audit.snapshot(area, AUDITED_FIELDS)
    moment = now()
    for each in subtree(session, area):
        if each.closed_at is None:
            each.closed_at = moment
    session.flush()
    audit.record(session, actor, "area.close", f"area:{code}", before,
                 audit.snapshot(area, AUDITED_FIELDS), area=area)
    return area


def administered(session: Session, actor: User, include_closed: bool = True) -> list[Area]:
    """Every area inside the actor's admin areas, in tree order (bounded)."""
    paths = sorted({grant.area.path for grant in actor.grants if grant.role in ADMIN_ROLES})
    if not paths:
        return []
    query = select(Area).where(or_(*(Area.path.startswith(p, autoescape=True) for p in paths)))
    if not include_closed:
        query = query.where(Area.closed_at.is_(None))
    return list(session.scalars(query.order_by(Area.path).limit(MAX_LISTED_AREAS)))


MAX_LISTED_AREAS = 5_000


def _name_errors(name) -> dict:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        return {"name": [f"1 to {MAX_NAME_LENGTH} characters"]}
    return {}


def geometry_errors(boundary, centre) -> dict:
    """A GeoJSON Polygon of [longitude, latitude] rings, each closed and of at least four
    points, and a centre (latitude, longitude) inside the world's bounds."""
    errors = {}
    if boundary is not None and not _valid_polygon(boundary):
        errors["boundary"] = ["a GeoJSON Polygon: closed rings of [longitude, latitude], "
                              f"4 to {MAX_BOUNDARY_POINTS} points"]
    if centre is not None:
        try:
            lat, lng = centre
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lng))
            ok = ok and -90 <= lat <= 90 and -180 <= lng <= 180
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors["centre"] = ["latitude -90 to 90 and longitude -180 to 180"]
    return errors


def _valid_polygon(boundary) -> bool:
    if not isinstance(boundary, dict) or boundary.get("type") != "Polygon":
        return False
    rings = boundary.get("coordinates")
    if not isinstance(rings, list) or not rings:
        return False
    total = 0
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return False
        for point in ring:
            if (not isinstance(point, list) or len(point) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in point)
                    or not -180 <= point[0] <= 180 or not -90 <= point[1] <= 90):
                return False
        if ring[0] != ring[-1]:
            return False
        total += len(ring)
    return total <= MAX_BOUNDARY_POINTS
