"""Idempotency-Key for the activity and wish endpoints that pay: the first answer is stored
in the same transaction as the work, so a retry with the same key and body gets it again,
and the same key with another body is 409 idempotency_conflict."""

from __future__ import annotations

import hashlib
import json

from flask import Response, request
from sqlalchemy import select

import ledger
from activities.models import ApiReplay
from ledger.clock import now

from ..errors import ApiError
from ..extensions import db
from ..transactions import commit
from . import MAX_IDEMPOTENCY_KEY_LENGTH


def _key(actor, purpose: str) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ApiError(422, "validation_error", "Idempotency-Key is too long",
                       {"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"]})
    return f"api:{actor.id}:{purpose}:{key}"


def _fingerprint(payload) -> str:
    document = json.dumps([request.path, payload], sort_keys=True, default=str,
                          ensure_ascii=False)
    return hashlib.sha256(document.encode()).hexdigest()


def run_once(actor, purpose: str, payload, work, status: int = 200) -> Response:
    """Run ``work()`` (which returns the JSON-ready body, or body and status) and commit,
    or replay the first answer to this Idempotency-Key."""
    key = _key(actor, purpose)
    fingerprint = _fingerprint(payload)
    if key is not None:
        stored = db.session.scalar(select(ApiReplay).where(ApiReplay.key == key))
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ledger.IdempotencyConflict(
                    "this Idempotency-Key was used for another request")
            return Response(stored.body, stored.status_code, mimetype="application/json")
    body = work()
    if isinstance(body, tuple):
        body, status = body
    text = json.dumps(body, ensure_ascii=False, default=str)
    if key is not None:
        db.session.add(ApiReplay(key=key, fingerprint=fingerprint, status_code=status,
                                 body=text, created_at=now()))
    commit()
    return Response(text, status, mimetype="application/json")
