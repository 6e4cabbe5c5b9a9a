"""Bulk import under /api/v1/imports: the template of each kind, a dry run and an apply of a
CSV or XLSX file (multipart), and the activation codes of imported people as a CSV for the
office to hand out."""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from imports import files, importer
from volunteers import accounts

from ..auth import actor_required, current_actor
from ..errors import ApiError
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema

blp = Blueprint("imports", __name__, url_prefix="/api/v1",
                description="Bulk import of volunteers, merchants, areas and courtyards")

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class TemplateArgsSchema(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ActivationRequestSchema(Schema):
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ImportRowSchema(Schema):
    line = fields.Integer()
    action = fields.String(metadata={"description": "create, update, unchanged or refused"})
    key = fields.String()
    problems = fields.Dict(metadata={"description": "column: reasons, for a refused row"})


class ImportReportSchema(Schema):
    kind = fields.String()
    dry_run = fields.Boolean()
    applied = fields.Boolean()
    counts = fields.Dict(metadata={"description": "created, updated, unchanged, refused"})
    rows = fields.List(fields.Nested(ImportRowSchema))


def report_body(report: importer.ImportReport) -> dict:
    return {"kind": report.kind, "dry_run": report.dry_run, "applied": report.applied,
            "counts": report.counts,
            "rows": [{"line": r.line, "action": r.action, "key": r.key, "problems": r.problems}
                     for r in report.rows]}


def file_response(body: bytes, kind: str, fmt: str) -> Response:
    mimetype = ("text/csv" if fmt == "csv" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={kind}-template.{fmt}"})


def template_file(kind: str, fmt: str) -> bytes:
    header, rows = importer.template(kind)
    return files.write_csv(header, rows) if fmt == "csv" else files.write_xlsx(header, rows)


@blp.route("/imports/templates/<kind>", methods=["GET"])
@actor_required("admin")
@blp.arguments(TemplateArgsSchema, location="query")
@blp.alt_response(200, description="the template file, column names in Chinese")
@blp.alt_response(422, schema=ErrorSchema)
def template(args, kind):
    """The template of an import kind (volunteers, merchants, areas, courtyards)."""
    return file_response(template_file(kind, args["format"]), kind, args["format"])


def parse_upload() -> tuple[str, bytes, str, bool]:
    upload = request.files.get("file")
    kind = (request.form.get("kind") or "").strip()
    dry_run_text = (request.form.get("dry_run") or "true").strip().lower()
    errors = {}
    if upload is None:
        errors["file"] = ["a CSV or XLSX file"]
    if kind not in importer.KINDS:
        errors["kind"] = [f"one of {', '.join(importer.KINDS)}"]
    if dry_run_text not in TRUE + FALSE:
        errors["dry_run"] = ["true or false"]
    if errors:
        raise ApiError(422, "validation_error", "the request is not valid", errors)
    data = upload.read(files.MAX_FILE_BYTES + 1)
    return kind, data, upload.filename or "", dry_run_text in TRUE


@blp.route("/imports", methods=["POST"])
@actor_required("admin")
@blp.response(200, ImportReportSchema)
@blp.alt_response(413, schema=ErrorSchema, description="too_many_rows")
@blp.alt_response(422, schema=ErrorSchema, description="validation_error (columns, "
                  "encoding, kind); import_refused: rows refused, nothing applied (the report "
                  "is in the body)")
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "kind"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": list(importer.KINDS)},
        "dry_run": {"type": "boolean", "default": True}}}}}})
def create_import():
    """Checks a file row by row (``dry_run``, the default) or applies it. A file with a
    refused row applies nothing: 422 ``import_refused`` with the same report."""
    kind, data, filename, dry_run = parse_upload()
    report = importer.run(db.session, current_actor(), kind, data, filename, dry_run=dry_run)
    body = report_body(report)
    if not dry_run and not report.applied:
        db.session.rollback()
        raise ApiError(422, "import_refused", "rows were refused; nothing was applied",
                       {"rows": [r for r in body["rows"] if r["action"] == "refused"][:1_000],
                        "counts": body["counts"]})
    if report.applied:
        commit()
    return body


@blp.route("/imports/activation-codes", methods=["POST"])
@actor_required("admin")
@blp.arguments(ActivationRequestSchema)
@blp.alt_response(200, description="CSV: user name, name, phone, code, valid until")
def activation_codes(payload):
    """A new one-time activation code for everyone in the area who has not set a password
    yet (earlier codes stop working), as a CSV for the office to hand out."""
    issued = accounts.issue_activation_codes(db.session, current_actor(), payload["area"])
    commit()
    return Response(files.activation_csv(issued), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=activation-{payload['area']}.csv"})

