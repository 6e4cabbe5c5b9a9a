"""The JSON API under /api/v1 (CONTRACT section 4)."""

import uuid

from flask import request

from ..errors import ApiError

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


def idempotency_key(actor, purpose: str) -> str:
    """The caller's key, scoped to the caller and the operation; a fresh one without it."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ApiError(422, "validation_error", "Idempotency-Key is too long",
                       {"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"]})
    return f"api:{actor.id}:{purpose}:{key or uuid.uuid4().hex}"


def register(api) -> list:
    """Registers every API blueprint on ``api`` and returns them (module-level objects,
    shared by every app built in this process)."""
    from . import (
        accounts,
        activities,
        auth,
        me,
        merchants,
        payments,
        programmes,
        rankings,
        reports,
        settlements,
        teams,
        vouchers,
        wishes,
    )

    blueprints = [module.blp for module in (
        auth, me, programmes, accounts, reports, activities, wishes, teams, merchants,
        vouchers, settlements, payments, rankings)]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return blueprints
