"""The audit log: one append-only row per administrative change (a category's points, a role,
a settlement rate, an area, an import, a suspension ...), with who made it, when, from which
address and the values before and after. Every service that changes configuration calls
``record``; nothing updates or deletes a row (the database's triggers refuse it)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from ledger.clock import CHINA, now

from . import access, areas
from .errors import Invalid
from .models import Area, AuditEvent, User

ADDRESS_KEY = "audit_address"
MAX_PAGE_SIZE = 200
MAX_EXPORT_ROWS = 50_000
MAX_SUBJECT_LENGTH = 200
ROOT_PATH = "/root/"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
AUDITOR_ROLES = ("admin",)


def set_address(session: Session, address: str | None) -> None:
    """Where this session's changes come from (the web layer sets the client's address for
    each request, the CLI ``cli``): ``record`` uses it when not given one."""
    session.info[ADDRESS_KEY] = (address or "")[:64] or None


def record(session: Session, actor: User | None, kind: str, subject: str,
           before: dict | None, after: dict | None, address: str | None = None, *,
           area: Area | None = None) -> AuditEvent:
    """Appends one event. ``kind`` names the change (``category.update``, ``role.grant``),
    ``subject`` what changed (a category's code, ``user:7``); ``area`` the area the change
    belongs to (the root when None). Flushes, like every service."""
    event = AuditEvent(
        created_at=now(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        address=(address or session.info.get(ADDRESS_KEY) or None),
        kind=kind[:64],
        subject=str(subject)[:MAX_SUBJECT_LENGTH],
        area_path=area.path if area is not None else ROOT_PATH,
        before=_plain(before),
        after=_plain(after),
    )
    session.add(event)
    session.flush()
    return event


def snapshot(row, fields) -> dict:
    """The named attributes of a row, as plain JSON values."""
    return _plain({name: getattr(row, name) for name in fields})


def _plain(values: dict | None) -> dict | None:
    if values is None:
        return None
    plain = {}
    for key, value in values.items():
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, dict):
            value = _plain(value)
        elif not isinstance(value, (str, int, float, bool, list, type(None))):
            value = str(value)
        plain[str(key)] = value
    return plain


@dataclass(frozen=True)
class AuditFilter:
    area: str | None = None
    kind: str | None = None
    actor: str | None = None
    since: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def events(session: Session, viewer: User | None, wanted: AuditFilter) -> list[AuditEvent]:
    """The events the viewer may read (those of areas they administer), newest first."""
    query = _visible(session, viewer, wanted)
    if wanted.before_id is not None:
        query = query.where(AuditEvent.id < wanted.before_id)
    limit = max(1, min(wanted.limit, MAX_PAGE_SIZE))
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def _visible(session: Session, viewer: User | None, wanted: AuditFilter):
    """``viewer`` None is the operator at the command line, who reads the whole log."""
    if viewer is None:
        scopes = [ROOT_PATH]
    else:
        access.require(viewer, AUDITOR_ROLES)
        scopes = [grant.area.path for grant in viewer.grants if grant.role in AUDITOR_ROLES]
    if wanted.area:
        area = areas.get_area(session, wanted.area)
        if viewer is not None:
            access.require(viewer, AUDITOR_ROLES, area)
        scopes = [area.path]
    query = select(AuditEvent).where(_any_prefix(scopes))
    if wanted.kind:
        # "role" matches role.grant and role.revoke; "role.grant" only itself.
        query = query.where((AuditEvent.kind == wanted.kind)
                            | AuditEvent.kind.startswith(wanted.kind + ".", autoescape=True))
    if wanted.actor:
        query = query.where(AuditEvent.actor_name == wanted.actor)
    if wanted.since is not None:
        query = query.where(AuditEvent.created_at >= wanted.since)
    return query


def _any_prefix(paths: list[str]):
    if not paths:
        return false()
    return or_(*(AuditEvent.area_path.startswith(path, autoescape=True) for path in paths))


def kinds(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)))


CSV_HEADER = ("id", "time", "actor", "address", "kind", "subject", "area", "before", "after")


def export_csv(session: Session, viewer: User | None, wanted: AuditFilter) -> str:
    """The filtered events as CSV (UTF-8 with a BOM, for Excel), newest first; a cell that a
    spreadsheet would run as a formula is quoted with a leading apostrophe."""
    query = _visible(session, viewer, wanted).order_by(AuditEvent.id.desc()).limit(
        MAX_EXPORT_ROWS)
    stream = io.StringIO()
    stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for event in session.scalars(query):
        writer.writerow([safe_cell(value) for value in (
            event.id, event.created_at.isoformat(), event.actor_name, event.address or "",
            event.kind, event.subject, event.area_path,
            json.dumps(event.before, ensure_ascii=False) if event.before is not None else "",
            json.dumps(event.after, ensure_ascii=False) if event.after is not None else "",
        )])
    return stream.getvalue()


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise Invalid("bad date", errors={"since": ["a date, 2026-12-07"]}) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment
