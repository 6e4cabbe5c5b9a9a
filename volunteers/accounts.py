"""Accounts people can look after: changing one's own password, one-time codes that set a
password (an administrator's reset code, an imported person's activation code), suspension
and reactivation. A code is stored as its SHA-256 only, expires, and is used once.

``sessions_ended(session, user)`` is called whenever a person's sign-ins must end (a new
password, a reset, a suspension): every browser session, API token and client key ends
(``volunteers.sessions.end_all``)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ledger.clock import now

from . import access, areas, audit, sessions, users
from .errors import Conflict, DomainError, Invalid
from .models import AccountCode, Area, User
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password, hash_password

ADMIN_ROLES = ("admin",)
RESET_CODE_LIFETIME = timedelta(hours=24)
ACTIVATION_CODE_LIFETIME = timedelta(days=30)
# Unambiguous when read aloud or copied from paper: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_CODE_LENGTH = 32


class InvalidCode(DomainError):
    """The code is wrong, used or expired."""

    code = "invalid_code"
    status = 400


class AccountRefused(Conflict):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message, **details)
        self.code = code


def sessions_ended(session: Session, user: User) -> None:
    """Every sign-in of ``user`` ends at once: browser sessions (the session generation moves
    on), API tokens and client keys."""
    sessions.end_all(session, user)


def check_new_password(password) -> None:
    if not isinstance(password, str) or not (
            MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise Invalid("bad password", errors={"new_password": [
            f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"]})


def change_password(session: Session, user: User, current_password: str,
                    new_password: str) -> None:
    if not check_password(user.password_hash, current_password or ""):
        raise Invalid("the current password is wrong",
                      errors={"current_password": ["wrong password"]})
    check_new_password(new_password)
    user.password_hash = hash_password(new_password)
    session.flush()
    sessions_ended(session, user)
    audit.record(session, user, "user.password", f"user:{user.id}", None,
                 {"changed_by": "self"}, area=user.area)


def issue_code(session: Session, actor: User | None, user: User, purpose: str,
               lifetime: timedelta | None = None, *, logged: bool = True) -> tuple[str, datetime]:
    """A new one-time code for ``user``; their older unused codes of any purpose stop
    working. Returns the code (shown once, never stored) and when it expires."""
    if actor is not None:
        access.require(actor, ADMIN_ROLES, user.area)
    moment = now()
    lifetime = lifetime or (RESET_CODE_LIFETIME if purpose == "reset"
                            else ACTIVATION_CODE_LIFETIME)
    session.execute(update(AccountCode).where(
        AccountCode.user_id == user.id, AccountCode.used_at.is_(None),
        AccountCode.expires_at > moment).values(expires_at=moment)
        .execution_options(synchronize_session=False))
    code = new_code()
    expires_at = moment + lifetime
    session.add(AccountCode(user_id=user.id, purpose=purpose, code_hash=digest(code),
                            created_at=moment, expires_at=expires_at,
                            created_by_id=actor.id if actor else None))
    session.flush()
    if logged:
        audit.record(session, actor, f"user.{purpose}_code", f"user:{user.id}", None,
                     {"username": user.username, "expires_at": expires_at}, area=user.area)
    return code, expires_at


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def digest(code: str) -> str:
    normalised = (code or "").strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def reset_with_code(session: Session, login: str, code: str, new_password: str) -> User:
    """Sets a new password with a one-time code (a reset or an activation code); the code is
    spent. A wrong, used or expired code, or an unknown name, is one refusal: nobody learns
    which names exist."""
    check_new_password(new_password)
    if not code or len(code) > MAX_CODE_LENGTH:
        raise InvalidCode("the code is wrong, used or expired")
    user = users.find_for_login(session, login or "")
    moment = now()
    row = None if user is None else session.scalar(select(AccountCode).where(
        AccountCode.user_id == user.id, AccountCode.code_hash == digest(code),
        AccountCode.used_at.is_(None), AccountCode.expires_at > moment))
    if row is None or not user.active:
        raise InvalidCode("the code is wrong, used or expired")
    spent = session.execute(update(AccountCode).where(
        AccountCode.id == row.id, AccountCode.used_at.is_(None)).values(used_at=moment)
        .execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        raise InvalidCode("the code is wrong, used or expired")
    user.password_hash = hash_password(new_password)
    session.flush()
    sessions_ended(session, user)
    audit.record(session, user, "user.password", f"user:{user.id}", None,
                 {"changed_by": f"{row.purpose}_code"}, area=user.area)
    return user


def suspend(session: Session, actor: User, user_id: int) -> User:
    """The user cannot sign in and their tokens stop working; their points stay theirs."""
    user = users.get_user(session, user_id)
    access.require(actor, ADMIN_ROLES, user.area)
    if user.id == actor.id:
        raise AccountRefused("cannot_suspend_self", "nobody suspends themselves")
    if not user.active:
        raise AccountRefused("already_suspended", f"user {user_id} is already suspended")
    user.active = False
    session.flush()
    sessions_ended(session, user)
    audit.record(session, actor, "user.suspend", f"user:{user.id}", {"active": True},
                 {"active": False}, area=user.area)
    return user


def reactivate(session: Session, actor: User, user_id: int) -> User:
    user = users.get_user(session, user_id)
    access.require(actor, ADMIN_ROLES, user.area)
    if user.active:
        raise AccountRefused("not_suspended", f"user {user_id} is not suspended")
    user.active = True
    session.flush()
    audit.record(session, actor, "user.reactivate", f"user:{user.id}", {"active": False},
                 {"active": True}, area=user.area)
    return user


MAX_ACTIVATION_CODES = 20_000


def issue_activation_codes(session: Session, actor: User | None, area_code: str,
                           user_ids: list[int] | None = None) -> list[tuple[User, str, datetime]]:
    """A fresh activation code for each person in the area's subtree who has never set a
    password (imported people), or for those of ``user_ids``: a list for the office to hand
    out. Each person's earlier codes stop working; the codes themselves are never stored."""
    area = areas.get_area(session, area_code)
    if actor is not None:
        access.require(actor, ADMIN_ROLES, area)
    query = (select(User).join(Area, Area.id == User.area_id)
             .where(Area.path.startswith(area.path, autoescape=True),
                    User.password_hash == "", User.active.is_(True))
             .order_by(User.id).limit(MAX_ACTIVATION_CODES))
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    people = list(session.scalars(query))
    moment = now()
    expires_at = moment + ACTIVATION_CODE_LIFETIME
    ids = [person.id for person in people]
    for start in range(0, len(ids), 500):
        session.execute(update(AccountCode).where(
            AccountCode.user_id.in_(ids[start:start + 500]), AccountCode.used_at.is_(None),
            AccountCode.expires_at > moment).values(expires_at=moment)
            .execution_options(synchronize_session=False))
    issued, rows = [], []
    for person in people:
        code = new_code()
        issued.append((person, code, expires_at))
        rows.append({"user_id": person.id, "purpose": "activation", "code_hash": digest(code),
                     "created_at": moment, "expires_at": expires_at,
                     "created_by_id": actor.id if actor is not None else None})
    for start in range(0, len(rows), 1_000):
        session.execute(insert(AccountCode), rows[start:start + 1_000])
    if issued:
        audit.record(session, actor, "user.activation_codes", f"area:{area.code}", None,
                     {"people": len(issued), "expires_at": expires_at}, area=area)
    return issued
