"""Money and points leaving a wallet or entering a programme: donation causes and donations
(转赠), cash-out requests and their per-programme limits (丰行侠), and card funding through
Stripe Checkout with the webhook events already processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime
from volunteers.models import Area, Programme, User

CAUSE_KINDS = ("family_in_need", "student_aid", "micro_wish")
CAUSE_STATUSES = ("open", "completed", "closed")
# How a cause's pool reaches its beneficiary: points into their wallet, vouchers of a named
# merchant offer bought for them (the goods are collected at the merchant), or CNY through a
# payout run (not built yet: refused when a cause is published).
CAUSE_DELIVERIES = ("points", "voucher", "cash")
CASH_OUT_STATUSES = ("pending", "paid")
FUNDING_SESSION_STATUSES = ("open", "paid")


class DonationCause(Base):
    """Something people may donate points to, published by staff of its area: a family in
    need (困难家庭), a student (助学), or a resident's micro-wish (微心愿, named by
    ``wish_reference`` such as "wish:12" so this table does not depend on activities).
    ``raised_points`` moves in the same transaction as each donation's ledger entry."""

    __tablename__ = "donation_causes"
    __table_args__ = (
        CheckConstraint("target_points > 0", name="target_positive"),
        CheckConstraint("raised_points >= 0", name="raised_not_negative"),
        CheckConstraint("raised_points <= target_points", name="raised_within_target"),
        CheckConstraint("kind IN ('family_in_need', 'student_aid', 'micro_wish')", name="kind"),
        CheckConstraint("status IN ('open', 'completed', 'closed')", name="status"),
        CheckConstraint("released_points + returned_points <= raised_points",
                        name="pool_accounted"),
        CheckConstraint("delivery IN ('points', 'voucher', 'cash')", name="delivery"),
        CheckConstraint("delivery != 'voucher' OR offer_id IS NOT NULL", name="voucher_offer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    story: Mapped[str] = mapped_column(Text)
    target_points: Mapped[int] = mapped_column(Integer)
    raised_points: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12))
    wish_reference: Mapped[str | None] = mapped_column(String(60))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who the cause is for: a resident with an account (the points go to their wallet), or a
    # person or organisation named only. Released points moved to the beneficiary; returned
    # points went back to the programme's budget when the cause closed.
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    beneficiary_name: Mapped[str | None] = mapped_column(String(120))
    released_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How the pool is delivered (CAUSE_DELIVERIES); for "voucher", the merchant offer whose
    # vouchers a release buys (the offer's id: this package does not depend on merchants).
    delivery: Mapped[str] = mapped_column(String(8), default="points", server_default="points")
    offer_id: Mapped[int | None] = mapped_column(Integer)

    programme: Mapped[Programme] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    beneficiary: Mapped[User | None] = relationship(foreign_keys=[beneficiary_id])
    delivery_photos: Mapped[list[CauseDeliveryPhoto]] = relationship(
        order_by="CauseDeliveryPhoto.id", viewonly=True)

    @property
    def pool_points(self) -> int:
        """Raised and neither released nor returned: what is still in the pool."""
        return self.raised_points - self.released_points - self.returned_points

    @property
    def remaining_points(self) -> int:
        return self.target_points - self.raised_points

    @property
    def progress_percent(self) -> int:
        return self.raised_points * 100 // self.target_points


class Donation(Base):
    """Points a volunteer gave: ``volunteer:V:wallet -> programme:P:donations``, earmarked to
    a cause or to the programme's pool. The request's idempotency key and a fingerprint of
    what it asked let a retry return this row and another body be refused."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_points > 0", name="amount_positive"),
        UniqueConstraint("idempotency_key", name="uq_donations_idempotency_key"),
        UniqueConstraint("entry_id", name="uq_donations_entry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    cause_id: Mapped[int | None] = mapped_column(ForeignKey("donation_causes.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_points: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(200))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    programme: Mapped[Programme] = relationship(lazy="joined")
    cause: Mapped[DonationCause | None] = relationship(lazy="joined")
    donor: Mapped[User] = relationship(lazy="joined")


class CashOutPolicy(Base):
    """A programme's cash-out rules. Without a row cash-out is off: the programme's
    administrators decide to open it and set its limits."""

    __tablename__ = "cash_out_policies"
    __table_args__ = (
        CheckConstraint("minimum_points > 0", name="minimum_positive"),
        CheckConstraint("monthly_maximum_points >= minimum_points", name="maximum_above_minimum"),
    )

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    minimum_points: Mapped[int] = mapped_column(Integer)
    monthly_maximum_points: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    programme: Mapped[Programme] = relationship(lazy="joined")


class CashOutRequest(Base):
    """Points exchanged for equal money (丰行侠): on request one entry moves the points back to
    the budget and the money from the fund to the volunteer's cash account; an administrator
    later pays out of band and records it (``volunteer:V:cash -> programme:P:payouts``)."""

    __tablename__ = "cash_out_requests"
    __table_args__ = (
        CheckConstraint("amount_points > 0", name="amount_positive"),
        CheckConstraint("amount_fen > 0", name="fen_positive"),
        CheckConstraint("status IN ('pending', 'paid')", name="status"),
        UniqueConstraint("idempotency_key", name="uq_cash_out_requests_idempotency_key"),
        UniqueConstraint("entry_id", name="uq_cash_out_requests_entry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_points: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), index=True)
    # Set in the same flush that creates the row: the entry's reference names the request.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payout_reference: Mapped[str | None] = mapped_column(String(120))
    # The key of the request that marked it paid: a retry of that request answers as before.
    paid_request_key: Mapped[str | None] = mapped_column(String(200))

    programme: Mapped[Programme] = relationship(lazy="joined")
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])


class CardFundingSession(Base):
    """A Stripe Checkout Session the app created to fund a programme. The webhook posts the
    funding once, keyed by the session id, and only for the amount stored here."""

    __tablename__ = "card_funding_sessions"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('open', 'paid')", name="status"),
        UniqueConstraint("stripe_session_id", name="uq_card_funding_sessions_stripe_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    stripe_session_id: Mapped[str] = mapped_column(String(255))
    amount_fen: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    sponsor_name: Mapped[str] = mapped_column(String(120))
    # The fund source the payment goes to (None: the programme's general fund).
    fund_source: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8))
    checkout_url: Mapped[str] = mapped_column(String(2000))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))

    programme: Mapped[Programme] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship()


class StripeEvent(Base):
    """Every signed webhook event received, once: a retried event finds its row and is
    answered as before. ``outcome`` says what it did (funded, duplicate_session,
    unknown_session, amount_mismatch, ignored)."""

    __tablename__ = "stripe_events"
    __table_args__ = (UniqueConstraint("event_id", name="uq_stripe_events_event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CauseRelease(Base):
    """An organiser's release of a cause's pool to its beneficiary, confirmed by a second
    person (another organiser or an administrator), who posts
    ``programme:P:donations -> volunteer:B:wallet`` (kind ``donation_release``)."""

    __tablename__ = "cause_releases"
    __table_args__ = (
        CheckConstraint("amount_points > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'confirmed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("donation_causes.id"), index=True)
    amount_points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))

    cause: Mapped[DonationCause] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])


class CauseDeliveryPhoto(Base):
    """The organiser's photo confirming that the goods reached the beneficiary, re-encoded as
    a JPEG without metadata (like report and wish photos) and kept in the database."""

    __tablename__ = "cause_delivery_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("donation_causes.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
