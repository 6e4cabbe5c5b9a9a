"""The area tree: 区 > 街道 > 社区 > 网格 > 院落 under the root ``root``."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Invalid, NotFound
from .models import AREA_LEVELS, Area

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
