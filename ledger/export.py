"""The whole journal as plain text other tools read: Beancount, Ledger/hledger and CSV.

Only posted entries are exported (holds are reservations, a voiding entry moves nothing), in id
order, read in batches so a journal of millions of entries never sits in memory. The text
formats give every account the same name and the same balance as the app:

- Account names: the root comes from the account's kind (asset -> ``Assets``, liability ->
  ``Liabilities``, equity -> ``Equity``, income -> ``Income``, expense -> ``Expenses``), then one
  component per ``:``-separated part of the code (see ``account_name``). The app's code is kept
  as ``code`` metadata on the account's declaration.
- Amounts: ``POINT`` as integer points; ``CNY`` as yuan with exactly two decimals
  (1234 fen -> ``12.34 CNY``), which Beancount, hledger and ledger all add up exactly.
- Dates: the day in China Standard Time (``clock.CHINA``), the zone in which
  programmes keep their books; the exact UTC moment is kept as ``created_at`` metadata.

    with open("jindou.beancount", "w", encoding="utf-8") as stream:
        write(session, "beancount", stream)
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import heads
from .chain import joins_callers_transaction
from .clock import CHINA
from .models import Account, ChainLink, Entry, Posting
from .rules import as_utc, timestamp_text
from .spreadsheet import safe_row

FORMATS = ("beancount", "ledger", "csv")

MAX_BATCH_ENTRIES = 500
MAX_BATCH_ACCOUNTS = 1000
MAX_CACHED_ACCOUNT_NAMES = 10_000
# 64 bits of SHA-256 tell apart code parts that only differ in characters a name cannot hold.
NAME_DIGEST_HEX_CHARS = 16
FEN_PER_YUAN = 100
# Commodities are declared once, before any account can exist.
COMMODITY_DECLARED_ON = date(1970, 1, 1)

ACCOUNT_ROOTS = {
    "asset": "Assets",
    "liability": "Liabilities",
    "equity": "Equity",
    "income": "Income",
    "expense": "Expenses",
}
COMMODITY_NAMES = {"CNY": "Chinese yuan (the app counts fen)", "POINT": "Jindou points"}
CSV_COLUMNS = ("entry_id", "created_at", "kind", "status", "reference", "memo", "account",
               "unit", "amount", "posted_after", "hash", "chain_seq", "chain_link")
ENTRY_METADATA = ("entry_id", "kind", "reference", "idempotency_key", "created_at",
                  "created_by", "pending_id", "reverses_id", "hash", "chain_seq", "chain_link")
HEAD_LINE = "signed head: "

_PLAIN_PART = re.compile(r"[a-z0-9]+")
_NOT_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class ExportAccount:
    code: str
    kind: str
    unit: str
    opened_on: date
    no_overdraft: bool
    closed: bool


@dataclass(frozen=True)
class ExportPosting:
    code: str
    kind: str
    unit: str
    amount: int
    posted_after: int | None


@dataclass(frozen=True)
class ExportEntry:
    entry_id: int
    kind: str
    status: str
    reference: str | None
    memo: str | None
    idempotency_key: str
    created_at: datetime
    created_by: str | None
    pending_id: int | None
    reverses_id: int | None
    hash: str
    chain_seq: int | None
    chain_link: str | None
    postings: tuple[ExportPosting, ...]

    def metadata(self) -> list[tuple[str, str]]:
        """What the text formats attach to the transaction, every value as text."""
        values = {name: getattr(self, name) for name in ENTRY_METADATA}
        values["created_at"] = timestamp_text(self.created_at)
        return [(name, str(value)) for name, value in values.items() if value is not None]


def write(session: Session, fmt: str, stream: TextIO, signer=None) -> int:
    """Write the whole journal to ``stream`` in ``fmt`` (one of ``FORMATS``); returns the
    number of entries written. Called with no transaction open, it reads one snapshot of the
    journal and leaves that read-only transaction open for the caller to end.

    Each entry carries its chain link (``chain_seq``, ``chain_link``; none while it waits to
    be sealed). Given a ``heads.Signer``, the export ends with one comment line
    ``signed head: {...}``, the signed head of the same snapshot: the Merkle root over the
    sealed entries' ``entry_id:hash`` leaves, in ``chain_seq`` order."""
    writers = {"beancount": _write_beancount, "ledger": _write_ledger, "csv": _write_csv}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    _begin_snapshot(session)
    count = writers[fmt](session, stream)
    if signer is not None:
        head = heads.current_head(session, signer)
        # CSV has no comments: a last line starting with "#" (pandas: comment="#").
        lead = "# " if fmt == "csv" else "\n; "
        stream.write(f"{lead}{HEAD_LINE}"
                     f"{json.dumps(head, sort_keys=True, separators=(',', ':'))}\n")
    return count


# --- names, amounts, dates ----------------------------------------------------------------


@functools.lru_cache(maxsize=MAX_CACHED_ACCOUNT_NAMES)
def account_name(code: str, kind: str) -> str:
    """The account's name in Beancount and Ledger: ``programme:wuhua:budget`` of kind equity
    is ``Equity:Programme:Wuhua:Budget``. The same code always gives the same name, and two
    codes never give one name (see ``_name_component``)."""
    return ":".join([ACCOUNT_ROOTS[kind], *(_name_component(part) for part in code.split(":"))])


def _name_component(part: str) -> str:
    """A plain part (lower-case ASCII letters and digits) is capitalised: ``wuhua`` -> ``Wuhua``.
    Any other part keeps its ASCII letters and digits, joined by hyphens (``X`` if none are
    left), plus a hyphen and a digest of the whole part: ``五华`` -> ``X-<16 hex>``,
    ``Wang Wei`` -> ``Wang-Wei-<16 hex>``. A plain part never contains a hyphen and the digest
    ends every other one, so distinct parts give distinct components."""
    if _PLAIN_PART.fullmatch(part):
        return part[0].upper() + part[1:]
    readable = _NOT_NAME_CHARACTERS.sub("-", part).strip("-") or "X"
    digest = hashlib.sha256(part.encode("utf-8")).hexdigest()[:NAME_DIGEST_HEX_CHARS]
    return f"{readable[0].upper()}{readable[1:]}-{digest}"


def amount_text(amount: int, unit: str) -> str:
    """Exact decimal text of an amount in its unit: points as they are, fen as yuan."""
    if unit == "POINT":
        return str(amount)
    assert unit == "CNY", unit
    sign = "-" if amount < 0 else ""
    yuan, fen = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}{yuan}.{fen:02d}"


def booking_date(moment: datetime) -> date:
    """The day in China Standard Time; naive moments are UTC."""
    return as_utc(moment).astimezone(CHINA).date()


def _one_line(text: str) -> str:
    return _CONTROL_CHARACTERS.sub(" ", text).strip()


# --- reading the journal in batches -------------------------------------------------------


def _begin_snapshot(session: Session) -> None:
    """On PostgreSQL, read every batch from one snapshot (REPEATABLE READ), so an entry
    committed during the export cannot name an account the export has already passed. Only
    possible when the session has no transaction yet; SQLite's transactions are snapshots."""
    if (session.in_transaction() or session.get_bind().dialect.name != "postgresql"
            or joins_callers_transaction(session)):
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _accounts(session: Session):
    """Every account, in id order. An account opens on the day it was created, or on the day
    of its first posting if a clock made that earlier: a transaction before its account's
    opening is an error in Beancount."""
    first_posting_at = (
        select(func.min(Posting.created_at))
        .where(Posting.account_id == Account.id)
        .scalar_subquery()
    )
    last_id = 0
    while True:
        rows = session.execute(
            select(Account.id, Account.code, Account.kind, Account.unit, Account.no_overdraft,
                   Account.closed, Account.created_at, first_posting_at)
            .where(Account.id > last_id)
            .order_by(Account.id)
            .limit(MAX_BATCH_ACCOUNTS)
        ).all()
        for row in rows:
            opened_on = booking_date(row.created_at)
            if row[-1] is not None:
                opened_on = min(opened_on, booking_date(row[-1]))
            yield ExportAccount(row.code, row.kind, row.unit, opened_on, row.no_overdraft,
                                row.closed)
        if len(rows) < MAX_BATCH_ACCOUNTS:
            return
        last_id = rows[-1].id


def _entries(session: Session):
    """Every posted entry with its postings, in id order, ``MAX_BATCH_ENTRIES`` at a time."""
    last_id = 0
    while True:
        rows = session.execute(
            select(Entry.id, Entry.kind, Entry.status, Entry.reference, Entry.memo,
                   Entry.idempotency_key, Entry.created_at, Entry.created_by, Entry.pending_id,
                   Entry.reverses_id, Entry.hash, ChainLink.seq, ChainLink.hash)
            .outerjoin(ChainLink, ChainLink.entry_id == Entry.id)
            .where(Entry.status == "posted", Entry.id > last_id)
            .order_by(Entry.id)
            .limit(MAX_BATCH_ENTRIES)
        ).all()
        if not rows:
            return
        postings: dict[int, list[ExportPosting]] = {row.id: [] for row in rows}
        for posting in session.execute(
            select(Posting.entry_id, Account.code, Account.kind, Posting.unit, Posting.amount,
                   Posting.posted_after)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id.in_(list(postings)))
            .order_by(Posting.entry_id, Posting.id)
        ):
            postings[posting.entry_id].append(ExportPosting(*posting[1:]))
        for row in rows:
            yield ExportEntry(*row, postings=tuple(postings[row.id]))
        if len(rows) < MAX_BATCH_ENTRIES:
            return
        last_id = rows[-1].id


# --- Beancount ----------------------------------------------------------------------------


def _beancount_string(text: str) -> str:
    escaped = _one_line(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _narration(entry: ExportEntry) -> str:
    return f"{entry.kind}: {entry.memo}" if entry.memo else entry.kind


def _write_beancount(session: Session, stream: TextIO) -> int:
    stream.write('option "title" "Jindou ledger"\n')
    stream.write('option "operating_currency" "CNY"\n\n')
    for unit, name in sorted(COMMODITY_NAMES.items()):
        stream.write(f"{COMMODITY_DECLARED_ON.isoformat()} commodity {unit}\n")
        stream.write(f"  name: {_beancount_string(name)}\n")
    stream.write("\n")
    for account in _accounts(session):
        stream.write(f"{account.opened_on.isoformat()} open "
                     f"{account_name(account.code, account.kind)} {account.unit}\n")
        stream.write(f"  code: {_beancount_string(account.code)}\n")
    count = 0
    for entry in _entries(session):
        stream.write(f"\n{booking_date(entry.created_at).isoformat()} * "
                     f"{_beancount_string(_narration(entry))}\n")
        for key, value in entry.metadata():
            stream.write(f"  {key}: {_beancount_string(value)}\n")
        for posting in entry.postings:
            stream.write(f"  {account_name(posting.code, posting.kind)}  "
                         f"{amount_text(posting.amount, posting.unit)} {posting.unit}\n")
        count += 1
    return count


# --- Ledger and hledger -------------------------------------------------------------------


def _ledger_description(entry: ExportEntry) -> str:
    # A semicolon would start a comment in hledger's description.
    return _one_line(_narration(entry)).replace(";", ",")


def _write_ledger(session: Session, stream: TextIO) -> int:
    stream.write("; Jindou ledger: CNY in yuan (the app counts fen), POINT in points\n\n")
    # ledger wants the tags it meets declared when --pedantic; hledger ignores the declarations.
    for tag in ("code", *ENTRY_METADATA):
        stream.write(f"tag {tag}\n")
    # hledger needs a decimal mark in a commodity format, ledger refuses "1000. POINT":
    # so only CNY gets a format and POINT is declared bare.
    stream.write("\ncommodity CNY\n    format 1000.00 CNY\n\ncommodity POINT\n\n")
    for account in _accounts(session):
        stream.write(f"account {account_name(account.code, account.kind)}\n")
        stream.write(f"    ; code: {_one_line(account.code)}\n")
    count = 0
    for entry in _entries(session):
        stream.write(f"\n{booking_date(entry.created_at).isoformat()} * ({entry.entry_id}) "
                     f"{_ledger_description(entry)}\n")
        for key, value in entry.metadata():
            stream.write(f"    ; {key}: {_one_line(value)}\n")
        for posting in entry.postings:
            stream.write(f"    {account_name(posting.code, posting.kind)}  "
                         f"{amount_text(posting.amount, posting.unit)} {posting.unit}\n")
        count += 1
    return count


# --- CSV ----------------------------------------------------------------------------------


def _write_csv(session: Session, stream: TextIO) -> int:
    """One row per posting; amounts are integers in the unit's smallest step (points, fen)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in _entries(session):
        created_at = timestamp_text(entry.created_at)
        for posting in entry.postings:
            writer.writerow(safe_row((
                entry.entry_id, created_at, entry.kind, entry.status, entry.reference or "",
                entry.memo or "", posting.code, posting.unit, posting.amount,
                "" if posting.posted_after is None else posting.posted_after,
                entry.hash, "" if entry.chain_seq is None else entry.chain_seq,
                entry.chain_link or "",
            )))
        count += 1
    return count
