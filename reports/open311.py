"""The domain side of Open311 GeoReport v2 (CONTRACT section 5): which reports the public
sees, how a report's state reads as the spec's open or closed with its notes, and the
service requests a query asks for. The web layer (``web/open311.py``) parses the request,
renders JSON or XML and answers the spec's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers.models import User

from .models import Category, Report

DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
PUBLIC_STATUSES = ("verified", "dispatched", "in_progress", "resolved", "closed")
CLOSED_STATUSES = ("resolved", "closed", "rejected")


def open311_status(report: Report) -> str:
    return "closed" if report.status in CLOSED_STATUSES else "open"


def status_notes(report: Report) -> str | None:
    if report.resolution:
        return report.resolution
    if report.reject_reason:
        return report.reject_reason
    if report.department is not None:
        return f"已交由{report.department.name}处理"
    return None


def visible_to(query, holder: User | None):
    """Public requests, plus the key holder's own (any state) when there is one."""
    clause = Report.status.in_(PUBLIC_STATUSES)
    if holder is not None:
        clause = or_(clause, Report.reporter_id == holder.id)
    return query.where(clause)


@dataclass
class RequestFilters:
    """A GeoReport requests query, already checked: ids win over every other filter; with
    neither start nor end, the last ``DEFAULT_WINDOW``."""

    ids: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    status: str | None = None  # "open", "closed" or None for both
    start: datetime | None = None
    end: datetime | None = None


def filtered(query, filters: RequestFilters):
    if filters.ids:
        return query.where(Report.id.in_(filters.ids))
    if filters.codes:
        query = query.join(Category).where(Category.code.in_(filters.codes))
    if filters.status == "open":
        query = query.where(Report.status.not_in(CLOSED_STATUSES))
    elif filters.status == "closed":
        query = query.where(Report.status.in_(CLOSED_STATUSES))
    start, end = filters.start, filters.end
    if start is None and end is None:
        start = now() - DEFAULT_WINDOW
    if start is not None:
        query = query.where(Report.created_at >= start)
    if end is not None:
        query = query.where(Report.created_at <= end)
    return query


def service_requests(session: Session, holder: User | None,
                     filters: RequestFilters) -> list[Report]:
    """The newest ``MAX_REQUESTS`` reports the query asks for that ``holder`` may see."""
    query = filtered(visible_to(select(Report), holder), filters)
    return list(session.scalars(query.order_by(Report.created_at.desc()).limit(MAX_REQUESTS)))


def service_request(session: Session, holder: User | None, report_id: int) -> Report | None:
    return session.scalar(visible_to(select(Report).where(Report.id == report_id), holder))


def active_category(session: Session, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == code,
                                                 Category.active.is_(True)))
