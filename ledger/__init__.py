"""Jindou's double-entry points ledger. Imports nothing of ours and no web framework: usable
from a plain Python shell with a SQLAlchemy session.

    from ledger import open_account, post, Posting, balance
"""

from .audit import Report, verify
from .chain import seal, seal_after_commit, seal_all
from .db import Base, configure_engine
from .errors import (
    AccountClosed,
    AlreadyReversed,
    HoldExpired,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPoints,
    InvalidEntry,
    LedgerError,
    NotReversible,
    UnitMismatch,
    UnknownAccount,
    UnknownEntry,
)
from .group import GroupPoster
from .models import Account, AccountTotal, ChainLink, Entry
from .models import Posting as PostingRow
from .payout import Payee, Payout, pay_out
from .reads import (
    Balance,
    StatementLine,
    balance,
    balance_at,
    balances,
    entries,
    get_entry,
    statement,
    yearly_totals,
)
from .rules import MAX_AMOUNT, Posting
from .service import (
    Result,
    accept_outcome,
    close_account,
    expire_holds,
    get_account,
    hold,
    hold_state,
    open_account,
    plan_post_hold,
    post,
    post_each,
    post_hold,
    post_many,
    reverse,
    void_hold,
)
from .verdicts import Verdict

__all__ = [
    "Report",
    "verify",
    "seal",
    "seal_after_commit",
    "seal_all",
    "Base",
    "configure_engine",
    "AccountClosed",
    "AlreadyReversed",
    "HoldExpired",
    "HoldNotPending",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InsufficientPoints",
    "InvalidEntry",
    "LedgerError",
    "NotReversible",
    "UnitMismatch",
    "UnknownAccount",
    "UnknownEntry",
    "GroupPoster",
    "Account",
    "AccountTotal",
    "ChainLink",
    "Entry",
    "PostingRow",
    "Payee",
    "Payout",
    "pay_out",
    "Balance",
    "StatementLine",
    "balance",
    "balance_at",
    "balances",
    "entries",
    "get_entry",
    "statement",
    "yearly_totals",
    "MAX_AMOUNT",
    "Posting",
    "Result",
    "accept_outcome",
    "close_account",
    "expire_holds",
    "get_account",
    "hold",
    "hold_state",
    "open_account",
    "plan_post_hold",
    "post",
    "post_hold",
    "post_each",
    "post_many",
    "reverse",
    "void_hold",
    "Verdict",
]
