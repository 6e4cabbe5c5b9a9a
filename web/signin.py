"""Signing in, the same for the page and the API: one rate limit shared by both routes (scope
``sign-in``, per client address, in the limiter's storage: Redis when
``JINDOU_RATELIMIT_STORAGE_URI`` names it, so every process counts together), and a per-account
exponential back-off after repeated failures, kept in the same storage.

After ``FREE_FAILURES`` wrong passwords for one user name within ``FAILURE_WINDOW_SECONDS``,
each further failure locks that name for 2, 4, 8 ... seconds (at most ``MAX_LOCK_SECONDS``),
whoever tries it and from wherever; a success clears the count. The lock answers like the rate
limit (429 ``rate_limited``), with or without the right password. Whether the name exists
changes nothing: ``volunteers.users.authenticate`` does the same work either way."""

from __future__ import annotations

import hashlib

from flask import current_app
from werkzeug.exceptions import TooManyRequests

from volunteers import users
from volunteers.errors import Unauthorized

from .extensions import db, limiter

FREE_FAILURES = 5
FAILURE_WINDOW_SECONDS = 15 * 60
MAX_LOCK_SECONDS = 15 * 60
SCOPE = "sign-in"


def sign_in_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# One limit for the page's POST /login and the API's POST /api/v1/auth/tokens.
shared_sign_in_limit = limiter.shared_limit(sign_in_limit, scope=SCOPE, methods=["POST"])


def _keys(username: str) -> tuple[str, str]:
    name = hashlib.sha256((username or "").strip().lower().encode("utf-8")).hexdigest()[:32]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "jindou"
    return f"{prefix}/sign-in-failures/{name}", f"{prefix}/sign-in-lock/{name}"


def _enabled() -> bool:
    return current_app.config.get("RATELIMIT_ENABLED", True)


def lock_seconds(failures: int) -> int:
    """How long a name is locked after its ``failures``-th failure in the window."""
    if failures <= FREE_FAILURES:
        return 0
    return min(MAX_LOCK_SECONDS, 2 ** (failures - FREE_FAILURES))


def authenticate(username: str, password: str):
    """The user, or ``Unauthorized``; ``TooManyRequests`` while the name is locked."""
    if not _enabled():
        return users.authenticate(db.session, username, password)
    storage = limiter.storage
    failures_key, lock_key = _keys(username)
    if storage.get(lock_key) > 0:
        raise TooManyRequests("too many failed sign-ins for this user name; wait and retry")
    try:
        user = users.authenticate(db.session, username, password)
    except Unauthorized:
        failures = storage.incr(failures_key, FAILURE_WINDOW_SECONDS)
        seconds = lock_seconds(failures)
        if seconds:
            storage.clear(lock_key)
            storage.incr(lock_key, seconds)
        raise
    storage.clear(failures_key)
    return user
