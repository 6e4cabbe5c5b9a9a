"""Accounts of people: creation, registration, sign-in, API tokens, role grants."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

import ledger
from ledger.clock import now

from . import areas
from .errors import Conflict, Invalid, NotFound, Unauthorized
from .models import ROLES, ApiToken, RoleGrant, User
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password, hash_password

# Letters of any script (Chinese names for older residents), digits, _ . -; not all digits,
# which would read as a phone number at sign-in.
USERNAME_PATTERN = re.compile(r"^(?!\d+$)[\w.-]{2,64}$")
USERNAME_RULE = "2-64 letters (Chinese too), digits, _ . -; not only digits"
PHONE_PATTERN = re.compile(r"^\+?[0-9 -]{5,20}$")
TOKEN_LIFETIME = timedelta(days=30)
REGISTRATION_LEVELS = ("community", "grid", "courtyard")


def create_user(
    session: Session,
    username: str,
    password: str | None,
    *,
    role: str,
    area_code: str,
    display_name: str | None = None,
    phone: str | None = None,
) -> User:
    """A user holding ``role`` on ``area_code``. Volunteers get a points wallet."""
    if not USERNAME_PATTERN.match(username or ""):
        raise Invalid("bad user name", errors={"username": [USERNAME_RULE]})
    if password is not None and not (
            MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH):
        raise Invalid("bad password", errors={
            "password": [f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"]})
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", errors={"role": [f"one of {ROLES}"]})
    area = areas.get_area(session, area_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user name {username} is taken", errors={"username": ["taken"]})
    user = User(
        username=username,
        # No password (an imported person): nothing signs in until an activation code sets one.
        password_hash=hash_password(password) if password is not None else "",
        display_name=(display_name or username)[:120],
        phone=phone,
        area=area,
        active=True,
        created_at=now(),
    )
    session.add(user)
    session.flush()
    grant_role(session, user, role, area_code)
    return user


def register_volunteer(
    session: Session, username: str, password: str, display_name: str, area_code: str,
    phone: str | None = None,
) -> User:
    """Self-registration: always and only the volunteer role, on the area chosen, which must
    be a neighbourhood (community, grid or courtyard): never the root or a district, whose
    volunteers would reach every programme below them."""
    area = areas.get_area(session, area_code)
    if area.level not in REGISTRATION_LEVELS:
        raise Invalid(f"volunteers register on a community, grid or courtyard, not {area_code}",
                      errors={"area": [f"one of the levels {', '.join(REGISTRATION_LEVELS)}"]})
    return create_user(session, username, password, role="volunteer", area_code=area_code,
                       display_name=display_name, phone=phone)


def grant_role(session: Session, user: User, role: str, area_code: str) -> RoleGrant:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", errors={"role": [f"one of {ROLES}"]})
    area = areas.get_area(session, area_code)
    for grant in user.grants:
        if grant.role == role and grant.area_id == area.id:
            return grant
    grant = RoleGrant(user=user, role=role, area=area)
    session.add(grant)
    session.flush()
    if role == "volunteer":
        open_wallet(session, user)
    return grant


def open_wallet(session: Session, user: User) -> None:
    ledger.open_account(session, user.wallet_code, "POINT", "liability", no_overdraft=True,
                        owner_type="volunteer", owner_id=user.id)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", user_id=user_id)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def find_for_login(session: Session, login: str) -> User | None:
    """The user a sign-in names: by user name, else by phone number when exactly one person
    has it."""
    login = (login or "").strip()
    user = find_user(session, login)
    if user is None and PHONE_PATTERN.match(login):
        found = session.scalars(select(User).where(User.phone == login).limit(2)).all()
        user = found[0] if len(found) == 1 else None
    return user


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash to check against when the name is unknown, made once with the current cost."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with this name (or phone number) and password. The same work whether or
    not the name exists (a password is always checked), so the answer's time does not tell."""
    user = find_for_login(session, username or "")
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    matches = check_password(stored, password or "")
    if user is None or not user.active or not matches:
        raise Unauthorized("wrong user name or password")
    return user


def issue_token(session: Session, user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = now() + TOKEN_LIFETIME
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now(),
                         expires_at=expires_at, revoked=False))
    session.flush()
    return token, expires_at


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token names, with their roles, in one query (every API request
    asks: a till's scan must not spend three round trips on who it is)."""
    return session.scalars(
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked.is_(False),
               ApiToken.expires_at > now(), User.active.is_(True))
        .options(joinedload(User.grants))
    ).unique().first()


def user_with_roles(session: Session, user_id: int) -> User | None:
    """The user with their roles in one query (a signed-in page's user, on every request)."""
    return session.scalars(
        select(User).where(User.id == user_id).options(joinedload(User.grants))
    ).unique().first()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def search(session: Session, actor: User, text: str, limit: int = 50) -> list[User]:
    """People in the actor's admin areas whose user name, name or phone starts with ``text``
    (everyone there, newest first, when it is empty)."""
    from sqlalchemy import or_

    from .models import Area

    paths = [grant.area.path for grant in actor.grants if grant.role == "admin"]
    if not paths:
        return []
    query = select(User).join(Area, Area.id == User.area_id).where(
        or_(*(Area.path.startswith(path, autoescape=True) for path in paths)))
    if text:
        query = query.where(or_(User.username.startswith(text, autoescape=True),
                                User.display_name.startswith(text, autoescape=True),
                                User.phone.startswith(text, autoescape=True)))
    return list(session.scalars(query.order_by(User.id.desc()).limit(limit)))
