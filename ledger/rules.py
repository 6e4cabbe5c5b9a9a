"""Pure rules of the ledger: plain data in, answers out, no database.

Sign convention (after Formance): an amount is what the account receives. A positive amount
adds to the account's balance, a negative one takes from it, and every entry sums to zero per
unit, so points are only ever moved, never made: ``world:points`` is where they come from and
the only account that may run negative.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from .clock import CHINA
from .errors import InvalidEntry

UNITS = ("POINT", "CNY")
# The units whose accounts keep per-year totals (what rankings and leaderboards read): points.
# Money accounts (funds, cash owed) have no such reader, and year-end bonuses credit hundreds
# of thousands of them at once.
TOTALLED_UNITS = ("POINT",)
ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "expense")
ENTRY_STATUSES = ("posted", "pending", "voided")

MAX_POSTINGS_PER_ENTRY = 64
# One posting moves at most a trillion points or fen: far beyond any programme, far below
# the 2**63 of a BIGINT, so sums over millions of postings cannot overflow.
MAX_AMOUNT = 10**12
MAX_CODE_LENGTH = 120
MAX_KEY_LENGTH = 200
MAX_MEMO_LENGTH = 500
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int
    unit: str


def check_amount(amount) -> int:
    """An amount is a non-zero integer within MAX_AMOUNT; booleans and floats are refused."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidEntry(f"amount must be an integer, got {amount!r}")
    if amount == 0:
        raise InvalidEntry("a posting of zero is refused")
    if abs(amount) > MAX_AMOUNT:
        raise InvalidEntry(f"amount {amount} exceeds the limit of {MAX_AMOUNT}")
    return amount


def check_positive(amount) -> int:
    check_amount(amount)
    if amount < 0:
        raise InvalidEntry(f"amount must be positive, got {amount}")
    return amount


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise InvalidEntry(f"unknown unit {unit!r}")
    return unit


def check_balanced(postings: list[Posting] | tuple[Posting, ...]) -> None:
    """Two or more postings, each a valid amount, summing to zero in every unit."""
    if len(postings) < 2:
        raise InvalidEntry("an entry needs at least two postings")
    if len(postings) > MAX_POSTINGS_PER_ENTRY:
        raise InvalidEntry(f"an entry takes at most {MAX_POSTINGS_PER_ENTRY} postings")
    sums: dict[str, int] = defaultdict(int)
    for posting in postings:
        check_amount(posting.amount)
        check_unit(posting.unit)
        if not posting.account or len(posting.account) > MAX_CODE_LENGTH:
            raise InvalidEntry(f"bad account code {posting.account!r}")
        sums[posting.unit] += posting.amount
    unbalanced = {unit: total for unit, total in sums.items() if total != 0}
    if unbalanced:
        raise InvalidEntry(f"entry does not balance: {unbalanced}")


def merge_postings(postings) -> tuple[Posting, ...]:
    """One posting per account and unit, in account order; accounts netting to zero drop out."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for posting in postings:
        totals[(posting.account, posting.unit)] += posting.amount
    return tuple(
        Posting(account, amount, unit)
        for (account, unit), amount in sorted(totals.items())
        if amount != 0
    )


def available(posted: int, pending_out: int) -> int:
    """What an account may still spend: its posted balance less what holds reserve."""
    return posted - pending_out


def overdraws(posted: int, pending_out: int, posted_delta: int, pending_out_delta: int) -> bool:
    """Whether a change would take a no-overdraft account's available balance below zero."""
    if posted_delta >= 0 and pending_out_delta <= 0:
        return False
    return posted + posted_delta - (pending_out + pending_out_delta) < 0


def timestamp_text(moment: datetime | None) -> str | None:
    """UTC, microseconds, 'Z': one text for a moment whatever the database gave back."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    if m.year < 1000:  # strftime's %Y does not pad: keep its text exactly
        return m.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), three times as fast (verify
    # formats every entry's moment).
    return (f"{m.year}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{m.microsecond:06d}Z")


def as_utc(moment: datetime | None) -> datetime | None:
    """The same instant in UTC (a naive moment is read as UTC). SQLite stores a timestamp's
    digits and drops its zone, so a moment is converted before it is stored or compared."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _digest(document) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_fingerprint(
    kind: str,
    postings,
    *,
    reference: str | None = None,
    memo: str | None = None,
    status: str = "posted",
    pending_id: int | None = None,
    reverses_id: int | None = None,
    expires_at: datetime | None = None,
) -> str:
    """What an idempotent retry must repeat: the same movement, not the same clock."""
    return _digest(
        {
            "kind": kind,
            "reference": reference,
            "memo": memo,
            "status": status,
            "pending_id": pending_id,
            "reverses_id": reverses_id,
            "expires_at": timestamp_text(expires_at),
            "postings": sorted([p.account, p.unit, p.amount] for p in postings),
        }
    )


def content_hash(entry: dict, postings) -> str:
    """The hash of everything an entry records, postings included, as stored."""
    return _digest(content_document(entry, postings))


def content_document(entry: dict, postings) -> dict:
    """What ``content_hash`` hashes: SHA-256 of its JSON with sorted keys, no spaces, UTF-8
    (``scripts/verify-statement`` recomputes it from a statement's proof)."""
    document = {name: entry.get(name) for name in CONTENT_FIELDS}
    document["created_at"] = timestamp_text(entry.get("created_at"))
    document["expires_at"] = timestamp_text(entry.get("expires_at"))
    document["postings"] = sorted([p.account, p.unit, p.amount] for p in postings)
    return document


CONTENT_FIELDS = (
    "idempotency_key",
    "fingerprint",
    "kind",
    "reference",
    "memo",
    "created_by",
    "created_at",
    "status",
    "pending_id",
    "reverses_id",
    "expires_at",
)


def chain_link(prev_hash: str, entry_id: int, entry_hash: str) -> str:
    """One link of the tamper-evident chain: it covers the entry and everything before it."""
    return hashlib.sha256(f"{prev_hash}:{entry_id}:{entry_hash}".encode("ascii")).hexdigest()


# Programmes count their year in China Standard Time (``clock.CHINA``, UTC+8): a reward
# earned at 07:00 on 1 January in Chengdu belongs to the new year, not to the old one.
def year_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).year


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The booking year in China time, as UTC moments [start, end)."""
    start = datetime(year, 1, 1, tzinfo=CHINA).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA).astimezone(UTC)
    return start, end


def latest(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two moments, either of which may be missing."""
    if first is None or second is None:
        return as_utc(first or second)
    return max(as_utc(first), as_utc(second))
