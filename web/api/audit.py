"""The audit log under /api/v1/audit-events: administrators read the changes made in their
areas, newest first, a page at a time."""

from __future__ import annotations

from flask_smorest import Blueprint

from volunteers import audit

from ..auth import actor_required, current_actor
from ..extensions import db
from .schemas.common import ErrorSchema
from .schemas.organisation import AuditArgsSchema, AuditPageSchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1",
                description="The audit log of administrative changes")


def audit_filter(args: dict) -> audit.AuditFilter:
    since = args.get("since")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=audit.CHINA)
    return audit.AuditFilter(area=args.get("area"), kind=args.get("kind"),
                             actor=args.get("actor"), since=since,
                             before_id=args.get("before"), limit=args.get("limit", 50))


@blp.route("/audit-events", methods=["GET"])
@actor_required("admin")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def list_events(args):
    """Changes in the caller's areas (or in ``area``, one of them), newest first; filter by
    ``kind`` (``role`` covers ``role.grant`` and ``role.revoke``), ``actor`` (a user name) and
    ``since``."""
    wanted = audit_filter(args)
    items = audit.events(db.session, current_actor(), wanted)
    next_before = items[-1].id if len(items) == wanted.limit else None
    return {"items": items, "next_before": next_before}
