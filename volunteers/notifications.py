"""The in-app notification centre: what the services tell a person (a report verified, a wish
confirmed). A message is stored as an English msgid and its parameters; the web layer
translates it when it renders, so each reader sees their own language."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ledger.clock import now

from .errors import Invalid
from .models import Notification

MAX_MESSAGE_LENGTH = 300
MAX_LINK_LENGTH = 300
MAX_LIST_LENGTH = 200


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional no-op marker)
    """Marks a msgid for extraction (scripts/update-translations) without translating it."""
    return message


def notify(
    session: Session,
    user_id: int,
    message: str,
    params: dict | None = None,
    *,
    link: str | None = None,
    reference: str | None = None,
) -> Notification:
    notification = Notification(**notification_row(user_id, message, params, link=link,
                                                    reference=reference))
    session.add(notification)
    session.flush()
    return notification


def notification_row(
    user_id: int,
    message: str,
    params: dict | None = None,
    *,
    link: str | None = None,
    reference: str | None = None,
) -> dict:
    """The checked column values of a notification, for a writer that inserts the row itself
    (a PostgreSQL function writing it in the same round trip as what it tells)."""
    if not message or len(message) > MAX_MESSAGE_LENGTH:
        raise Invalid("bad notification", errors={"message": [f"1 to {MAX_MESSAGE_LENGTH}"]})
    if link is not None and len(link) > MAX_LINK_LENGTH:
        raise Invalid("bad notification link", errors={"link": [f"at most {MAX_LINK_LENGTH}"]})
    return dict(user_id=user_id, message=message, params=dict(params or {}), link=link,
                reference=reference, created_at=now())


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def latest(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    limit = max(1, min(limit, MAX_LIST_LENGTH))
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def mark_read(session: Session, user_id: int) -> int:
    """Marks every unread notification of this person read; answers how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now())
    )
    session.flush()
    return result.rowcount
