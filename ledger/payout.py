"""Paying many accounts from one at once: year-end bonuses to hundreds of thousands of
volunteers from a programme's fund.

``pay_out`` writes what ``post_many`` would write for entries of the source and up to
``MAX_POSTINGS_PER_ENTRY - 1`` payees each, and opens the payees' accounts that do not exist
yet, all or nothing. On PostgreSQL it is one call of ``ledger_pay_out`` that works set-based:
one conditional UPDATE debits the source (refusing an overdraft), one upsert opens or credits
every payee (so a new account is written once, not created then updated), then one INSERT
each for the entries, the postings with their running balances, the yearly totals and the
sealing queue. Elsewhere the same plans go through ``post_many``'s path.

Lock order: every writer of the ledger locks accounts in id order (``ledger_post``'s effects,
``ledger_post_many``'s ``ORDER BY id FOR NO KEY UPDATE``), and so does ``ledger_pay_out``
since version 4: it locks the source and every existing payee in id order before it writes,
so a payout never waits for a payee while holding the source a cash-out waits for
(``tests/test_lock_order.py`` races the two).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from . import ddl, errors, rules
from .clock import now
from .models import Account
from .service import (
    Plan,
    Result,
    _expire_cached_accounts,
    _insert_ignoring_duplicates,
    _plan,
    _post_plans,
    _result,
)
from .verdicts import Verdict

PAYEES_PER_ENTRY = rules.MAX_POSTINGS_PER_ENTRY - 1
MAX_PAYEES = 2_000_000


@dataclass(frozen=True, slots=True)
class Payee:
    """An account to credit; opened with this owner when it does not exist yet."""

    code: str
    amount: int
    owner_id: int | None = None


@dataclass(frozen=True)
class Payout:
    source: str
    unit: str
    kind: str
    key_prefix: str
    reference: str | None = None
    memo: str | None = None
    actor: str | None = None
    # How a missing payee account is opened.
    payee_kind: str = "liability"
    payee_owner_type: str | None = None


def pay_out(session: Session, payout: Payout, payees: Sequence[Payee]) -> list[Result]:
    """Credit every payee from ``payout.source``: entries keyed ``<key_prefix>:<n>``, in
    payee order. A retry with the same prefix and payees answers the first entries."""
    _check(payout, payees)
    if not payees:
        return []
    created_at = now()
    plans = _plans(payout, payees, created_at)
    session.flush()
    if not ddl.has_stored_functions(session.get_bind()):
        _open_missing(session, payout, payees, created_at)
        try:
            results = _post_plans(session, plans)
        except errors.LedgerError as error:
            # The entries are pay_out's own, not a batch of the caller's: no index to name,
            # as ledger_pay_out answers.
            error.details.pop("index", None)
            raise
        if any(result.created for result in results):
            session.info["ledger_unsealed"] = True  # for whoever commits: seal them
        return results
    try:
        return _pay_out_in_postgres(session, payout, payees, plans, created_at)
    finally:
        _expire_cached_accounts(session, {payout.source} | {payee.code for payee in payees})


def _check(payout: Payout, payees: Sequence[Payee]) -> None:
    rules.check_unit(payout.unit)
    if payout.payee_kind not in rules.ACCOUNT_KINDS:
        raise errors.InvalidEntry(f"unknown account kind {payout.payee_kind!r}")
    if len(payees) > MAX_PAYEES:
        raise errors.InvalidEntry(f"a payout takes at most {MAX_PAYEES} payees")
    codes = set()
    for payee in payees:
        rules.check_positive(payee.amount)
        if not payee.code or len(payee.code) > rules.MAX_CODE_LENGTH:
            raise errors.InvalidEntry(f"bad account code {payee.code!r}")
        codes.add(payee.code)
    if len(codes) != len(payees):
        raise errors.InvalidEntry("a payee appears twice in the payout")
    if payout.source in codes:
        raise errors.InvalidEntry("the source cannot pay itself")


def _plans(payout: Payout, payees: Sequence[Payee], created_at: datetime) -> list[Plan]:
    plans = []
    for start in range(0, len(payees), PAYEES_PER_ENTRY):
        group = payees[start:start + PAYEES_PER_ENTRY]
        postings = [rules.Posting(payee.code, payee.amount, payout.unit) for payee in group]
        postings.append(rules.Posting(payout.source, -sum(p.amount for p in group), payout.unit))
        plans.append(_plan(f"{payout.key_prefix}:{len(plans)}", payout.kind, postings,
                           payout.reference, payout.memo, payout.actor, status="posted",
                           created_at=created_at))
    return plans


def _open_missing(session: Session, payout: Payout, payees: Sequence[Payee],
                  created_at: datetime) -> None:
    existing = set(session.scalars(select(Account.code).where(
        Account.code.in_([payee.code for payee in payees]))))
    for payee in payees:
        if payee.code not in existing:
            session.execute(_insert_ignoring_duplicates(session, Account, dict(
                code=payee.code, unit=payout.unit, kind=payout.payee_kind, no_overdraft=False,
                owner_type=payout.payee_owner_type, owner_id=payee.owner_id, closed=False,
                posted=0, pending_in=0, pending_out=0, created_at=created_at)))


def _pay_out_in_postgres(session: Session, payout: Payout, payees: Sequence[Payee],
                         plans: list[Plan], created_at: datetime) -> list[Result]:
    document = {
        "source": payout.source, "unit": payout.unit, "kind": payout.kind,
        "payee_kind": payout.payee_kind, "owner_type": payout.payee_owner_type,
        "created_at": rules.timestamp_text(created_at), "year": rules.year_of(created_at),
        "entries": [plan.entry_document() for plan in plans],
    }
    outcome = session.execute(
        text("SELECT ledger_pay_out(CAST(:batch AS jsonb), :codes, :amounts, :numbers,"
             " :owners)"),
        {"batch": json.dumps(document), "codes": [payee.code for payee in payees],
         "amounts": [payee.amount for payee in payees],
         "numbers": [index // PAYEES_PER_ENTRY + 1 for index in range(len(payees))],
         "owners": [payee.owner_id for payee in payees]},
    ).scalar_one()
    keys = [plan.entry["idempotency_key"] for plan in plans]
    if outcome["result"] == Verdict.CREATED:
        session.info["ledger_unsealed"] = True
        return [Result(outcome["ids"][key], True) for key in keys]
    if outcome["result"] == Verdict.EXISTING:
        return _replayed(plans, outcome["found"])
    if outcome["result"] == Verdict.RETRY:
        raise errors.LedgerError("the payout raced a concurrent writer; try again")
    _result(outcome)  # raises the refusal
    raise AssertionError(f"unknown payout outcome {outcome!r}")


def _replayed(plans: list[Plan], found: list) -> list[Result]:
    """The first payout's entries, when every key was used for the same content."""
    by_key = {key: (entry_id, fingerprint) for key, entry_id, fingerprint in found}
    results = []
    for plan in plans:
        entry_id, fingerprint = by_key.get(plan.entry["idempotency_key"], (None, None))
        if fingerprint != plan.entry["fingerprint"]:
            raise errors.IdempotencyConflict(
                "these idempotency keys were used for a different payout",
                entry_id=entry_id)
        results.append(Result(entry_id, False))
    return results
