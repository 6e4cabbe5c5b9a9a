"""Writing to the ledger: accounts, entries, holds, reversals.

Every write goes through one *plan* (what to insert and how each account's cached balances
move) and one executor. On PostgreSQL the executor is a single stored-function call
(``ledger_post``, ``sql/ledger_post.v2.sql``): the account rows are locked, checked and
written in one round trip, so a hot account's lock is held for microseconds, not for a
conversation. Everywhere
else the same plan runs as SQLAlchemy Core statements; on SQLite the transaction already holds
the database's write lock from its first statement (``db.configure_engine``).

Functions flush but never commit: the caller owns the transaction. A refusal raises a
``LedgerError`` before anything is written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from . import ddl, errors, rules
from .clock import now
from .models import Account, AccountTotal, Entry, Posting, UnsealedEntry
from .rules import Posting as PostingSpec
from .verdicts import Verdict

HOLD_SETTLEMENT_KINDS = ("hold_post", "hold_void", "hold_expire")


@dataclass(frozen=True)
class Result:
    entry_id: int
    created: bool


@dataclass
class Plan:
    """Everything one entry writes. Built in Python, executed in one place."""

    entry: dict
    postings: tuple[PostingSpec, ...]
    posted: bool
    releases: tuple[PostingSpec, ...] = ()
    # (code, year, kind, credited, debited, credited_at): credited_at is the entry's moment
    # where it credits the account, else None.
    totals: tuple[tuple[str, int, str, int, int, datetime | None], ...] = ()
    codes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        self.codes = tuple(sorted({p.account for p in self.postings + self.releases}))

    def entry_document(self) -> dict:
        """The entry's columns as JSON values, for the PostgreSQL writers."""
        return {name: rules.timestamp_text(value) if isinstance(value, datetime) else value
                for name, value in self.entry.items()}

    def effects(self) -> dict[str, list[int]]:
        """Per account code: [posted, pending_in, pending_out] deltas."""
        deltas: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for posting in self.postings:
            if self.posted:
                deltas[posting.account][0] += posting.amount
            elif posting.amount > 0:
                deltas[posting.account][1] += posting.amount
            else:
                deltas[posting.account][2] -= posting.amount
        for release in self.releases:
            if release.amount > 0:
                deltas[release.account][1] -= release.amount
            else:
                deltas[release.account][2] += release.amount
        return deltas


# --- accounts -----------------------------------------------------------------------------


def open_account(
    session: Session,
    code: str,
    unit: str,
    kind: str,
    *,
    no_overdraft: bool = False,
    owner_type: str | None = None,
    owner_id: int | None = None,
) -> Account:
    """The account with this code, created if missing (safe when two callers race)."""
    rules.check_unit(unit)
    if kind not in rules.ACCOUNT_KINDS:
        raise errors.InvalidEntry(f"unknown account kind {kind!r}")
    if not code or len(code) > rules.MAX_CODE_LENGTH:
        raise errors.InvalidEntry(f"bad account code {code!r}")
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None:
        values = dict(
            code=code,
            unit=unit,
            kind=kind,
            no_overdraft=no_overdraft,
            owner_type=owner_type,
            owner_id=owner_id,
            closed=False,
            posted=0,
            pending_in=0,
            pending_out=0,
            created_at=now(),
        )
        session.execute(_insert_ignoring_duplicates(session, Account, values))
        account = session.scalar(select(Account).where(Account.code == code))
    if account.unit != unit:
        raise errors.UnitMismatch(f"account {code} counts {account.unit}, not {unit}", account=code)
    return account


def _insert_ignoring_duplicates(session: Session, model, values: dict):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model).values(**values).on_conflict_do_nothing()


def get_account(session: Session, code: str) -> Account:
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise errors.UnknownAccount(f"no account {code}", account=code)
    return account


def close_account(session: Session, code: str) -> None:
    account = get_account(session, code)
    session.execute(update(Account).where(Account.id == account.id).values(closed=True))
    session.expire(account)


# --- entries ------------------------------------------------------------------------------


def post(
    session: Session,
    *,
    idempotency_key: str,
    kind: str,
    postings,
    reference: str | None = None,
    memo: str | None = None,
    actor: str | None = None,
) -> Result:
    """A posted entry: points move now."""
    return _execute(
        session,
        _plan(idempotency_key, kind, postings, reference, memo, actor, status="posted"),
    )


MAX_BATCH_ENTRIES = 5_000
# A batch is retried when a concurrent twin takes one of its keys mid-flight; each retry
# answers at least one more key, so a few suffice.
MAX_BATCH_ATTEMPTS = 4


def post_many(session: Session, entries) -> list[Result]:
    """Posted entries in one go, as if ``post`` were called for each in order: the same
    checks, idempotency, balances, running balances, yearly totals and sealing queue.

    ``entries`` holds dicts of ``post``'s keyword arguments (``idempotency_key``, ``kind``,
    ``postings``, optionally ``reference``, ``memo``, ``actor``). All or nothing: the first
    refusal raises its ``LedgerError`` (``details["index"]`` names the entry) and none of the
    batch is written. On PostgreSQL the batch is one ``ledger_post_many`` call.
    """
    entries = _checked_batch(entries)
    return _post_plans(session, [_entry_plan(entry) for entry in entries])


def post_each(session: Session, entries) -> list[Result | errors.LedgerError]:
    """Posted entries in one go, each accepted or refused on its own: the answer holds, in
    order, the ``Result`` of every entry written and the ``LedgerError`` of every entry
    refused, exactly as if ``post`` were called for each in order and its refusals caught.

    For a caller that writes other people's entries together (``GroupPoster``): one entry's
    refusal must not fail the others. On PostgreSQL it is ``post_many``'s one call, asked
    again without the refused entry after each refusal (so at most one call per entry);
    elsewhere each entry is posted in its own savepoint. Errors that are not a refusal (a lost
    connection, a batch that kept racing) raise as usual: the transaction is then unusable.
    """
    entries = _checked_batch(entries)
    answers: list = [None] * len(entries)
    plans: dict[int, Plan] = {}
    for index, entry in enumerate(entries):
        try:
            plans[index] = _entry_plan(entry)
        except errors.LedgerError as error:
            error.details["index"] = index
            answers[index] = error
    if ddl.has_stored_functions(session.get_bind()):
        _post_each_in_postgres(session, plans, answers)
    else:
        _post_each_in_savepoints(session, plans, answers)
    return answers


def _checked_batch(entries) -> list[dict]:
    entries = list(entries)
    if len(entries) > MAX_BATCH_ENTRIES:
        raise errors.InvalidEntry(f"a batch takes at most {MAX_BATCH_ENTRIES} entries")
    return entries


def _entry_plan(entry: dict) -> Plan:
    return _plan(entry["idempotency_key"], entry["kind"], entry["postings"],
                 entry.get("reference"), entry.get("memo"), entry.get("actor"), status="posted")


def _post_plans(session: Session, plans: list[Plan]) -> list[Result]:
    if not plans:
        return []
    session.flush()
    codes = {code for plan in plans for code in plan.codes}
    try:
        if ddl.has_stored_functions(session.get_bind()):
            return _post_many_in_postgres(session, plans)
        with session.begin_nested():
            return [_post_numbered(session, index, plan) for index, plan in enumerate(plans)]
    finally:
        _expire_cached_accounts(session, codes)


def _post_each_in_savepoints(session: Session, plans: dict[int, Plan], answers: list) -> None:
    for index, plan in plans.items():
        try:
            with session.begin_nested():
                answers[index] = _execute(session, plan)
        except errors.LedgerError as error:
            error.details["index"] = index
            answers[index] = error


def _post_each_in_postgres(session: Session, plans: dict[int, Plan], answers: list) -> None:
    waiting = dict(plans)
    # Every refused attempt takes one entry out, so the last attempt has nothing to refuse.
    for _ in range(len(plans) + 1):
        sent, twins = _split_twins(waiting)
        try:
            results = _post_plans(session, [waiting[index] for index in sent])
        except errors.LedgerError as error:
            if "index" not in error.details:
                raise
            refused = sent[error.details["index"]]
            error.details["index"] = refused
            answers[refused] = error
            del waiting[refused]
            continue
        for index, result in zip(sent, results, strict=True):
            answers[index] = result
        for index, first in twins:
            answers[index] = errors.IdempotencyConflict(
                "this idempotency key was used for a different entry",
                entry_id=answers[first].entry_id, index=index)
        return
    raise AssertionError("post_each refused more entries than it was given")


def _split_twins(plans: dict[int, Plan]) -> tuple[list[int], list[tuple[int, int]]]:
    """Which entries to send, and which reuse an earlier entry's key for other content: those
    are conflicts once that earlier entry is written (``post_many`` would refuse them all at
    once, before knowing whether the earlier entry itself is accepted)."""
    first: dict[str, int] = {}
    sent, twins = [], []
    for index, plan in plans.items():
        key = plan.entry["idempotency_key"]
        earlier = first.setdefault(key, index)
        if plans[earlier].entry["fingerprint"] == plan.entry["fingerprint"]:
            sent.append(index)
        else:
            twins.append((index, earlier))
    return sent, twins


def _post_numbered(session: Session, index: int, plan: Plan) -> Result:
    try:
        return _result(_execute_with_core(session, plan))
    except errors.LedgerError as error:
        error.details["index"] = index
        raise


def _post_many_in_postgres(session: Session, plans: list[Plan]) -> list[Result]:
    from sqlalchemy import text

    first: dict[str, Plan] = {}
    position = {}
    for index, plan in enumerate(plans):
        key = plan.entry["idempotency_key"]
        if key in first and first[key].entry["fingerprint"] != plan.entry["fingerprint"]:
            raise errors.IdempotencyConflict(
                f"idempotency key {key} is used twice in the batch for different entries",
                index=index)
        if key not in first:
            first[key], position[key] = plan, index
    answered: dict[str, Result] = {}
    waiting = list(first.values())
    for _ in range(MAX_BATCH_ATTEMPTS):
        if not waiting:
            break
        outcome = session.execute(text("SELECT ledger_post_many(CAST(:batch AS jsonb))"),
                                  {"batch": json.dumps(_batch_document(waiting))}).scalar_one()
        if outcome["result"] == Verdict.CREATED:
            answered.update((key, Result(entry_id, True))
                            for key, entry_id in outcome["ids"].items())
            waiting = []
        elif outcome["result"] == Verdict.EXISTING:
            for key, entry_id, fingerprint in outcome["found"]:
                if fingerprint != first[key].entry["fingerprint"]:
                    raise errors.IdempotencyConflict(
                        "this idempotency key was used for a different entry", entry_id=entry_id,
                        index=position[key])
                answered[key] = Result(entry_id, False)
            waiting = [plan for plan in waiting if plan.entry["idempotency_key"] not in answered]
        elif outcome["result"] != Verdict.RETRY:
            index = position[waiting[outcome["index"]].entry["idempotency_key"]]
            try:
                _result(outcome)
            except errors.LedgerError as error:
                error.details["index"] = index
                raise
    if waiting:
        raise errors.LedgerError("the batch kept racing concurrent writers; try again")
    results, seen = [], set()
    for plan in plans:
        key = plan.entry["idempotency_key"]
        result = answered[key]
        results.append(Result(result.entry_id, False) if key in seen else result)
        seen.add(key)
    return results


def _batch_document(plans: list[Plan]) -> dict:
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0, None])
    for plan in plans:
        for code, year, kind, credited, debited, credited_at in plan.totals:
            total = totals[code, year, kind]
            total[0] += credited
            total[1] += debited
            total[2] = rules.latest(total[2], credited_at)
    return {
        "codes": sorted({code for plan in plans for code in plan.codes}),
        "entries": [
            {"entry": plan.entry_document(),
             "postings": [[p.account, p.unit, p.amount] for p in plan.postings]}
            for plan in plans
        ],
        "totals": [[*key, credited, debited, rules.timestamp_text(credited_at)]
                   for key, (credited, debited, credited_at) in totals.items()],
    }


def hold(
    session: Session,
    *,
    idempotency_key: str,
    kind: str,
    postings,
    expires_at: datetime,
    reference: str | None = None,
    memo: str | None = None,
    actor: str | None = None,
) -> Result:
    """A pending entry: the points are reserved (counted in ``pending``) until the hold is
    posted, voided or expires."""
    if expires_at is None:
        raise errors.InvalidEntry("a hold needs a deadline")
    plan = _plan(
        idempotency_key, kind, postings, reference, memo, actor,
        status="pending", expires_at=expires_at,
    )
    return _execute(session, plan)


def post_hold(
    session: Session,
    pending_id: int,
    *,
    idempotency_key: str,
    kind: str = "hold_post",
    amount: int | None = None,
    memo: str | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> Result:
    """Settle a hold by posting it, in full or (two-posting holds) for a smaller ``amount``."""
    pending, retry = _pending_entry(session, pending_id, idempotency_key)
    if not retry and _expired(pending, at or now()):
        raise errors.HoldExpired(f"hold {pending_id} expired", entry_id=pending_id)
    held = tuple(_specs(session, pending))
    postings = held
    if amount is not None:
        rules.check_positive(amount)
        full = max(p.amount for p in held)
        if len(held) != 2 or amount > full:
            raise errors.InvalidEntry(f"can post hold {pending_id} for at most {full}")
        postings = tuple(PostingSpec(p.account, amount if p.amount > 0 else -amount, p.unit)
                         for p in held)
    plan = _plan(
        idempotency_key, kind, postings, pending.reference, memo, actor,
        status="posted", pending_id=pending_id, releases=held,
    )
    return _execute(session, plan)


def plan_post_hold(
    pending_id: int,
    held,
    *,
    idempotency_key: str,
    kind: str = "hold_post",
    reference: str | None = None,
    memo: str | None = None,
    actor: str | None = None,
) -> dict:
    """The ``ledger_post`` document that posts hold ``pending_id`` in full, built from what
    the caller already read (the hold's postings as ``Posting(account, amount, unit)`` and its
    ``reference``) without loading anything: for another package's PostgreSQL function that
    settles a hold in the same round trip as its own writes, by calling ``ledger_post`` with
    this document. It is exactly the plan ``post_hold`` sends for a full posting.

    The caller checks the hold is pending and not expired, as ``post_hold`` does; a second
    settlement is still refused by ``ledger_post`` itself (``pending_id`` is unique). Give
    its answer to ``accept_outcome``."""
    held = tuple(held)
    if not held:
        raise errors.InvalidEntry(f"hold {pending_id} has no postings")
    plan = _plan(
        idempotency_key, kind, held, reference, memo, actor,
        status="posted", pending_id=pending_id, releases=held,
    )
    return _post_document(plan)


def accept_outcome(session: Session, document: dict, outcome: dict) -> Result:
    """What ``ledger_post`` answered for a document of ``plan_post_hold``, called from
    another package's function: the ``Result``, or the ``LedgerError`` it stands for. A
    written entry is queued for sealing after commit, as for every other writer."""
    return _answer(session, document["codes"], outcome)


def void_hold(
    session: Session,
    pending_id: int,
    *,
    idempotency_key: str,
    kind: str = "hold_void",
    memo: str | None = None,
    actor: str | None = None,
) -> Result:
    """Release a hold: the reserved points are spendable again; nothing moves."""
    pending, _retry = _pending_entry(session, pending_id, idempotency_key)
    held = tuple(_specs(session, pending))
    plan = _plan(
        idempotency_key, kind, (), pending.reference, memo, actor,
        status="voided", pending_id=pending_id, releases=held,
    )
    return _execute(session, plan)


def expire_holds(
    session: Session, *, at: datetime | None = None, max_holds: int = 500
) -> list[Result]:
    """Void every hold past its deadline (at most ``max_holds`` per call)."""
    moment = rules.as_utc(at or now())
    settled = select(Entry.pending_id).where(Entry.pending_id.is_not(None))
    due = session.scalars(
        select(Entry.id)
        .where(Entry.status == "pending", Entry.expires_at <= moment, Entry.id.not_in(settled))
        .order_by(Entry.id)
        .limit(max_holds)
    ).all()
    expired = []
    for entry_id in due:
        try:
            expired.append(void_hold(session, entry_id, idempotency_key=f"hold-expire:{entry_id}",
                                     kind="hold_expire", memo="expired", actor="system"))
        except errors.HoldNotPending:
            continue  # settled by a merchant's scan since we looked: nothing left to expire
    return expired


def reverse(
    session: Session,
    entry_id: int,
    *,
    idempotency_key: str,
    memo: str | None = None,
    actor: str | None = None,
) -> Result:
    """A correction: a new entry that undoes a posted one. History is never edited."""
    original = session.get(Entry, entry_id)
    if original is None:
        raise errors.UnknownEntry(f"no entry {entry_id}", entry_id=entry_id)
    if original.status != "posted" or original.reverses_id is not None:
        raise errors.NotReversible(f"entry {entry_id} is {original.status}", entry_id=entry_id)
    postings = tuple(PostingSpec(p.account, -p.amount, p.unit) for p in _specs(session, original))
    year = rules.year_of(original.created_at)
    totals = tuple(
        (p.account, year, original.kind, min(p.amount, 0), min(-p.amount, 0), None)
        for p in postings if p.unit in rules.TOTALLED_UNITS
    )
    plan = _plan(
        idempotency_key, "reversal", postings, original.reference, memo, actor,
        status="posted", reverses_id=entry_id, totals=totals,
    )
    return _execute(session, plan)


def hold_state(session: Session, entry_id: int, at: datetime | None = None) -> str:
    """'pending', 'posted', 'voided' or 'expired' (past its deadline, not yet swept)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.status != "pending":
        raise errors.UnknownEntry(f"no hold {entry_id}", entry_id=entry_id)
    settlement = session.scalar(select(Entry).where(Entry.pending_id == entry_id))
    if settlement is not None:
        return "posted" if settlement.status == "posted" else (
            "expired" if settlement.kind == "hold_expire" else "voided"
        )
    return "expired" if _expired(entry, at or now()) else "pending"


def _pending_entry(session: Session, pending_id: int, idempotency_key: str) -> tuple[Entry, bool]:
    """The hold, and whether this key already settled it. A retry of that settlement (a
    merchant's scan after a lost response) goes on to the executor, which answers with the
    first result; any other settlement of a settled hold is refused."""
    pending = session.get(Entry, pending_id)
    if pending is None or pending.status != "pending":
        raise errors.UnknownEntry(f"no hold {pending_id}", entry_id=pending_id)
    settled_by = session.scalar(
        select(Entry.idempotency_key).where(Entry.pending_id == pending_id)
    )
    if settled_by is not None and settled_by != idempotency_key:
        raise errors.HoldNotPending(f"hold {pending_id} is already settled", entry_id=pending_id)
    return pending, settled_by is not None


def _expired(entry: Entry, moment: datetime) -> bool:
    return entry.expires_at is not None and rules.as_utc(entry.expires_at) <= moment


def _specs(session: Session, entry: Entry):
    rows = session.execute(
        select(Account.code, Posting.amount, Posting.unit)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id == entry.id)
        .order_by(Posting.id)
    )
    return [PostingSpec(code, amount, unit) for code, amount, unit in rows]


def _plan(
    idempotency_key: str,
    kind: str,
    postings,
    reference,
    memo,
    actor,
    *,
    status: str,
    expires_at: datetime | None = None,
    pending_id: int | None = None,
    reverses_id: int | None = None,
    releases: tuple[PostingSpec, ...] = (),
    totals=None,
    created_at: datetime | None = None,
) -> Plan:
    if not idempotency_key or len(idempotency_key) > rules.MAX_KEY_LENGTH:
        raise errors.InvalidEntry("an entry needs an idempotency key of at most 200 characters")
    if not kind or len(kind) > 40:
        raise errors.InvalidEntry(f"bad entry kind {kind!r}")
    if memo is not None and len(memo) > rules.MAX_MEMO_LENGTH:
        raise errors.InvalidEntry(f"memo longer than {rules.MAX_MEMO_LENGTH} characters")
    expires_at = rules.as_utc(expires_at)
    merged = rules.merge_postings(postings)
    if status != "voided":
        rules.check_balanced(merged)
    created_at = created_at or now()
    fingerprint = rules.request_fingerprint(
        kind, merged, reference=reference, memo=memo, status=status,
        pending_id=pending_id, reverses_id=reverses_id, expires_at=expires_at,
    )
    entry = dict(
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        kind=kind,
        reference=reference,
        memo=memo,
        created_by=actor,
        created_at=created_at,
        status=status,
        pending_id=pending_id,
        reverses_id=reverses_id,
        expires_at=expires_at,
    )
    entry["hash"] = rules.content_hash(entry, merged)
    if totals is None and status == "posted":
        year = rules.year_of(created_at)
        totals = tuple(
            (p.account, year, kind, max(p.amount, 0), max(-p.amount, 0),
             created_at if p.amount > 0 else None)
            for p in merged if p.unit in rules.TOTALLED_UNITS
        )
    return Plan(entry=entry, postings=merged, posted=status == "posted",
                releases=releases, totals=tuple(totals or ()))


# --- executing a plan ---------------------------------------------------------------------


def _execute(session: Session, plan: Plan) -> Result:
    session.flush()
    if ddl.has_stored_functions(session.get_bind()):
        outcome = _execute_in_postgres(session, plan)
    else:
        outcome = _execute_with_core(session, plan)
    return _answer(session, plan.codes, outcome)


def _answer(session: Session, codes, outcome: dict) -> Result:
    _expire_cached_accounts(session, codes)
    if outcome["result"] == Verdict.CREATED:
        # Tells whoever commits that there is something for ``chain.seal`` to link.
        session.info["ledger_unsealed"] = True
    return _result(outcome)


def _result(outcome: dict) -> Result:
    verdict = outcome["result"]
    if verdict in (Verdict.CREATED, Verdict.EXISTING):
        return Result(outcome["entry_id"], verdict == Verdict.CREATED)
    account = outcome.get("account")
    if verdict == Verdict.CONFLICT:
        raise errors.IdempotencyConflict(
            "this idempotency key was used for a different entry", entry_id=outcome["entry_id"]
        )
    if verdict == Verdict.UNKNOWN_ACCOUNT:
        raise errors.UnknownAccount(f"no account {account}", account=account)
    if verdict == Verdict.ACCOUNT_CLOSED:
        raise errors.AccountClosed(f"account {account} is closed", account=account)
    if verdict == Verdict.UNIT_MISMATCH:
        raise errors.UnitMismatch(f"account {account} counts another unit", account=account)
    if verdict == Verdict.INSUFFICIENT:
        cny = outcome.get("unit") == "CNY"
        raise (errors.InsufficientFunds if cny else errors.InsufficientPoints)(
            f"account {account} has {outcome['available']} available",
            account=account, available=outcome["available"],
        )
    if verdict == Verdict.SETTLED:
        raise errors.HoldNotPending("the hold is already settled", entry_id=outcome["entry_id"])
    if verdict == Verdict.REVERSED:
        raise errors.AlreadyReversed("the entry is already reversed", entry_id=outcome["entry_id"])
    raise AssertionError(f"unknown ledger outcome {outcome!r}")


def _expire_cached_accounts(session: Session, codes) -> None:
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Account) and instance.code in codes:
            session.expire(instance)


def _execute_in_postgres(session: Session, plan: Plan) -> dict:
    row = session.execute(text("SELECT ledger_post(CAST(:plan AS jsonb))"),
                          {"plan": json.dumps(_post_document(plan))}).scalar_one()
    return row


def _post_document(plan: Plan) -> dict:
    """The plan as ``ledger_post`` takes it."""
    return {
        "entry": plan.entry_document(),
        "posted": plan.posted,
        "codes": list(plan.codes),
        "postings": [[p.account, p.unit, p.amount] for p in plan.postings],
        "effects": {code: delta for code, delta in plan.effects().items()},
        "units": {p.account: p.unit for p in plan.postings + plan.releases},
        "totals": [[*total[:5], rules.timestamp_text(total[5])] for total in plan.totals],
    }


def _existing(session: Session, plan: Plan) -> dict | None:
    found = session.execute(
        select(Entry.id, Entry.fingerprint).where(
            Entry.idempotency_key == plan.entry["idempotency_key"]
        )
    ).first()
    if found is None:
        return None
    same = found.fingerprint == plan.entry["fingerprint"]
    return {"result": Verdict.EXISTING if same else Verdict.CONFLICT, "entry_id": found.id}


def _execute_with_core(session: Session, plan: Plan) -> dict:
    if (outcome := _existing(session, plan)) is not None:
        return outcome
    accounts = {
        account.code: account
        for account in session.execute(
            select(Account.id, Account.code, Account.unit, Account.no_overdraft, Account.closed,
                   Account.posted, Account.pending_in, Account.pending_out)
            .where(Account.code.in_(plan.codes))
            .order_by(Account.id)
            .with_for_update(key_share=True)
        )
    }
    if (outcome := _refusal(session, plan, accounts)) is not None:
        return outcome
    entry_id = session.execute(insert(Entry).values(**plan.entry).returning(Entry.id)).scalar_one()
    running = {code: accounts[code].posted for code in plan.codes}
    rows = []
    for posting in plan.postings:
        if plan.posted:
            running[posting.account] += posting.amount
        rows.append(dict(
            entry_id=entry_id, account_id=accounts[posting.account].id, unit=posting.unit,
            amount=posting.amount, created_at=plan.entry["created_at"],
            posted_after=running[posting.account] if plan.posted else None,
        ))
    if rows:
        session.execute(insert(Posting), rows)
    for code, (posted, pending_in, pending_out) in plan.effects().items():
        session.execute(
            update(Account).where(Account.id == accounts[code].id).values(
                posted=Account.posted + posted,
                pending_in=Account.pending_in + pending_in,
                pending_out=Account.pending_out + pending_out,
            )
        )
    _add_totals(session, plan, accounts)
    if plan.entry["reverses_id"] is not None:
        _restore_last_credits(session, plan, accounts)
    session.execute(insert(UnsealedEntry).values(entry_id=entry_id))
    return {"result": Verdict.CREATED, "entry_id": entry_id}


def _refusal(session: Session, plan: Plan, accounts: dict) -> dict | None:
    """Why the plan cannot be written, or None. Runs with the accounts locked."""
    for code in plan.codes:
        if code not in accounts:
            return {"result": Verdict.UNKNOWN_ACCOUNT, "account": code}
    for posting in plan.postings:
        account = accounts[posting.account]
        if account.unit != posting.unit:
            return {"result": Verdict.UNIT_MISMATCH, "account": posting.account}
    # Settling a hold or reversing an entry happens once: look again under the lock.
    for column, value, verdict in (
        (Entry.pending_id, plan.entry["pending_id"], Verdict.SETTLED),
        (Entry.reverses_id, plan.entry["reverses_id"], Verdict.REVERSED),
    ):
        if value is not None and session.scalar(select(Entry.id).where(column == value)):
            return {"result": verdict, "entry_id": value}
    for code, (posted, pending_in, pending_out) in plan.effects().items():
        account = accounts[code]
        if account.closed and (posted or pending_in > 0 or pending_out > 0):
            return {"result": Verdict.ACCOUNT_CLOSED, "account": code}
        if account.no_overdraft and rules.overdraws(
            account.posted, account.pending_out, posted, pending_out
        ):
            return {"result": Verdict.INSUFFICIENT, "account": code, "unit": account.unit,
                    "available": rules.available(account.posted, account.pending_out)}
    return None


def _add_totals(session: Session, plan: Plan, accounts: dict) -> None:
    for code, year, kind, credited, debited, credited_at in plan.totals:
        account_id = accounts[code].id
        key = (AccountTotal.account_id == account_id, AccountTotal.year == year,
               AccountTotal.kind == kind)
        current = session.execute(select(AccountTotal.last_credit_at).where(*key)).first()
        if current is None:
            session.execute(insert(AccountTotal).values(
                account_id=account_id, year=year, kind=kind, credited=credited,
                debited=debited, last_credit_at=credited_at))
            continue
        session.execute(update(AccountTotal).where(*key).values(
            credited=AccountTotal.credited + credited,
            debited=AccountTotal.debited + debited,
            last_credit_at=rules.latest(current.last_credit_at, credited_at),
        ))


def _restore_last_credits(session: Session, plan: Plan, accounts: dict) -> None:
    """A reversal takes back a credit: the year's latest credit is then the latest one still
    standing (what ``ledger_post`` does on PostgreSQL)."""
    for code, year, kind, credited, _debited, _at in plan.totals:
        if credited >= 0:
            continue
        account_id = accounts[code].id
        session.execute(update(AccountTotal).where(
            AccountTotal.account_id == account_id, AccountTotal.year == year,
            AccountTotal.kind == kind,
        ).values(last_credit_at=latest_standing_credit(account_id, year, kind)))


def latest_standing_credit(account_id, year, kind):
    """When ``account_id`` was last credited by an entry of ``kind`` booked in ``year`` that
    no reversal has taken back (a scalar subquery; None when there is none)."""
    start, end = rules.year_bounds(year)
    reversal = aliased(Entry)
    return (
        select(func.max(Posting.created_at))
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Posting.account_id == account_id, Posting.amount > 0,
               Posting.created_at >= start, Posting.created_at < end,
               Entry.kind == kind, Entry.status == "posted", Entry.reverses_id.is_(None),
               ~exists(select(reversal.id).where(reversal.reverses_id == Entry.id)))
        .scalar_subquery()
    )
