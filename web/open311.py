"""Open311 GeoReport v2 under /open311/v2 (CONTRACT section 5): civic apps list the report
categories as services, read service requests and post new ones with an api_key (a client key
of scope open311, sent in the POST body). Every resource answers as .json or .xml; errors are
the spec's list of {code, description}. What is public never names or reaches the reporter.
Which reports a query reaches, and how their states read, is the domain's:
``reports/open311.py``."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime

from flask import Blueprint, Response, json, request, url_for
from werkzeug.exceptions import HTTPException

from ledger.clock import now
from reports import categories, open311, reports
from reports.models import Category, Report
from volunteers import access, sessions
from volunteers.errors import DomainError

from .extensions import db
from .report_support import upload_dir, uploads_from
from .transactions import commit

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = {"json": "application/json", "xml": "text/xml"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# --- rendering -----------------------------------------------------------------------------


def render(fmt: str, payload, root: str, item: str, status: int = 200) -> Response:
    """A list of flat records as JSON, or as the spec's XML (root element, one element per
    record, one child per field)."""
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt}; use json or xml")
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False)
    else:
        body = to_xml(payload, root, item)
    return Response(body, status=status, mimetype=FORMATS[fmt], content_type=(
        f"{FORMATS[fmt]}; charset=utf-8"))


def to_xml(payload, root: str, item: str) -> str:
    top = ElementTree.Element(root)
    for record in payload if isinstance(payload, list) else [payload]:
        add_fields(ElementTree.SubElement(top, item) if item else top, record)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            + ElementTree.tostring(top, encoding="unicode"))


def add_fields(parent, record: dict) -> None:
    for key, value in record.items():
        child = ElementTree.SubElement(parent, key)
        if isinstance(value, list):
            singular = key[:-1] if key.endswith("s") else key
            for entry in value:
                if isinstance(entry, dict):
                    add_fields(ElementTree.SubElement(child, singular), entry)
                else:
                    ElementTree.SubElement(child, singular).text = str(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def error_format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def errors_response(status: int, description: str) -> Response:
    db.session.rollback()
    return render(error_format(), [{"code": status, "description": description}],
                  "errors", "error", status)


@bp.errorhandler(Open311Error)
def handle_open311_error(error: Open311Error):
    return errors_response(error.status, error.description)


@bp.errorhandler(DomainError)
def handle_domain_error(error: DomainError):
    details = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in
                        (getattr(error, "errors", None) or {}).items())
    status = 400 if error.status == 422 else error.status
    return errors_response(status, details or error.message)


@bp.errorhandler(HTTPException)
def handle_http_error(error: HTTPException):
    return errors_response(error.code or 500, error.description or "error")


def moment(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


# --- discovery and services ----------------------------------------------------------------


@bp.route("/discovery.<fmt>")
def discovery(fmt):
    endpoint = {"specification": SPECIFICATION, "url": request.url_root + "open311/v2",
                "changeset": moment(now().replace(microsecond=0)),
                "type": "production", "formats": list(FORMATS.values())}
    payload = {"changeset": endpoint["changeset"], "contact": "jindou",
               "key_service": url_for("pages.volunteers.login", _external=True),
               "endpoints": [endpoint]}
    if fmt == "json":
        return render(fmt, payload, "discovery", "")
    return render(fmt, [payload], "discovery", "")


def service_record(category: Category) -> dict:
    return {"service_code": category.code, "service_name": category.name,
            "description": category.legal_basis or category.name, "metadata": False,
            "type": "realtime", "keywords": category.urgency, "group": category.group.name}


@bp.route("/services.<fmt>")
def services(fmt):
    records = [service_record(c) for c in categories.active_categories(db.session)]
    return render(fmt, records, "services", "service")


@bp.route("/services/<code>.<fmt>")
def service_definition(code, fmt):
    category = open311.active_category(db.session, code)
    if category is None:
        raise Open311Error(404, f"no service {code}")
    return render(fmt, {"service_code": category.code, "attributes": []},
                  "service_definition", "")


# --- service requests ----------------------------------------------------------------------


def request_record(report: Report) -> dict:
    """A service request as the public sees it: no reporter, no phone, no photos."""
    return {
        "service_request_id": str(report.id), "status": open311.open311_status(report),
        "status_notes": open311.status_notes(report), "service_name": report.category.name,
        "service_code": report.category.code, "description": report.description,
        "agency_responsible": report.department.name if report.department else None,
        "service_notice": None, "requested_datetime": moment(report.created_at),
        "updated_datetime": moment(report.updated_at),
        "expected_datetime": moment(report.deadline_at or report.feedback_due_at),
        "address": report.address or report.area.name, "address_id": None, "zipcode": None,
        "lat": report.lat, "long": report.lng, "media_url": None,
    }


def parse_moment(name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise Open311Error(400, f"{name} must be an ISO 8601 date and time") from error
    if value.tzinfo is None:
        raise Open311Error(400, f"{name} must carry a time zone (Z or +08:00)")
    return value


def listed(name: str) -> list[str]:
    return [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]


def request_filters() -> open311.RequestFilters:
    ids = listed("service_request_id")
    if ids:
        if not all(part.isdigit() for part in ids):
            raise Open311Error(400, "service_request_id must be numbers")
        return open311.RequestFilters(ids=[int(part) for part in ids])
    statuses = listed("status")
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status is open or closed")
    return open311.RequestFilters(
        codes=listed("service_code"), status=statuses[0] if len(statuses) == 1 else None,
        start=parse_moment("start_date"), end=parse_moment("end_date"))


@bp.route("/requests.<fmt>", methods=["GET"])
def list_requests(fmt):
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt}; use json or xml")
    rows = open311.service_requests(db.session, key_holder(required=False), request_filters())
    return render(fmt, [request_record(r) for r in rows], "service_requests", "request")


@bp.route("/requests/<int:report_id>.<fmt>", methods=["GET"])
def get_request(report_id, fmt):
    report = open311.service_request(db.session, key_holder(required=False), report_id)
    if report is None:
        raise Open311Error(404, f"no service request {report_id}")
    return render(fmt, [request_record(report)], "service_requests", "request")


def key_holder(required: bool):
    """Who the request's api_key names: a client key of scope open311 sent in the body of a
    POST (never an API token, never in the URL, where access logs would keep it). Reads are
    public and take no key."""
    if "api_key" in request.args:
        raise Open311Error(400, "send api_key in the body of a POST, never in the URL")
    if not required:
        return None
    key = (request.form.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, "an api_key is required to post a service request")
    user = sessions.user_for_client_key(db.session, key, "open311")
    if user is None:
        raise Open311Error(403, "invalid api_key: use a client key (POST /api/v1/me/client-keys)")
    return user


def float_field(name: str) -> float | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as error:
        raise Open311Error(400, f"{name} must be a number") from error


@bp.route("/requests.<fmt>", methods=["POST"])
def post_request(fmt):
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt}; use json or xml")
    actor = key_holder(required=True)
    if not access.holds(actor, ("volunteer",)):
        raise Open311Error(403, "only a volunteer's api_key can post service requests")
    code = (request.form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    lat, lng = float_field("lat"), float_field("long")
    if (lat is None or lng is None) and not request.form.get("address_string"):
        raise Open311Error(400, "lat and long, or address_string, are required")
    draft = reports.Draft(category_code=code, lat=lat, lng=lng,
                          address=request.form.get("address_string") or "",
                          description=request.form.get("description") or "")
    photos, video = uploads_from({"photos": request.files.getlist("media")})
    report = reports.file_report(db.session, actor, draft, photos, video, upload_dir())
    commit()
    record = {"service_request_id": str(report.id), "service_notice": None,
              "account_id": None}
    return render(fmt, [record], "service_requests", "request", 201)
