"""Who is asking: a bearer token on the API, a Flask-Login session on pages."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask import session as browser_session
from flask_login import current_user, login_user

from volunteers import access, sessions, users
from volunteers.errors import Unauthorized

from .extensions import db, login_manager

GENERATION_KEY = "generation"


@login_manager.user_loader
def load_user(user_id: str):
    """The session's user, while the session is current: a session from before its user's
    last sign-out, password change or suspension opens nothing (``volunteers.sessions``)."""
    try:
        user = users.user_with_roles(db.session, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    if not sessions.is_current(user, browser_session.get(GENERATION_KEY)):
        return None
    return user


def begin_session(user) -> None:
    """Signs ``user`` in on this browser, in their current session generation."""
    locale = browser_session.get("locale")
    browser_session.clear()  # nothing of an earlier session carries over (fixation)
    if locale:
        browser_session["locale"] = locale
    login_user(user)
    browser_session[GENERATION_KEY] = sessions.current(user)
    browser_session.permanent = True


def bearer_user():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return users.user_for_token(db.session, token.strip())


def current_actor():
    """The signed-in user or None. The API accepts only bearer tokens, so a browser's cookie
    cannot be used to call it from another site (the API needs no CSRF token)."""
    if "actor" not in g:
        if request.path.startswith("/api/"):
            g.actor = bearer_user()
        else:
            g.actor = current_user if current_user.is_authenticated else None
    return g.actor


def actor_required(*roles):
    """Sign-in required; with ``roles``, one of them somewhere (areas are checked by the
    services, which know what the request touches)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                raise Unauthorized("sign in, or send Authorization: Bearer <token>")
            if roles:
                access.require(actor, roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate
