"""Incident reports (随手拍): categories, departments, reports, their photos and history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime
from volunteers.models import Area, Programme, User

URGENCIES = ("urgent", "time_limited", "long_term")
STATUSES = ("submitted", "verified", "rejected", "dispatched", "in_progress", "resolved",
            "closed")
OPEN_STATUSES = ("submitted", "verified", "dispatched", "in_progress")
FEEDBACK_WINDOW = timedelta(hours=12)
OPEN_CONDITION = "status IN ('submitted', 'verified', 'dispatched', 'in_progress')"
MEDIA_KINDS = ("photo", "video")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Department(Base):
    """A responsible department (职能部门: 交警队, 城管中队 ...) serving an area."""

    __tablename__ = "report_departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    phone: Mapped[str | None] = mapped_column(String(32))

    area: Mapped[Area] = relationship()
    members: Mapped[list[DepartmentMember]] = relationship(
        back_populates="department", cascade="all, delete-orphan")


class DepartmentMember(Base):
    """Staff of a department: they see and handle the reports dispatched to it."""

    __tablename__ = "report_department_members"
    __table_args__ = (UniqueConstraint("department_id", "user_id",
                                       name="uq_report_department_members_department_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("report_departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    department: Mapped[Department] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class DepartmentArea(Base):
    """An area a department serves besides its own (a traffic brigade covering two streets)."""

    __tablename__ = "report_department_areas"

    department_id: Mapped[int] = mapped_column(ForeignKey("report_departments.id"),
                                               primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)


class CategoryGroup(Base):
    """A group of categories (交通设施, 市容环境 ...): an Open311 service group."""

    __tablename__ = "report_category_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)

    categories: Mapped[list[Category]] = relationship(
        back_populates="group", order_by="Category.position")


class Category(Base):
    """What can be reported, what it earns and who handles it by when."""

    __tablename__ = "report_categories"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("deadline_hours > 0", name="deadline_positive"),
        CheckConstraint(_in("urgency", URGENCIES), name="urgency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("report_category_groups.id"))
    name: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(16))
    deadline_hours: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("report_departments.id"))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[CategoryGroup] = relationship(back_populates="categories", lazy="joined")
    # Many-to-one loads come from the identity map after the first: no join per report row.
    department: Mapped[Department | None] = relationship()


class ReportSettings(Base):
    """Per-programme rules for reports: what share of the points a duplicate earns."""

    __tablename__ = "report_settings"
    __table_args__ = (
        CheckConstraint("duplicate_share_percent BETWEEN 0 AND 100", name="share_percent"),
    )

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    duplicate_share_percent: Mapped[int] = mapped_column(Integer, default=0)

    programme: Mapped[Programme] = relationship()


class Report(Base):
    """One incident report and where it stands. ``area_path`` copies the area's path so the
    reviewer queue is one index range (path prefix, status, created_at)."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("(lat IS NULL AND lng IS NULL) OR "
                        "(lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180)",
                        name="coordinates"),
        CheckConstraint("reporter_id IS NOT NULL OR reporter_phone IS NOT NULL",
                        name="reporter_known"),
        # The reviewer's queues (open reports of an area's subtree, oldest first): a partial
        # index of the few open reports. On a full (status, created_at) index PostgreSQL
        # misjudges how far down the time order the recent open reports lie and walks the
        # whole created_at index instead (bench/reports_bench.py: 150 ms against 0.2 ms).
        Index("ix_reports_open_created_at_area_path", "created_at", "area_path",
              postgresql_where=text(OPEN_CONDITION), sqlite_where=text(OPEN_CONDITION)),
        Index("ix_reports_reporter_id_created_at", "reporter_id", "created_at"),
        Index("ix_reports_category_id_created_at", "category_id", "created_at"),
        Index("ix_reports_department_id_dispatched_at", "department_id", "dispatched_at"),
        Index("ix_reports_dispatched_at", "dispatched_at"),
        Index("ix_reports_escalate_at", "escalate_at"),
        Index("ix_reports_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(String(600))
    responsible_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    # Both None when the phone gave no position and the reporter typed an address instead.
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    points_awarded: Mapped[int] = mapped_column(Integer, default=0)
    reward_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    claw_back_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    claw_back_shortfall_points: Mapped[int] = mapped_column(Integer, default=0)
    verify_request_key: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("report_departments.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    resolution: Mapped[str | None] = mapped_column(String(1000))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    feedback_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_feedback_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    handling_seconds: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    category: Mapped[Category] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(foreign_keys=[area_id], lazy="joined")
    responsible_area: Mapped[Area] = relationship(foreign_keys=[responsible_area_id])
    programme: Mapped[Programme | None] = relationship()
    reporter: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()
    duplicate_of: Mapped[Report | None] = relationship(remote_side=[id])
    media: Mapped[list[ReportMedia]] = relationship(
        back_populates="report", order_by="ReportMedia.position")
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id")

    def overdue(self, moment: datetime) -> bool:
        """Late for its first feedback, for dispatch after verification, or for its handling
        deadline (``reports.overdue_clause`` says the same in SQL)."""
        if self.status == "submitted":
            return moment > self.feedback_due_at
        if self.status == "verified" and self.verified_at is not None:
            return moment > self.verified_at + FEEDBACK_WINDOW
        if self.status in ("dispatched", "in_progress") and self.deadline_at is not None:
            return moment > self.deadline_at
        return False


def in_area(path: str):
    """Reports in the subtree at ``path``: a LIKE with a constant prefix (an expression built
    in SQL, as ``startswith`` makes, would hide the prefix from PostgreSQL's planner)."""
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Report.area_path.like(escaped + "%", escape="\\")


class ReportMedia(Base):
    """A photo (stored re-encoded without metadata, in a display and a thumbnail size) or one
    short video."""

    __tablename__ = "report_media"
    __table_args__ = (CheckConstraint(_in("kind", MEDIA_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(80))
    thumbnail_name: Mapped[str | None] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)

    report: Mapped[Report] = relationship(back_populates="media")


class ReportEvent(Base):
    """One step of a report's life, as the reporter and the assessment read it."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    report: Mapped[Report] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
