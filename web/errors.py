"""The one place errors become responses: ``{"code", "message", "errors"}`` for the API
(CONTRACT section 4), a page for the browser. Every failed request is rolled back first."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from ledger import LedgerError
from volunteers.errors import DomainError

from .extensions import db
from .messages import BY_CODE, message_for, status_title

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}
# Ledger refusals whose status differs from their class default when they reach the API.
LEDGER_STATUS = {"invalid_entry": 422, "not_found": 404, "unit_mismatch": 422}


# Kept for the pages that import it: every code's sentence (web/messages.py).
PAGE_MESSAGES = BY_CODE


class ApiError(Exception):
    """An error a view raises directly with its code."""

    def __init__(self, status: int, code: str, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/open311/")


def error_response(status: int, code: str, detail: str, errors: dict | None = None,
                   extra: dict | None = None, error: BaseException | None = None):
    """``message`` is the person's sentence in their language (web/messages.py), on pages and
    in the API alike; the developer's ``detail`` goes to the log only."""
    db.session.rollback()
    message = message_for(error, code)
    log.info("refused %s %s: %s", status, code, detail)
    if wants_json():
        body = {"code": code, "message": message}
        if errors:
            body["errors"] = errors
        body.update(extra or {})
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message,
                           title=status_title(status)), status


def handle_domain_error(error: DomainError):
    errors = getattr(error, "errors", None)
    # A refusal may name figures the caller needs (``missing_fen``) beside the message.
    return error_response(error.status, error.code, error.message, errors,
                          getattr(error, "body", None), error)


def handle_ledger_error(error: LedgerError):
    status = LEDGER_STATUS.get(error.code, error.status)
    code = "validation_error" if error.code == "invalid_entry" else error.code
    return error_response(status, code, error.message, error=error)


def handle_api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.errors)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code = getattr(error, "jindou_code", None) or HTTP_CODES.get(
        status, "error" if status < 500 else "internal_error")
    errors = getattr(error, "errors", None)  # the fields at fault (web/edge.py)
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        # webargs groups field errors by location; the API speaks of fields only.
        errors = {}
        for fields in messages.values():
            errors.update(fields if isinstance(fields, dict) else {"_schema": fields})
    message = data.get("message") or error.description or code
    if status == 422:
        message = "the request is not valid"
    return error_response(status, code, str(message), errors)


def handle_integrity_error(error: IntegrityError):
    """Two requests raced for the same unique thing (a user name, a code): the loser hears
    that it exists, as it would have had it come second."""
    log.info("integrity error answered as conflict: %s", error.orig)
    return error_response(409, "conflict", "that already exists or is being created")


def handle_database_error(error: DBAPIError):
    """The connection broke under the request (the server restarted, a pooled connection it
    had dropped): SQLAlchemy has already discarded the pool, so a retry gets a new one."""
    if not error.connection_invalidated:
        return handle_unexpected(error)
    log.warning("database connection lost: %s", error.orig)
    return error_response(503, "database_unavailable",
                          "the database is unavailable for a moment; please retry")


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error")
    return error_response(500, "internal_error", "something went wrong; it has been logged")


def register(app) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(LedgerError, handle_ledger_error)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
