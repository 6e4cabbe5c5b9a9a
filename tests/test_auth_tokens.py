"""Who a bearer token names: the active user of a live, unrevoked token, read with their roles
in one query; nobody otherwise."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from volunteers import areas, users
from volunteers.models import ApiToken, User


def till_user(session) -> User:
    areas.ensure_root(session)
    return users.create_user(session, "till_user", "correct-horse-9", role="merchant",
                             area_code="root")


def test_a_live_token_names_its_user_with_roles(session):
    user = till_user(session)
    token, _expires_at = users.issue_token(session, user)
    session.commit()
    user_id = user.id
    session.expunge_all()
    found = users.user_for_token(session, token)
    assert (found.id, found.roles) == (user_id, ["merchant"])
    assert users.user_for_token(session, token + "x") is None


def test_an_expired_or_revoked_token_or_an_inactive_user_names_nobody(session):
    user = till_user(session)
    expired, _ = users.issue_token(session, user)
    revoked, _ = users.issue_token(session, user)
    live, _ = users.issue_token(session, user)
    user_id = user.id
    session.execute(update(ApiToken).where(ApiToken.token_hash == users._digest(expired))
                    .values(expires_at=users.now() - timedelta(seconds=1)))
    session.execute(update(ApiToken).where(ApiToken.token_hash == users._digest(revoked))
                    .values(revoked=True))
    session.commit()
    assert users.user_for_token(session, expired) is None
    assert users.user_for_token(session, revoked) is None
    assert users.user_for_token(session, live).id == user_id
    session.execute(update(User).where(User.id == user_id).values(active=False))
    session.commit()
    session.expunge_all()
    assert users.user_for_token(session, live) is None
