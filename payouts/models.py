"""Tables of payout runs: payees' payment details (versions, encrypted), owed items, runs and
their lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime
from volunteers.models import Programme, User

CHANNELS = ("alipay", "wechat", "bank")
PAYEE_TYPES = ("volunteer", "merchant")
ITEM_KINDS = ("cash_out", "bonus", "settlement")
ITEM_STATUSES = ("owed", "in_run", "paid")
RUN_STATUSES = ("prepared", "approved", "closed")
LINE_STATUSES = ("pending", "paid", "failed")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PaymentDetails(Base):
    """Where a payee is paid: one row per version; the current one has no ``replaced_at``.
    The name and account are sealed together (``payouts.crypto``); only masked forms are
    stored in clear. Every change is a new row with who made it: the log."""

    __tablename__ = "payment_details"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("owner_type", PAYEE_TYPES), name="owner_type"),
        Index("ix_payment_details_owner", "owner_type", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    sealed: Mapped[str] = mapped_column(Text)
    masked_name: Mapped[str] = mapped_column(String(60))
    masked_account: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    created_by: Mapped[User] = relationship()


class PayoutItem(Base):
    """One sum owed to a payee: a pending cash-out, a credited year-end bonus or a posted
    merchant settlement (``source`` names it, once). Owed until a run pays it."""

    __tablename__ = "payout_items"
    __table_args__ = (
        UniqueConstraint("source", name="uq_payout_items_source"),
        CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payout_items_programme_status", "programme_id", "status"),
        Index("ix_payout_items_payee", "payee_type", "payee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    payee_type: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(120))
    owed_since: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(8))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payout_runs.id"))
    paid_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    paid_reference: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_failure: Mapped[str | None] = mapped_column(String(200))

    programme: Mapped[Programme] = relationship(lazy="joined")


class PayoutRun(Base):
    """A batch of owed items paid together: prepared by one administrator, approved by a
    second, exported per channel, closed when every line has its result."""

    __tablename__ = "payout_runs"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    kinds: Mapped[list] = mapped_column(JSON)
    up_to: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10))
    line_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    programme: Mapped[Programme] = relationship(lazy="joined")
    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    lines: Mapped[list[PayoutRunLine]] = relationship(
        back_populates="run", order_by="PayoutRunLine.id")


class PayoutRunLine(Base):
    """One item in one run, with the payment details it is paid to (the version current at
    preparation) and its result: pending, paid (with the channel's reference) or failed
    (with the reason; the item is owed again)."""

    __tablename__ = "payout_run_lines"
    __table_args__ = (
        UniqueConstraint("run_id", "item_id", name="uq_payout_run_lines_run_item"),
        CheckConstraint(_in("status", LINE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payout_runs.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("payout_items.id"), index=True)
    details_id: Mapped[int] = mapped_column(ForeignKey("payment_details.id"))
    channel: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(200))
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    run: Mapped[PayoutRun] = relationship(back_populates="lines")
    item: Mapped[PayoutItem] = relationship(lazy="joined")
    details: Mapped[PaymentDetails] = relationship(lazy="joined")
