"""Sessions that end: browser sessions by a per-user generation, API tokens by revocation,
client keys (Open311) by revocation.

A browser session remembers the generation of its user when it began (``current``); the app
refuses a session whose generation is no longer the user's. Bumping it (``end_browser_sessions``)
ends every browser session of that user at once, on every device, with no session table to
keep: a cookie copied before sign-out opens nothing after it. ``end_all`` also revokes every API
token and client key: what a password change or a suspension must do (issue 16 calls it).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.clock import now

from . import access
from .errors import NotFound
from .models import ApiToken, ClientKey, User

CLIENT_KEY_SCOPES = ("open311",)
MAX_CLIENT_KEYS = 20


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def current(user: User) -> int:
    """The generation a session beginning now records."""
    return user.session_generation or 0


def is_current(user: User, generation) -> bool:
    return isinstance(generation, int) and generation == current(user)


def end_browser_sessions(session: Session, user: User) -> None:
    """Every browser session of ``user`` ends (sign-out)."""
    session.execute(update(User).where(User.id == user.id).values(
        session_generation=User.session_generation + 1))
    session.expire(user, ["session_generation"])


def end_all(session: Session, user: User) -> None:
    """Every way ``user`` is signed in ends: browser sessions, API tokens, client keys. For a
    password change and a suspension."""
    end_browser_sessions(session, user)
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                           ApiToken.revoked.is_(False)).values(revoked=True))
    session.execute(update(ClientKey).where(ClientKey.user_id == user.id,
                                            ClientKey.revoked.is_(False)).values(revoked=True))
    session.flush()


# --- API tokens ------------------------------------------------------------------------------


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A user's live tokens (unrevoked, unexpired), newest first."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False),
                               ApiToken.expires_at > now())
        .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revokes one of ``user_id``'s tokens; refused at once on the next request."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"no token {token_id}")
    token.revoked = True
    session.flush()
    return token


def user_an_admin_reaches(session: Session, admin: User, user_id: int) -> User:
    """The user whose tokens an administrator manages: one in their areas."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", user_id=user_id)
    access.require(admin, ("admin",), user.area)
    return user


# --- client keys -----------------------------------------------------------------------------


def issue_client_key(session: Session, user: User, scope: str, label: str) -> tuple[str, ClientKey]:
    """A new client key for ``scope``; the key itself is shown once, only its hash is kept."""
    from .errors import Invalid

    if scope not in CLIENT_KEY_SCOPES:
        raise Invalid(f"unknown scope {scope!r}", errors={"scope": list(CLIENT_KEY_SCOPES)})
    live = session.scalar(select(ClientKey.id).where(
        ClientKey.user_id == user.id, ClientKey.revoked.is_(False)).offset(MAX_CLIENT_KEYS - 1))
    if live is not None:
        raise Invalid("too many client keys", errors={"scope": [f"at most {MAX_CLIENT_KEYS}"]})
    secret = "ck_" + secrets.token_urlsafe(32)
    key = ClientKey(user_id=user.id, key_hash=digest(secret), scope=scope, label=label[:120],
                    created_at=now(), revoked=False)
    session.add(key)
    session.flush()
    return secret, key


def client_keys_of(session: Session, user_id: int) -> list[ClientKey]:
    return list(session.scalars(select(ClientKey).where(
        ClientKey.user_id == user_id, ClientKey.revoked.is_(False)).order_by(ClientKey.id.desc())))


def revoke_client_key(session: Session, user_id: int, key_id: int) -> ClientKey:
    key = session.get(ClientKey, key_id)
    if key is None or key.user_id != user_id:
        raise NotFound(f"no client key {key_id}")
    key.revoked = True
    session.flush()
    return key


def user_for_client_key(session: Session, secret: str, scope: str) -> User | None:
    """The active user a live key of ``scope`` names, or None."""
    return session.scalar(
        select(User).join(ClientKey, ClientKey.user_id == User.id)
        .where(ClientKey.key_hash == digest(secret), ClientKey.scope == scope,
               ClientKey.revoked.is_(False), User.active.is_(True)))
