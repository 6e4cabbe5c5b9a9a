"""Incident reports (CONTRACT section 4): categories, filing with photos, the reviewer's and
the department's steps."""

from __future__ import annotations

from flask import send_file
from flask_smorest import Blueprint

from reports import categories, reports
from volunteers.errors import NotFound

from ..auth import actor_required, current_actor
from ..extensions import db
from ..report_support import draft_from, media_path, report_view, upload_dir, uploads_from
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, run_once
from .schemas.common import ErrorSchema
from .schemas.reports import (
    CategorySchema,
    DispatchSchema,
    NoteSchema,
    ReportFormSchema,
    ReportListArgsSchema,
    ReportReasonSchema,
    ReportSchema,
    ReportUploadSchema,
    ResolveSchema,
)

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Incident reports (随手拍): filing, review, dispatch, handling")


@blp.route("/report-categories", methods=["GET"])
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """Categories that can be reported, with their points, urgency and deadline."""
    return categories.active_categories(db.session)


@blp.route("/reports", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(ReportFormSchema, location="form")
@blp.response(201, ReportSchema)
@blp.alt_response(413, schema=ErrorSchema, description="payload_too_large")
@blp.doc(requestBody={"required": True, "content": {
    "multipart/form-data": {"schema": ReportUploadSchema}}})
def file_report(form):
    """File a report: multipart form with category, lat, lng, address, description and up to
    9 photos (or one video). Photos are checked by decoding them and stored without metadata."""
    from flask import request

    actor = current_actor()
    photos, video = uploads_from({"photos": request.files.getlist("photos"),
                                  "video": request.files.get("video")})
    report = reports.file_report(db.session, actor, draft_from(form), photos, video,
                                 upload_dir())
    commit()
    return report_view(report, actor)


@blp.route("/reports", methods=["GET"])
@actor_required()
@blp.arguments(ReportListArgsSchema, location="query")
@blp.response(200, ReportSchema(many=True))
def list_reports(args):
    """A volunteer's own reports; staff see their areas' (oldest first, a queue)."""
    actor = current_actor()
    wanted = reports.Filter(status=args.get("status"), category_code=args.get("category"),
                            area_code=args.get("area"), overdue_only=args["overdue"],
                            after_id=args.get("after"), limit=args["limit"], with_media=True)
    return [report_view(r, actor, with_events=False)
            for r in reports.list_reports(db.session, actor, wanted)]


@blp.route("/reports/<int:report_id>", methods=["GET"])
@actor_required()
@blp.response(200, ReportSchema)
def get_report(report_id):
    """One report: its reporter, or staff over its area or department."""
    actor = current_actor()
    return report_view(reports.get_report(db.session, actor, report_id), actor)


@blp.route("/reports/<int:report_id>/media/<int:media_id>", methods=["GET"])
@actor_required()
@blp.response(200, description="the photo (JPEG) or video")
def get_media(report_id, media_id):
    """A report's photo or video, for those who may see the report. ``?size=thumbnail``."""
    from flask import request

    report = reports.get_report(db.session, current_actor(), report_id)
    media = next((m for m in report.media if m.id == media_id), None)
    if media is None:
        raise NotFound(f"no media {media_id}", media_id=media_id)
    thumbnail = request.args.get("size") == "thumbnail" and media.thumbnail_name
    return send_file(media_path(media, bool(thumbnail)), mimetype=media.content_type,
                     max_age=0, conditional=True)


@blp.route("/reports/<int:report_id>/verify", methods=["POST"])
@actor_required("reviewer", "admin")
@blp.response(200, ReportSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict, budget_exhausted")
@blp.doc(parameters=IDEMPOTENT)
def verify(report_id):
    """Accept the report and pay the reporter the category's points, once. A retry with the
    same Idempotency-Key answers the first result; another verify is 409 conflict."""
    actor = current_actor()

    def work():
        report = reports.verify(db.session, actor, report_id,
                                idempotency_key(actor, f"report-verify:{report_id}"))
        return ReportSchema().dump(report_view(report, actor))

    return run_once(actor, f"report-verify:{report_id}", {}, work)


@blp.route("/reports/<int:report_id>/reject", methods=["POST"])
@actor_required("reviewer", "admin")
@blp.arguments(ReportReasonSchema)
@blp.response(200, ReportSchema)
def reject(payload, report_id):
    """Refuse a submitted report, with the reason the reporter reads."""
    return _step(reports.reject, report_id, payload["reason"])


@blp.route("/reports/<int:report_id>/dispatch", methods=["POST"])
@actor_required("reviewer", "admin")
@blp.arguments(DispatchSchema)
@blp.response(200, ReportSchema)
def dispatch(payload, report_id):
    """Send a verified report to the responsible department with a deadline."""
    return _step(reports.dispatch, report_id, payload.get("department"),
                 payload.get("deadline_hours"))


@blp.route("/reports/<int:report_id>/start", methods=["POST"])
@actor_required()
@blp.arguments(NoteSchema)
@blp.response(200, ReportSchema)
def start(payload, report_id):
    """The department starts handling (its staff or a reviewer)."""
    return _step(reports.start, report_id, payload.get("note"))


@blp.route("/reports/<int:report_id>/resolve", methods=["POST"])
@actor_required()
@blp.arguments(ResolveSchema)
@blp.response(200, ReportSchema)
def resolve(payload, report_id):
    """Record how it was handled (the department's staff or a reviewer)."""
    return _step(reports.resolve, report_id, payload["resolution"])


@blp.route("/reports/<int:report_id>/close", methods=["POST"])
@actor_required("reviewer", "admin")
@blp.arguments(NoteSchema)
@blp.response(200, ReportSchema)
def close(payload, report_id):
    """Close a resolved report after checking the result."""
    return _step(reports.close, report_id, payload.get("note"))


@blp.route("/reports/<int:report_id>/false", methods=["POST"])
@actor_required("reviewer", "admin")
@blp.arguments(ReportReasonSchema)
@blp.response(200, ReportSchema)
def mark_false(payload, report_id):
    """The report was false: its reward is reversed through the ledger (claw back)."""
    return _step(reports.mark_false, report_id, payload["reason"])


def _step(action, report_id, *args):
    actor = current_actor()
    report = action(db.session, actor, report_id, *args)
    commit()
    return report_view(report, actor)

