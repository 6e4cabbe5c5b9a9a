"""Every periodic job of the product: what it runs, how often by default, and how it says what
it did. Each job is already safe to run twice at once (its own rows are claimed by
conditional UPDATEs or idempotency keys); the claims in ``claims.py`` only keep two workers
from doing the same due run twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

import ledger
from honours import bonuses
from merchants import vouchers
from reports import reports

from . import heads

HOLDS_PER_BATCH = 500


@dataclass(frozen=True)
class Job:
    name: str
    default_seconds: int
    run: Callable[[Session], int]  # does its work, commits, answers how many things it did
    done: str  # what it did, with {count}

    def describe(self, count: int) -> str:
        return self.done.format(count=count)


def escalate_reports(session: Session) -> int:
    """Overdue open reports one area level up (a bounded batch; the next run takes the rest)."""
    escalated = reports.escalate_overdue(session)
    session.commit()
    return len(escalated)


def expire_vouchers(session: Session) -> int:
    """Vouchers past their validity expired, their holds voided and stock returned."""
    total = 0
    while True:
        count = vouchers.expire_vouchers(session, max_vouchers=vouchers.MAX_EXPIRED_PER_RUN)
        session.commit()
        total += count
        if count < vouchers.MAX_EXPIRED_PER_RUN:
            return total


def expire_holds(session: Session) -> int:
    """Any other hold past its deadline voided, so its points are spendable again."""
    total = 0
    while True:
        count = len(ledger.expire_holds(session, max_holds=HOLDS_PER_BATCH))
        session.commit()
        total += count
        if count < HOLDS_PER_BATCH:
            return total


def credit_bonuses(session: Session) -> int:
    """Year-end bonuses of published rankings credited and their volunteers told, batch by
    batch, each batch committed (``honours.bonuses``): resumable, and a replayed batch
    credits nobody twice."""
    return bonuses.credit_all(session)


def seal(session: Session) -> int:
    """Entries still queued linked into the hash chain and the Merkle tree (last but one, so
    it seals what the others wrote in the same round); when it sealed any, a signed head of
    the new tree is kept in the database."""
    sealed = ledger.seal_all(session)
    if sealed:
        heads.record_after_seal(session)
    return sealed


def publish_head(session: Session) -> int:
    """The ledger's signed head, written to the publishing directory and copied out."""
    return heads.publish(session)["tree_size"]


JOBS: tuple[Job, ...] = (
    Job("escalate_reports", 300, escalate_reports, "escalated {count} reports"),
    Job("expire_vouchers", 600, expire_vouchers, "expired {count} vouchers"),
    Job("expire_holds", 600, expire_holds, "expired {count} holds"),
    Job("credit_bonuses", 60, credit_bonuses, "credited {count} bonuses"),
    Job("seal", 60, seal, "sealed {count} entries"),
    Job("publish_head", 24 * 3600, publish_head, "published the head of {count} entries"),
)
