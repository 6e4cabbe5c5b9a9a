"""The ledger's tables. History (entries, postings, chain links, the Merkle tree's nodes and
the signed heads) is insert-only: the database refuses UPDATE and DELETE on it, and on
PostgreSQL TRUNCATE too (see ``ledger/ddl.py`` and ``ledger/sql/``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UtcDateTime

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Account(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("unit IN ('POINT', 'CNY')", name="unit"),
        CheckConstraint(
            "kind IN ('asset', 'liability', 'equity', 'income', 'expense')", name="kind"
        ),
        CheckConstraint("pending_in >= 0 AND pending_out >= 0", name="pending_non_negative"),
        # The last line of defence: whatever the code does, the database keeps the rule.
        CheckConstraint("NOT no_overdraft OR posted - pending_out >= 0", name="no_overdraft"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    unit: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    owner_type: Mapped[str | None] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    no_overdraft: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    posted: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_in: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_out: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def pending(self) -> int:
        return self.pending_in - self.pending_out

    @property
    def available(self) -> int:
        return self.posted - self.pending_out

    def __repr__(self) -> str:
        return f"<Account {self.code} {self.posted} {self.unit}>"


class Entry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("status IN ('posted', 'pending', 'voided')", name="status"),
        Index("ix_ledger_entries_kind_created_at", "kind", "created_at"),
        Index("ix_ledger_entries_created_at", "created_at"),
        Index("ix_ledger_entries_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Hash of what a retry must repeat (``rules.request_fingerprint``).
    fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(120))
    memo: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10))
    # A posting or voiding entry names the hold it settles; unique, so a hold settles once.
    pending_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("ledger_entries.id"), unique=True
    )
    reverses_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("ledger_entries.id"), unique=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the entry's content and postings (``rules.content_hash``).
    hash: Mapped[str] = mapped_column(String(64))

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Entry {self.id} {self.kind} {self.status}>"


class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        CheckConstraint("unit IN ('POINT', 'CNY')", name="unit"),
        Index("ix_ledger_postings_account_id_id", "account_id", "id"),
        Index("ix_ledger_postings_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("ledger_accounts.id"))
    unit: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    # The account's posted balance just after this posting (NULL for a hold's postings):
    # statements and point-in-time balances read it instead of summing the journal.
    posted_after: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    entry: Mapped[Entry] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship(lazy="joined")


class AccountTotal(Base):
    """What a points account received and gave per booking year and entry kind, kept with
    each posting, so that year-end rankings read one row per volunteer instead of the journal
    (money accounts keep none: ``rules.TOTALLED_UNITS``).
    A reversal counts against the kind and year of the entry it reverses, and moves
    ``last_credit_at`` back to the latest credit it leaves standing."""

    __tablename__ = "ledger_account_totals"

    account_id: Mapped[int] = mapped_column(
        Id, ForeignKey("ledger_accounts.id"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    credited: Mapped[int] = mapped_column(BigInteger, default=0)
    debited: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the latest credit of this kind and year that is not reversed was posted: the
    # moment the year's ``credited`` reached its value (rankings break ties on it).
    last_credit_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnsealedEntry(Base):
    """Entries committed but not yet linked into the hash chain (a work queue, not history)."""

    __tablename__ = "ledger_unsealed"

    entry_id: Mapped[int] = mapped_column(
        Id, ForeignKey("ledger_entries.id"), primary_key=True, autoincrement=False
    )


class ChainLink(Base):
    __tablename__ = "ledger_chain"

    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("ledger_entries.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChainHead(Base):
    """One row: the newest link. Sealers lock it, so links are made in one order."""

    __tablename__ = "ledger_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class TreeNode(Base):
    """A complete subtree of the RFC 6962 Merkle tree over the sealed entries
    (``ledger.merkle``): the root of leaves ``[idx * 2**level, (idx + 1) * 2**level)``. Made
    once, by the seal that appends its last leaf; never changed."""

    __tablename__ = "ledger_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class SignedHead(Base):
    """A head the ledger signed (``ledger.heads``): kept so that ``verify`` can tell where a
    rewritten log first departs from what was signed. The signature is what makes it
    trustworthy, not the table: a row nobody could sign is simply ignored."""

    __tablename__ = "ledger_signed_heads"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))
    # The accounts' fixed fields it commits to (None in heads signed before they were).
    accounts_through: Mapped[int | None] = mapped_column(BigInteger)
    accounts_digest: Mapped[str | None] = mapped_column(String(64))
