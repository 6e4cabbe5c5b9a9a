"""Who is asking: a bearer token on the API, a Flask-Login session on pages."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user

from volunteers import access, users
from volunteers.errors import Unauthorized

from .extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    try:
        user = users.user_with_roles(db.session, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


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
