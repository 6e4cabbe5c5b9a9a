"""Who may read which ledger account: an administrator over the account owner's area, and a
volunteer their own wallet."""

from __future__ import annotations

from sqlalchemy.orm import Session

import ledger

from . import access, areas
from .errors import Forbidden, NotFound
from .models import Area, Programme, User


def owner_area(session: Session, account: ledger.Account) -> Area:
    """The area an account belongs to; accounts of no one in particular belong to the root."""
    owner = None
    if account.owner_type == "programme":
        owner = session.get(Programme, account.owner_id)
    elif account.owner_type == "volunteer":
        owner = session.get(User, account.owner_id)
    return owner.area if owner is not None else areas.ensure_root(session)


def readable_account(session: Session, actor: User, code: str) -> ledger.Account:
    try:
        account = ledger.get_account(session, code)
    except ledger.UnknownAccount as error:
        raise NotFound(f"no account {code}", account=code) from error
    if account.owner_type == "volunteer" and account.owner_id == actor.id:
        return account
    if not access.holds(actor, ("admin",)):
        raise Forbidden("only administrators read other accounts")
    access.require(actor, ("admin",), owner_area(session, account))
    return account


def wallet_summary(session: Session, user: User) -> dict | None:
    if not access.holds(user, ("volunteer",)):
        return None
    try:
        balance = ledger.balance(session, user.wallet_code)
    except ledger.UnknownAccount:
        return {"posted_points": 0, "pending_points": 0, "available_points": 0}
    return {
        "posted_points": balance.posted,
        "pending_points": balance.pending,
        "available_points": balance.available,
    }
