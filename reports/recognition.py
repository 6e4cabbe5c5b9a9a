"""Incident reports in the administrators' dashboard: reports by category and status, and by
month, with the on-time rate. Registered into ``honours.dashboard`` when this package is
imported (``honours`` never imports ``reports``)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from honours import dashboard
from honours.dashboard import Table
from volunteers.models import Area, Programme

from .assessment import in_scope
from .models import Category, Report

REPORT_STATUS_COLUMNS = (("submitted", "Submitted"), ("verified", "Verified"),
                         ("dispatched", "Dispatched"), ("in_progress", "In progress"),
                         ("resolved", "Resolved"), ("closed", "Closed"),
                         ("rejected", "Rejected"))


def reports_by_category(session: Session, programme: Programme, area: Area,
                        year: int) -> Table:
    """Incident reports made in the area in the year, one row per category: how many are in
    each status now, and the on-time rate (resolved within the category's deadline, of those
    resolved, in percent; empty when none is resolved yet)."""
    start, end = dashboard.year_range(year)
    resolved = Report.resolved_at.is_not(None)
    query = (select(Category.id, Category.name, Report.status, func.count(Report.id),
                    func.sum(case((resolved, 1), else_=0)),
                    func.sum(case((Report.resolved_on_time.is_(True), 1), else_=0)))
             .join(Category, Category.id == Report.category_id)
             .where(Report.created_at >= start, Report.created_at < end, in_scope(area))
             .group_by(Category.id, Category.name, Report.status))
    statuses = [key for key, _ in REPORT_STATUS_COLUMNS]
    by_category: dict[int, dict] = {}
    for category_id, name, status, count, done, on_time in session.execute(query):
        cells = by_category.setdefault(category_id, {
            "name": name, "counts": dict.fromkeys(statuses, 0), "resolved": 0, "on_time": 0})
        if status in cells["counts"]:
            cells["counts"][status] += int(count)
        cells["resolved"] += int(done or 0)
        cells["on_time"] += int(on_time or 0)
    rows = []
    for _category_id, cells in sorted(by_category.items(),
                                      key=lambda item: (-sum(item[1]["counts"].values()),
                                                        item[0])):
        counts = cells["counts"]
        rate = (round(100 * cells["on_time"] / cells["resolved"])
                if cells["resolved"] else None)
        rows.append([cells["name"], sum(counts.values()), *[counts[s] for s in statuses],
                     cells["on_time"], rate])
    columns = [("category", "Category"), ("reports", "Reports"), *REPORT_STATUS_COLUMNS,
               ("on_time", "Resolved on time"), ("on_time_rate", "On-time rate (%)")]
    return Table("reports", "Incident reports by category", columns, rows,
                 chart=["reports", "resolved", "closed"], unit="reports")


def reports_by_month(session: Session, programme: Programme, area: Area, year: int) -> Table:
    """Incident reports made in the area per month: received, rejected, resolved, resolved
    on time and the on-time rate in percent."""
    start, end = dashboard.year_range(year)
    month = dashboard.month_of(session, Report.created_at)
    query = (select(month, func.count(Report.id),
                    func.sum(case((Report.status == "rejected", 1), else_=0)),
                    func.sum(case((Report.resolved_at.is_not(None), 1), else_=0)),
                    func.sum(case((Report.resolved_on_time.is_(True), 1), else_=0)))
             .where(Report.created_at >= start, Report.created_at < end, in_scope(area))
             .group_by(month))
    figures = {label: (int(count), int(rejected or 0), int(done or 0), int(on_time or 0))
               for label, count, rejected, done, on_time in session.execute(query)}
    rows = []
    for label in dashboard.month_labels(year):
        count, rejected, done, on_time = figures.get(label, (0, 0, 0, 0))
        rows.append([label, count, rejected, done, on_time,
                     round(100 * on_time / done) if done else None])
    return Table("reports_monthly", "Incident reports by month",
                 [("month", "Month"), ("reports", "Reports"), ("rejected", "Rejected"),
                  ("resolved", "Resolved"), ("on_time", "Resolved on time"),
                  ("on_time_rate", "On-time rate (%)")],
                 rows, chart=["reports", "resolved", "on_time"], unit="reports")


dashboard.register_section(reports_by_category)
dashboard.register_section(reports_by_month)
