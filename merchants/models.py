"""The merchant alliance (金豆联盟): merchants, their staff, offers, vouchers, redemptions and
the settlements that pay merchants for the points they accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime
from volunteers.models import Area, Programme, User

OFFER_KINDS = ("discount", "goods", "service", "transport", "green_channel")
VOUCHER_STATUSES = ("issued", "redeemed", "cancelled", "expired")
SETTLEMENT_STATUSES = ("posted", "paid")


class Merchant(Base):
    """A shop, service or public counter that accepts points in one programme."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(32))
    star: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The counter QR (counter.py): "HH:MM-HH:MM" in China time, None when always open; a
    # payment outside them is flagged to the area's admins. An open amount is a payment of
    # points the volunteer types (within the programme's limits) rather than an offer.
    opening_hours: Mapped[str | None] = mapped_column(String(11))
    accepts_open_amount: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default="0")

    programme: Mapped[Programme] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    # Loaded when asked for: a scan at the till must not pull every colleague and their roles.
    staff: Mapped[list[MerchantStaff]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan")

    @property
    def accepted_account(self) -> str:
        return f"merchant:{self.id}:accepted"

    @property
    def cash_account(self) -> str:
        return f"merchant:{self.id}:cash"


class MerchantStaff(Base):
    """A user who works a merchant's till (they also hold the merchant role on its area)."""

    __tablename__ = "merchant_staff"
    __table_args__ = (UniqueConstraint("merchant_id", "user_id", name="uq_merchant_staff_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The owner adds and removes the merchant's till staff (an administrator names owners).
    owner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    merchant: Mapped[Merchant] = relationship(back_populates="staff")
    user: Mapped[User] = relationship(lazy="joined")


class Offer(Base):
    """What a merchant gives for points: a price, a stock, a per-person limit, a window."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("price_points > 0", name="price_positive"),
        CheckConstraint("stock_total >= 0", name="stock_total_non_negative"),
        CheckConstraint("stock_left >= 0 AND stock_left <= stock_total", name="stock_left_range"),
        CheckConstraint("per_person_limit > 0", name="limit_positive"),
        CheckConstraint(
            "kind IN ('discount', 'goods', 'service', 'transport', 'green_channel')",
            name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    price_points: Mapped[int] = mapped_column(Integer)
    stock_total: Mapped[int] = mapped_column(Integer)
    stock_left: Mapped[int] = mapped_column(Integer)
    per_person_limit: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    voucher_valid_days: Mapped[int | None] = mapped_column(Integer)
    # False once withdrawn: no new vouchers; those already issued stay valid.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Who last edited or withdrew it, by user name (as settlements record their runner).
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))

    merchant: Mapped[Merchant] = relationship(lazy="joined")

    @property
    def vouchers_issued(self) -> int:
        """Vouchers that count against the stock: issued or redeemed (a cancelled or expired
        voucher gives its unit back)."""
        return self.stock_total - self.stock_left


class Voucher(Base):
    """A taken offer: a hold of the price on the volunteer's wallet until it is redeemed,
    cancelled or expires. ``short_code`` is what a person types when a camera fails."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("price_points > 0", name="price_positive"),
        CheckConstraint("status IN ('issued', 'redeemed', 'cancelled', 'expired')",
                        name="status"),
        Index("ix_vouchers_offer_id_volunteer_id", "offer_id", "volunteer_id"),
        Index("ix_vouchers_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price_points: Mapped[int] = mapped_column(Integer)
    short_code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    hold_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    offer: Mapped[Offer] = relationship(lazy="joined")
    merchant: Mapped[Merchant] = relationship(lazy="joined")
    volunteer: Mapped[User] = relationship()


class Redemption(Base):
    """The one redemption of a voucher (unique per voucher: a second till's scan cannot add
    another). ``idempotency_key`` lets a till's retry hear the first answer.

    A payment at the counter QR writes one too (``counter.py``), so statements and settlement
    count it like a voucher: with its voucher when it paid for an offer, without one (and
    without a till user: the volunteer paid) when it paid an open amount."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("price_points > 0", name="price_positive"),
        Index("ix_redemptions_merchant_id_redeemed_at", "merchant_id", "redeemed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    price_points: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    redeemed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), index=True)

    voucher: Mapped[Voucher | None] = relationship(lazy="joined")


class SettlementRate(Base):
    """What a programme pays for one accepted point, in fen: for one merchant, or for every
    merchant of the programme when ``merchant_id`` is empty."""

    __tablename__ = "settlement_rates"
    __table_args__ = (
        CheckConstraint("fen_per_point > 0", name="fen_per_point_positive"),
        UniqueConstraint("programme_id", "merchant_id", name="uq_settlement_rates_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    fen_per_point: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Settlement(Base):
    """Money a programme owes a merchant for the points accepted up to the end of a month:
    posted ``programme:P:fund -> merchant:M:cash`` when run, marked paid by an admin."""

    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('posted', 'paid')", name="status"),
        UniqueConstraint("merchant_id", "period", name="uq_settlements_merchant_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    period: Mapped[str] = mapped_column(String(7))
    redemptions: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    fen_per_point: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    paid_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment_reference: Mapped[str | None] = mapped_column(String(200))

    merchant: Mapped[Merchant] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")


class Counter(Base):
    """A counter QR of a merchant: its main one (``label`` empty) or one per till. The QR
    carries a code signed over the id and ``generation``; issuing a new code bumps the
    generation, so a poster that was abused stops working at once."""

    __tablename__ = "counters"
    __table_args__ = (CheckConstraint("generation > 0", name="generation_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(60))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reissued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reissued_by: Mapped[str | None] = mapped_column(String(64))

    merchant: Mapped[Merchant] = relationship(lazy="joined")


class CounterCharge(Base):
    """An amount a cashier entered on the till: its QR pays it once, within two minutes."""

    __tablename__ = "counter_charges"
    __table_args__ = (CheckConstraint("amount_points > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    amount_points: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CounterPayment(Base):
    """A volunteer's payment at a counter QR: for an offer (through a voucher taken and
    redeemed at once) or an open amount. ``redemption_id`` is what settlement counts."""

    __tablename__ = "counter_payments"
    __table_args__ = (
        CheckConstraint("amount_points > 0", name="amount_positive"),
        Index("ix_counter_payments_merchant_id_id", "merchant_id", "id"),
        Index("ix_counter_payments_merchant_day_volunteer", "merchant_id", "day",
              "volunteer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("counter_charges.id"), unique=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    amount_points: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    confirmation_code: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What the request asked, so a retry with the same key and another request is a conflict.
    request_digest: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # China date, YYYY-MM-DD
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    flags: Mapped[str | None] = mapped_column(String(120))

    merchant: Mapped[Merchant] = relationship(lazy="joined")


class CounterDay(Base):
    """A merchant's counter payments of one China day: the row every payment locks and
    counts on, so the daily limits hold under concurrent payments."""

    __tablename__ = "counter_days"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    payments: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)


class CounterLimits(Base):
    """A programme's limits on counter payments (defaults in ``counter.DEFAULT_LIMITS``)."""

    __tablename__ = "counter_limits"
    __table_args__ = (
        CheckConstraint("open_amount_max_points > 0", name="open_amount_positive"),
        CheckConstraint("volunteer_daily_payments > 0 AND volunteer_daily_points > 0 "
                        "AND merchant_daily_payments > 0 AND merchant_daily_points > 0",
                        name="daily_positive"),
        CheckConstraint("unusual_factor > 1", name="unusual_factor_above_one"),
    )

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    open_amount_max_points: Mapped[int] = mapped_column(Integer)
    volunteer_daily_payments: Mapped[int] = mapped_column(Integer)
    volunteer_daily_points: Mapped[int] = mapped_column(Integer)
    merchant_daily_payments: Mapped[int] = mapped_column(Integer)
    merchant_daily_points: Mapped[int] = mapped_column(Integer)
    unusual_factor: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
