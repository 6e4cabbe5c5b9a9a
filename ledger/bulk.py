"""Opening many accounts at once: an import of thousands of volunteers opens a wallet each,
and one round trip per wallet would take minutes. Each account is opened as
``open_account`` opens one (a missing account created with zero balances, an existing one
left as it is); nothing here posts."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import errors, rules
from .clock import now
from .models import Account

BATCH_ACCOUNTS = 500


def open_accounts(session: Session, code_list: list[str], unit: str, kind: str, *,
                  no_overdraft: bool = False, owner_type: str | None = None,
                  owner_ids: list[int | None] | None = None) -> int:
    """Opens the accounts of ``code_list`` that do not exist yet (``owner_ids`` beside them);
    answers how many were created. Flushes."""
    rules.check_unit(unit)
    if kind not in rules.ACCOUNT_KINDS:
        raise errors.InvalidEntry(f"unknown account kind {kind!r}")
    owners = owner_ids if owner_ids is not None else [None] * len(code_list)
    if len(owners) != len(code_list):
        raise errors.InvalidEntry("one owner per account")
    for code in code_list:
        if not code or len(code) > rules.MAX_CODE_LENGTH:
            raise errors.InvalidEntry(f"bad account code {code!r}")
    session.flush()
    created = 0
    moment = now()
    for start in range(0, len(code_list), BATCH_ACCOUNTS):
        codes = code_list[start:start + BATCH_ACCOUNTS]
        existing = set(session.scalars(select(Account.code).where(Account.code.in_(codes))))
        rows = [dict(code=code, unit=unit, kind=kind, no_overdraft=no_overdraft,
                     owner_type=owner_type, owner_id=owner, closed=False, posted=0,
                     pending_in=0, pending_out=0, created_at=moment)
                for code, owner in zip(codes, owners[start:start + BATCH_ACCOUNTS], strict=True)
                if code not in existing]
        if rows:
            session.execute(insert(Account), rows)
            created += len(rows)
    return created
