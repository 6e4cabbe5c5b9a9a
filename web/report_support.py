"""What the report pages, the API and Open311 share: reading uploads from a request, where
files live, and a report's public shape."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app, url_for

from ledger.clock import now
from reports import reports, uploads
from reports.models import Report, ReportMedia

from .extensions import db

UPLOAD_DIRECTORY_NAME = "uploads"


def upload_dir() -> Path:
    """``JINDOU_UPLOAD_DIR`` (config or environment), else ``instance/uploads``."""
    configured = (current_app.config.get("JINDOU_UPLOAD_DIR")
                  or os.environ.get("JINDOU_UPLOAD_DIR"))
    return Path(configured or Path(current_app.instance_path) / UPLOAD_DIRECTORY_NAME)


def media_path(media: ReportMedia, thumbnail: bool = False) -> Path:
    name = media.thumbnail_name if thumbnail and media.thumbnail_name else media.stored_name
    return uploads.path_of(upload_dir(), name)


def read_upload(storage) -> uploads.Upload:
    """A file of the request, read up to one byte past the largest allowed size, so an
    oversized file is refused without reading all of it."""
    limit = max(uploads.MAX_PHOTO_BYTES, uploads.MAX_VIDEO_BYTES) + 1
    return uploads.Upload(storage.filename or "", storage.stream.read(limit))


def uploads_from(files: dict) -> tuple[list[uploads.Upload], uploads.Upload | None]:
    photos = [read_upload(f) for f in files.get("photos") or [] if f and f.filename]
    video = files.get("video")
    return photos, read_upload(video) if video and video.filename else None


def draft_from(form: dict, **extra) -> reports.Draft:
    values = dict(
        category_code=form["category"], lat=form.get("lat"), lng=form.get("lng"),
        address=form.get("address") or "", description=form.get("description") or "",
        area_code=form.get("area"))
    return reports.Draft(**(values | extra))


def media_view(report: Report, media: ReportMedia) -> dict:
    url = url_for("reports.get_media", report_id=report.id, media_id=media.id)
    return {"id": media.id, "kind": media.kind, "content_type": media.content_type,
            "width": media.width, "height": media.height, "url": url,
            "thumbnail_url": url + "?size=thumbnail" if media.thumbnail_name else None}


def report_view(report: Report, actor, with_events: bool = True) -> dict:
    staff = reports.is_staff_for(db.session, actor, report)
    return {
        "id": report.id, "category": report.category.code,
        "category_name": report.category.name, "status": report.status,
        "lat": report.lat, "lng": report.lng, "address": report.address,
        "description": report.description, "area": report.area.code,
        "area_name": report.area.name, "responsible_area": report.responsible_area.code,
        "escalation_level": report.escalation_level,
        "programme": report.programme.code if report.programme else None,
        "points_awarded": report.points_awarded, "duplicate_of": report.duplicate_of_id,
        "department": report.department.name if report.department else None,
        "reject_reason": report.reject_reason, "resolution": report.resolution,
        "reporter_name": reporter_name(report) if staff else None,
        "reporter_phone": reporter_phone(report) if staff else None,
        "overdue": report.overdue(now()), "created_at": report.created_at,
        "updated_at": report.updated_at, "feedback_due_at": report.feedback_due_at,
        "deadline_at": report.deadline_at,
        "media": [media_view(report, m) for m in report.media],
        "events": report.events if with_events else [],
    }


def reporter_name(report: Report) -> str | None:
    return report.reporter.display_name if report.reporter else report.reporter_name


def reporter_phone(report: Report) -> str | None:
    return report.reporter.phone if report.reporter else report.reporter_phone
