"""Idempotency-Key: one mechanism for every API endpoint that moves points or money
(CONTRACT section 4). The key is scoped to the caller and the operation. ``run_once`` stores
the first answer in the same transaction as the work, so a retry with the same key and body
gets that answer again and the same key with another body is 409 idempotency_conflict. The
services get the same scoped key (``idempotency_key``), so the ledger itself refuses to pay
twice: that also answers a retry that raced the first one past the stored answers."""

from __future__ import annotations

import hashlib
import json
import uuid

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import ledger
from activities.models import ApiReplay
from ledger.clock import now

from ..errors import ApiError
from ..extensions import db
from ..transactions import commit

MAX_IDEMPOTENCY_KEY_LENGTH = 100
IDEMPOTENCY_HEADER = {
    "Idempotency-Key": {
        "description": "Names this request: a retry with the same key and body returns the "
        "first response and moves nothing again; the same key with another body is "
        "409 idempotency_conflict.",
        "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
        "required": False,
    }
}
# The OpenAPI parameters of an endpoint that takes the header: @blp.doc(parameters=IDEMPOTENT).
IDEMPOTENT = [{"in": "header", "name": name, **spec} for name, spec in IDEMPOTENCY_HEADER.items()]


def request_key(actor, purpose: str) -> str | None:
    """The caller's Idempotency-Key scoped to the caller and the operation, or None."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ApiError(422, "validation_error", "Idempotency-Key is too long",
                       {"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"]})
    return f"api:{actor.id}:{purpose}:{key}"


def idempotency_key(actor, purpose: str) -> str:
    """The key a service names its work with: the caller's, scoped, or a fresh one."""
    return request_key(actor, purpose) or f"api:{actor.id}:{purpose}:{uuid.uuid4().hex}"


def _fingerprint(payload) -> str:
    document = json.dumps([request.path, payload], sort_keys=True, default=str,
                          ensure_ascii=False)
    return hashlib.sha256(document.encode()).hexdigest()


def _replay(key: str, fingerprint: str) -> Response | None:
    stored = db.session.scalar(select(ApiReplay).where(ApiReplay.key == key))
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise ledger.IdempotencyConflict("this Idempotency-Key was used for another request")
    return Response(stored.body, stored.status_code, mimetype="application/json")


def run_once(actor, purpose: str, payload, work, status: int = 200) -> Response:
    """Run ``work()`` (which returns the JSON-ready body, or body and status) and commit,
    or replay the first answer to this Idempotency-Key."""
    key = request_key(actor, purpose)
    fingerprint = _fingerprint(payload)
    if key is not None and (first := _replay(key, fingerprint)) is not None:
        return first
    body = work()
    if isinstance(body, tuple):
        body, status = body
    text = json.dumps(body, ensure_ascii=False, default=str)
    if key is not None:
        db.session.add(ApiReplay(key=key, fingerprint=fingerprint, status_code=status,
                                 body=text, created_at=now()))
        try:
            db.session.flush()
        except IntegrityError:
            # A retry raced the first request, which committed its answer meanwhile.
            db.session.rollback()
            first = _replay(key, fingerprint)
            if first is None:
                raise
            return first
    commit()
    return Response(text, status, mimetype="application/json")
