"""What reports ask of the area tree: a report copies its area's path (a move rewrites it),
and an area with open reports cannot close."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import areas
from volunteers.models import Area

from .models import OPEN_STATUSES, Report


def open_reports(session: Session, area: Area):
    found = session.scalar(select(Report.id).where(
        Report.area_path.startswith(area.path, autoescape=True),
        Report.status.in_(OPEN_STATUSES)).limit(1))
    if found is not None:
        return "area_has_open_reports", f"area {area.code} has open reports (report {found})"
    return None


def register() -> None:
    if ("reports", "area_path") not in areas.PATH_COPIES:
        areas.PATH_COPIES.append(("reports", "area_path"))
    if open_reports not in areas.CLOSE_GUARDS:
        areas.CLOSE_GUARDS.append(open_reports)


register()
