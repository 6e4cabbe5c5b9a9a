"""Incident reports (随手拍, the 丰行侠 model): filing, review, dispatch to a department,
handling, closure, escalation of overdue reports and the points they earn.

submitted -> verified (points) | rejected (reason) -> dispatched -> in_progress -> resolved
-> closed. The reporter hears of every step through the notification centre."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

import ledger
from ledger.clock import now
from volunteers import access, areas, audit, programmes
from volunteers.errors import Conflict, Invalid, NotFound, Unauthorized
from volunteers.models import Area, Programme, RoleGrant, User
from volunteers.notifications import N_, notify

from . import departments, uploads
from .models import (
    FEEDBACK_WINDOW,
    OPEN_STATUSES,
    Category,
    Report,
    ReportEvent,
    ReportMedia,
    ReportSettings,
    in_area,
)

DUPLICATE_RADIUS_METRES = 50
DUPLICATE_WINDOW = timedelta(hours=24)
DEFAULT_DUPLICATE_SHARE_PERCENT = 0
MAX_DESCRIPTION_LENGTH = 2000
MAX_ADDRESS_LENGTH = 300
MAX_REASON_LENGTH = 500
MAX_RESOLUTION_LENGTH = 1000
MAX_PAGE_SIZE = 200
MAX_ESCALATIONS_PER_RUN = 1000
METRES_PER_DEGREE_LATITUDE = 111_320
EARTH_RADIUS_METRES = 6_371_000
REVIEW_ROLES = ("reviewer", "admin")
REPORT_LINK = "/reports/{id}"


@dataclass(frozen=True)
class Draft:
    """What a reporter sends. ``area_code`` is the courtyard of a QR poster, else the reporter's
    own area is used; a resident without an account gives ``reporter_name`` and ``_phone``."""

    category_code: str
    lat: float | None
    lng: float | None
    address: str
    description: str
    area_code: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


# --- filing --------------------------------------------------------------------------------


def check_draft(session: Session, draft: Draft) -> Category:
    """The draft's category, or a validation error listing every bad field."""
    errors: dict[str, list[str]] = {}
    category = session.scalar(select(Category).where(Category.code == draft.category_code))
    if category is None or not category.active:
        errors["category"] = ["unknown category"]
    errors.update(location_errors(draft))
    if not (draft.description or "").strip():
        errors["description"] = ["describe what you saw"]
    elif len(draft.description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = [f"at most {MAX_DESCRIPTION_LENGTH} characters"]
    if len(draft.address or "") > MAX_ADDRESS_LENGTH:
        errors["address"] = [f"at most {MAX_ADDRESS_LENGTH} characters"]
    if errors:
        raise Invalid("the report is not valid", errors=errors)
    return category


def location_errors(draft: Draft) -> dict[str, list[str]]:
    """Coordinates in range, or none at all and a typed address instead."""
    if draft.lat is None and draft.lng is None:
        if (draft.address or "").strip():
            return {}
        return {"address": ["share your location or type an address"]}
    errors = {}
    if draft.lat is None or math.isnan(draft.lat) or not -90 <= draft.lat <= 90:
        errors["lat"] = ["a latitude between -90 and 90"]
    if draft.lng is None or math.isnan(draft.lng) or not -180 <= draft.lng <= 180:
        errors["lng"] = ["a longitude between -180 and 180"]
    return errors


def report_area(session: Session, actor: User | None, draft: Draft) -> Area:
    if draft.area_code:
        area = session.scalar(select(Area).where(Area.code == draft.area_code))
        if area is None:
            raise Invalid("unknown area", errors={"area": ["unknown area"]})
        if actor is None and area.level != "courtyard":
            raise Unauthorized("sign in, or report from a courtyard's poster")
        return area
    if actor is None:
        raise Unauthorized("sign in, or report from a courtyard's poster")
    return actor.area


def check_anonymous(draft: Draft) -> None:
    errors = {}
    if not (draft.reporter_name or "").strip() or len(draft.reporter_name) > 60:
        errors["name"] = ["your name, at most 60 characters"]
    phone = (draft.reporter_phone or "").replace(" ", "").replace("-", "")
    if not (phone.lstrip("+").isdigit() and 5 <= len(phone) <= 20):
        errors["phone"] = ["a phone number"]
    if errors:
        raise Invalid("tell us who you are", errors=errors)


def paying_programme(session: Session, area: Area) -> Programme | None:
    """The programme on the nearest area enclosing ``area`` (the longest path prefix)."""
    prefixes = ["/" + "/".join(areas.ancestry(area)[:depth]) + "/"
                for depth in range(1, len(areas.ancestry(area)) + 1)]
    candidates = session.scalars(
        select(Programme).join(Area, Programme.area_id == Area.id)
        .where(Area.path.in_(prefixes))).all()
    if not candidates:
        return None
    return max(candidates, key=lambda programme: (len(programme.area.path), -programme.id))


def file_report(
    session: Session,
    actor: User | None,
    draft: Draft,
    photos: list[uploads.Upload],
    video: uploads.Upload | None,
    storage_dir: Path,
) -> Report:
    """A new report from a volunteer, or (``actor`` None) a resident at a courtyard poster.
    Everything is checked before any file is stored."""
    category = check_draft(session, draft)
    area = report_area(session, actor, draft)
    if actor is None:
        check_anonymous(draft)
    uploads.check_count(photos, video)
    stored = uploads.store(storage_dir, photos, video)
    moment = now()
    report = Report(
        category=category, area=area, area_path=area.path, responsible_area_id=area.id,
        programme=paying_programme(session, area), reporter_id=actor.id if actor else None,
        reporter_name=None if actor else draft.reporter_name.strip(),
        reporter_phone=None if actor else draft.reporter_phone.strip(),
        lat=draft.lat, lng=draft.lng, address=(draft.address or "").strip(),
        description=draft.description.strip(), status="submitted", points_awarded=0,
        claw_back_shortfall_points=0, escalation_level=0, created_at=moment, updated_at=moment,
        feedback_due_at=moment + FEEDBACK_WINDOW, escalate_at=moment + FEEDBACK_WINDOW,
    )
    report.duplicate_of_id = find_duplicate(session, category.id, draft.lat, draft.lng, moment)
    session.add(report)
    session.flush()
    for position, media in enumerate(stored):
        session.add(ReportMedia(report_id=report.id, position=position, **media.__dict__))
    record(session, report, "submitted", actor, None, moment)
    tell(session, report, N_("Your report #%(id)s (%(category)s) was received. You will hear "
                             "back within 12 hours."), {})
    return report


def distance_metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))


def find_duplicate(session: Session, category_id: int, lat: float | None, lng: float | None,
                   moment: datetime) -> int | None:
    """The first report of the same category within 50 m and 24 hours, if any (a report
    placed only by a typed address is not compared)."""
    if lat is None or lng is None:
        return None
    d_lat = DUPLICATE_RADIUS_METRES / METRES_PER_DEGREE_LATITUDE
    d_lng = d_lat / max(math.cos(math.radians(lat)), 0.01)
    rows = session.execute(
        select(Report.id, Report.lat, Report.lng, Report.duplicate_of_id)
        .where(Report.category_id == category_id,
               Report.created_at >= moment - DUPLICATE_WINDOW, Report.created_at <= moment,
               Report.status != "rejected",
               Report.lat.between(lat - d_lat, lat + d_lat),
               Report.lng.between(lng - d_lng, lng + d_lng))
        .order_by(Report.created_at, Report.id)).all()
    for row in rows:
        if distance_metres(lat, lng, row.lat, row.lng) <= DUPLICATE_RADIUS_METRES:
            return row.duplicate_of_id or row.id
    return None


# --- who sees what -------------------------------------------------------------------------


def is_staff_for(session: Session, actor: User, report: Report) -> bool:
    if access.holds(actor, REVIEW_ROLES, report.area):
        return True
    return report.department_id is not None and report.department_id in \
        departments.departments_of(session, actor.id)


def can_view(session: Session, actor: User | None, report: Report) -> bool:
    if actor is None:
        return False
    return report.reporter_id == actor.id or is_staff_for(session, actor, report)


def get_report(session: Session, actor: User | None, report_id: int) -> Report:
    """A report the actor may see; another volunteer's report is not found, as if absent."""
    report = session.get(Report, report_id)
    if report is None or not can_view(session, actor, report):
        if actor is None:
            raise Unauthorized("sign in first")
        raise NotFound(f"no report {report_id}", report_id=report_id)
    return report


@dataclass(frozen=True)
class Filter:
    status: str | None = None
    category_code: str | None = None
    area_code: str | None = None
    overdue_only: bool = False
    own_only: bool = False
    with_media: bool = False
    after_id: int | None = None
    limit: int = 50


def list_reports(session: Session, actor: User, wanted: Filter) -> list[Report]:
    """Staff get their areas' reports and their departments', oldest first (a queue); anyone
    else their own. ``own_only`` gives the actor's own reports, newest first."""
    limit = max(1, min(wanted.limit, MAX_PAGE_SIZE))
    query = select(Report).options(selectinload(Report.media)) if wanted.with_media \
        else select(Report)
    if wanted.own_only:
        query = narrowed(session, query.where(Report.reporter_id == actor.id), wanted)
        if wanted.after_id:
            query = query.where(Report.id < wanted.after_id)
        return list(session.scalars(query.order_by(Report.id.desc()).limit(limit)))
    # Staff read their areas' queue (their own reports are on /reports/mine): an OR with
    # reporter_id here would keep PostgreSQL from using the queue's index.
    staff = visibility_clause(session, actor)
    query = query.where(Report.reporter_id == actor.id if staff is None else staff)
    query = narrowed(session, query, wanted)
    if wanted.after_id:
        query = after(session, query, wanted.after_id)
    return list(session.scalars(query.order_by(Report.created_at, Report.id).limit(limit)))


def visibility_clause(session: Session, actor: User):
    clauses = [in_area(area.path) for area in access.staff_areas(actor, REVIEW_ROLES)]
    department_ids = departments.departments_of(session, actor.id)
    if department_ids:
        clauses.append(Report.department_id.in_(department_ids))
    return or_(*clauses) if clauses else None


def narrowed(session: Session, query, wanted: Filter):
    if wanted.status:
        query = query.where(Report.status == wanted.status)
    if wanted.category_code:
        query = query.join(Category).where(Category.code == wanted.category_code)
    if wanted.area_code:
        area = areas.get_area(session, wanted.area_code)
        query = query.where(in_area(area.path))
    if wanted.overdue_only:
        query = query.where(overdue_clause(now()))
    return query


def overdue_clause(moment: datetime):
    # The explicit IN lets PostgreSQL match the partial index of open reports.
    return Report.status.in_(OPEN_STATUSES) & or_(
        and_(Report.status == "submitted", Report.feedback_due_at < moment),
        and_(Report.status == "verified", Report.verified_at < moment - FEEDBACK_WINDOW),
        and_(Report.status.in_(("dispatched", "in_progress")), Report.deadline_at < moment))


def after(session: Session, query, report_id: int):
    """Keyset paging in (created_at, id) order."""
    anchor = session.get(Report, report_id)
    if anchor is None:
        return query
    return query.where(or_(Report.created_at > anchor.created_at,
                           and_(Report.created_at == anchor.created_at,
                                Report.id > anchor.id)))


# --- the reviewer's and the department's steps ---------------------------------------------


def locked(session: Session, actor: User, report_id: int) -> Report:
    """The report, row-locked on PostgreSQL so two reviewers' clicks run one after the other
    (SQLite's writer already holds the database lock)."""
    # NO KEY UPDATE: inserting the report's events takes key-share locks it must not block.
    report = session.get(Report, report_id, populate_existing=True,
                         with_for_update={"of": Report, "key_share": True})
    if report is None:
        raise NotFound(f"no report {report_id}", report_id=report_id)
    return report


def require_reviewer(session: Session, actor: User, report: Report) -> None:
    access.require(actor, REVIEW_ROLES, report.area)


def require_handler(session: Session, actor: User, report: Report) -> None:
    """A reviewer over the area, or staff of the department it was sent to."""
    if report.department_id in departments.departments_of(session, actor.id):
        return
    require_reviewer(session, actor, report)


def require_status(report: Report, *allowed: str) -> None:
    if report.status not in allowed:
        raise Conflict(f"report {report.id} is {report.status}", status=report.status)


def verify(session: Session, actor: User, report_id: int,
           request_key: str | None = None) -> Report:
    """Accept a report and pay its reporter once. A retry carrying the same request key answers
    the first result; any other second verify is a conflict, and the ledger's idempotency
    key ``report:ID:reward`` guarantees no second payment in any case."""
    report = locked(session, actor, report_id)
    require_reviewer(session, actor, report)
    if request_key and report.verify_request_key == request_key:
        return report
    require_status(report, "submitted")
    moment = now()
    points = reward_points(session, report)
    if points and report.programme is not None and report.reporter is not None:
        report.reward_entry_id = programmes.reward(
            session, report.programme, report.reporter, points, kind="report_reward",
            source=f"report:{report.id}", memo=f"{report.category.name} #{report.id}",
            actor=actor)
        report.points_awarded = points
    report.status, report.verified_at, report.verify_request_key = "verified", moment, request_key
    report.first_feedback_at = report.first_feedback_at or moment
    report.escalate_at = moment + FEEDBACK_WINDOW
    record(session, report, "verified", actor, None, moment)
    if report.points_awarded:
        tell(session, report, N_("Your report #%(id)s (%(category)s) was verified. You earned "
                                 "%(points)s points."), {"points": report.points_awarded})
    else:
        tell(session, report, N_("Your report #%(id)s (%(category)s) was verified."), {})
    return report


def reward_points(session: Session, report: Report) -> int:
    """The category's points; a duplicate earns the programme's share of them."""
    if report.reporter_id is None or report.programme_id is None:
        return 0
    if report.reporter is None or not access.holds(report.reporter, ("volunteer",)):
        return 0
    points = report.category.points
    if report.duplicate_of_id is not None:
        points = points * duplicate_share_percent(session, report.programme_id) // 100
    return points


def duplicate_share_percent(session: Session, programme_id: int) -> int:
    settings = session.get(ReportSettings, programme_id)
    return settings.duplicate_share_percent if settings else DEFAULT_DUPLICATE_SHARE_PERCENT


def set_duplicate_share(session: Session, actor: User, programme: Programme,
                        percent: int) -> ReportSettings:
    access.require(actor, ("admin",), programme.area)
    if not 0 <= percent <= 100:
        raise Invalid("bad share", errors={"duplicate_share_percent": ["0 to 100"]})
    settings = session.get(ReportSettings, programme.id)
    before = None if settings is None else {
        "duplicate_share_percent": settings.duplicate_share_percent}
    if settings is None:
        settings = ReportSettings(programme_id=programme.id)
        session.add(settings)
    settings.duplicate_share_percent = percent
    session.flush()
    audit.record(session, actor, "programme_settings.update", f"programme:{programme.code}",
                 before, {"duplicate_share_percent": percent}, area=programme.area)
    return settings


def reject(session: Session, actor: User, report_id: int, reason: str) -> Report:
    reason = checked_text(reason, "reason", MAX_REASON_LENGTH)
    report = locked(session, actor, report_id)
    require_reviewer(session, actor, report)
    require_status(report, "submitted")
    moment = now()
    report.status, report.reject_reason, report.escalate_at = "rejected", reason, None
    report.first_feedback_at = report.first_feedback_at or moment
    record(session, report, "rejected", actor, reason, moment)
    tell(session, report, N_("Your report #%(id)s was not accepted: %(reason)s"),
         {"reason": reason})
    return report


def dispatch(session: Session, actor: User, report_id: int, department_code: str | None = None,
             deadline_hours: int | None = None) -> Report:
    """Hand a verified report to the responsible department, with a deadline."""
    report = locked(session, actor, report_id)
    require_reviewer(session, actor, report)
    require_status(report, "verified")
    department = (departments.get_department(session, department_code) if department_code
                  else report.category.department)
    if department is None:
        raise Invalid("which department?", errors={"department": ["choose a department"]})
    hours = deadline_hours or report.category.deadline_hours
    if not 0 < hours <= 24 * 365:
        raise Invalid("bad deadline", errors={"deadline_hours": ["1 to 8760"]})
    moment = now()
    report.status, report.department, report.dispatched_at = "dispatched", department, moment
    report.deadline_at = report.escalate_at = moment + timedelta(hours=hours)
    record(session, report, "dispatched", actor, department.name, moment)
    tell(session, report, N_("Handed to %(department)s for handling; this report earned you "
                             "%(points)s points."),
         {"department": department.name, "points": report.points_awarded})
    return report


def start(session: Session, actor: User, report_id: int, note: str | None = None) -> Report:
    report = locked(session, actor, report_id)
    require_handler(session, actor, report)
    require_status(report, "dispatched")
    moment = now()
    report.status, report.started_at = "in_progress", moment
    record(session, report, "started", actor, note, moment)
    tell(session, report, N_("%(department)s has started handling your report #%(id)s."),
         {"department": report.department.name})
    return report


def resolve(session: Session, actor: User, report_id: int, resolution: str) -> Report:
    resolution = checked_text(resolution, "resolution", MAX_RESOLUTION_LENGTH)
    report = locked(session, actor, report_id)
    require_handler(session, actor, report)
    require_status(report, "dispatched", "in_progress")
    moment = now()
    report.status, report.resolved_at, report.resolution = "resolved", moment, resolution
    report.resolved_on_time = moment <= report.deadline_at
    report.handling_seconds = int((moment - report.dispatched_at).total_seconds())
    report.escalate_at = None
    record(session, report, "resolved", actor, resolution, moment)
    tell(session, report, N_("Your report #%(id)s has been resolved: %(resolution)s"),
         {"resolution": resolution})
    return report


def close(session: Session, actor: User, report_id: int, note: str | None = None) -> Report:
    report = locked(session, actor, report_id)
    require_reviewer(session, actor, report)
    require_status(report, "resolved")
    moment = now()
    report.status, report.closed_at = "closed", moment
    record(session, report, "closed", actor, note, moment)
    tell(session, report, N_("Your report #%(id)s is closed. Thank you for acting!"), {})
    return report


def mark_false(session: Session, actor: User, report_id: int, reason: str) -> Report:
    """A report found false after its reward: the reward is reversed through the ledger. What
    the wallet no longer holds is recorded as a shortfall rather than driven below zero."""
    reason = checked_text(reason, "reason", MAX_REASON_LENGTH)
    report = locked(session, actor, report_id)
    require_reviewer(session, actor, report)
    require_status(report, "verified", "dispatched", "in_progress", "resolved", "closed")
    moment = now()
    if report.reward_entry_id is not None:
        try:
            report.claw_back_entry_id = programmes.claw_back(
                session, report.programme, f"report:{report.id}", reason, actor)
        except ledger.InsufficientPoints:
            report.claw_back_shortfall_points = report.points_awarded
    report.status, report.reject_reason, report.escalate_at = "rejected", reason, None
    record(session, report, "found_false", actor, reason, moment)
    tell(session, report, N_("Your report #%(id)s was found false: %(reason)s. Its %(points)s "
                             "points were taken back."),
         {"reason": reason, "points": report.points_awarded})
    return report


def checked_text(text: str | None, field: str, max_length: int) -> str:
    text = (text or "").strip()
    if not text or len(text) > max_length:
        raise Invalid(f"{field} is required", errors={field: [f"1 to {max_length} characters"]})
    return text


# --- escalation ----------------------------------------------------------------------------


def escalate_overdue(session: Session, moment: datetime | None = None,
                     max_reports: int = MAX_ESCALATIONS_PER_RUN) -> list[int]:
    """Move each overdue open report one area level up (courtyard -> community -> street ->
    district; a grid is a cell of the community, not a level that handles reports) and give
    the higher level a fresh period. Safe from cron: each step is
    a conditional UPDATE on the level it read, so a second run, or one running at the same
    moment, finds nothing left to do for that report."""
    moment = moment or now()
    due = session.execute(
        select(Report.id, Report.escalation_level)
        .where(Report.escalate_at <= moment, Report.status.in_(OPEN_STATUSES))
        .order_by(Report.escalate_at).limit(max_reports)).all()
    escalated = []
    for report_id, level in due:
        if escalate_one(session, report_id, level, moment):
            escalated.append(report_id)
    return escalated


def escalation_target(area: Area) -> Area | None:
    parent = area.parent
    while parent is not None and parent.level == "grid":
        parent = parent.parent
    return parent


def escalate_one(session: Session, report_id: int, level: int, moment: datetime) -> bool:
    report = session.get(Report, report_id)
    parent = escalation_target(report.responsible_area)
    period = (timedelta(hours=report.category.deadline_hours)
              if report.status in ("dispatched", "in_progress") else FEEDBACK_WINDOW)
    top = parent is None or parent.level == "root"
    changed = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.escalation_level == level,
               Report.escalate_at <= moment)
        .values(escalation_level=level if top else level + 1,
                responsible_area_id=report.responsible_area_id if top else parent.id,
                escalate_at=None if top else moment + period, updated_at=moment)
        .execution_options(synchronize_session=False)).rowcount
    session.expire(report)
    if changed != 1 or top:
        return False
    record(session, report, "escalated", None, parent.name, moment)
    tell(session, report, N_("Your report #%(id)s is overdue and was escalated to %(area)s."),
         {"area": parent.name})
    for user_id in handlers_of(session, parent):
        notify(session, user_id,
               N_("Report #%(id)s (%(category)s) is overdue and was escalated to %(area)s: "
                  "it is now yours to handle."),
               {"id": report.id, "category": report.category.name, "area": parent.name},
               link=REPORT_LINK.format(id=report.id), reference=f"report:{report.id}")
    return True


def handlers_of(session: Session, area: Area) -> list[int]:
    """Who handles reports at exactly this level: its reviewers, else its administrators."""
    for roles in (("reviewer",), ("admin",)):
        users = list(session.scalars(
            select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.area_id == area.id, RoleGrant.role.in_(roles),
                   User.active.is_(True))
            .distinct().order_by(RoleGrant.user_id)))
        if users:
            return users
    return []


# --- history and notices -------------------------------------------------------------------


def record(session: Session, report: Report, action: str, actor: User | None,
           note: str | None, moment: datetime) -> None:
    report.updated_at = moment
    session.add(ReportEvent(report_id=report.id, action=action, status=report.status,
                            actor_id=actor.id if actor else None, note=note, created_at=moment))
    session.flush()


def tell(session: Session, report: Report, message: str, params: dict) -> None:
    """The reporter hears of the step (a resident without an account has no inbox)."""
    if report.reporter_id is None:
        return
    notify(session, report.reporter_id, message,
           {"id": report.id, "category": report.category.name, **params},
           link=REPORT_LINK.format(id=report.id), reference=f"report:{report.id}")
