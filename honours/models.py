"""Tables of the year-end honours: a programme's ranking configuration, published ranking
snapshots (immutable: configuration, ledger position and every row), special honours and
published stars (teams, volunteers; merchants and projects by the same record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime
from volunteers.models import Award, Programme, User

BigId = BigInteger().with_variant(Integer(), "sqlite")


class RankingConfig(Base):
    """How a programme ranks its year: tiers (name, share of the eligible or a points
    threshold, bonus in fen), the minimum points to be eligible, the entry kinds that count
    as earning, and whether staff are excluded. One per programme; snapshots copy it."""

    __tablename__ = "ranking_configs"
    __table_args__ = (
        CheckConstraint("mode IN ('proportion', 'threshold')", name="mode"),
        CheckConstraint("min_points >= 0", name="min_points_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), unique=True)
    mode: Mapped[str] = mapped_column(String(16))
    tiers: Mapped[list] = mapped_column(JSON)
    min_points: Mapped[int] = mapped_column(BigInteger)
    counting_kinds: Mapped[list] = mapped_column(JSON)
    exclude_staff: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    programme: Mapped[Programme] = relationship(lazy="joined")


class RankingSnapshot(Base):
    """A published ranking. Never changed after publishing; one per programme and year."""

    __tablename__ = "ranking_snapshots"
    __table_args__ = (
        UniqueConstraint("programme_id", "year", name="uq_ranking_snapshots_programme_year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    year: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict] = mapped_column(JSON)
    # The ledger position the ranking read: its last entry and the newest sealed chain link.
    ledger_entry_id: Mapped[int] = mapped_column(BigInteger)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[str] = mapped_column(String(64))
    eligible_count: Mapped[int] = mapped_column(Integer)
    ranked_count: Mapped[int] = mapped_column(Integer)
    bonus_total_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_entry_count: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    programme: Mapped[Programme] = relationship(lazy="joined")
    published_by: Mapped[User] = relationship()


class RankingRow(Base):
    """One eligible volunteer in a snapshot: position (1 = first), competition rank (equal
    points share one), points earned, when the total was reached, tier (None: no tier).

    No foreign keys and no index of their own on the volunteer: the rows are written once,
    by one INSERT ... SELECT over ``users`` in the transaction that creates their snapshot,
    and never change; a foreign key is checked row by row, which for a million rows cost
    more than ranking them (docs/honours.md). A volunteer's rows are found through the
    snapshots (few) and the unique (snapshot, volunteer) key."""

    __tablename__ = "ranking_rows"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "volunteer_id", name="uq_ranking_rows_snapshot_volunteer"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("bonus_fen >= 0", name="bonus_non_negative"),
    )

    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rank: Mapped[int] = mapped_column(Integer)
    volunteer_id: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    reached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tier: Mapped[str | None] = mapped_column(String(20))
    bonus_fen: Mapped[int] = mapped_column(BigInteger)

    volunteer: Mapped[User] = relationship(
        primaryjoin="foreign(RankingRow.volunteer_id) == User.id", lazy="joined")


class BonusCrediting(Base):
    """How far the year-end bonuses of one snapshot have been credited. Publishing reserves
    the whole bonus total from the fund into ``programme:P:bonuses:YEAR`` (entry
    ``reserve_entry_id``); the worker then credits the rows in position order, in batches,
    each batch one transaction that pays its rows, tells them and moves ``credited_through``
    (the last position done). A row is paid when its position is at most that."""

    __tablename__ = "ranking_bonus_crediting"
    __table_args__ = (
        CheckConstraint("credited_fen >= 0 AND credited_fen <= reserved_fen",
                        name="credited_within_reserved"),
    )

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("ranking_snapshots.id"),
                                             primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(120))
    reserved_fen: Mapped[int] = mapped_column(BigInteger)
    reserve_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    # The last position with a tier: crediting is done when credited_through reaches it.
    last_position: Mapped[int] = mapped_column(Integer)
    credited_through: Mapped[int] = mapped_column(Integer, default=0)
    credited_count: Mapped[int] = mapped_column(Integer, default=0)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SpecialHonour(Base):
    """A named honour for one deed (见义勇为, 救灾志愿 ...), given by an administrator with a
    reason; its points, if any, go through a manual award (maker-checker above the
    programme's threshold)."""

    __tablename__ = "special_honours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(500))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    programme: Mapped[Programme] = relationship(lazy="joined")
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    award: Mapped[Award | None] = relationship(lazy="joined")


class Star(Base):
    """A published "star" of the year: a team, a volunteer, and later a merchant or a project,
    chosen by a named criterion. Keyed by subject type so any kind of subject fits."""

    __tablename__ = "honour_stars"
    __table_args__ = (
        UniqueConstraint("programme_id", "year", "subject_type", "subject_id",
                         name="uq_honour_stars_subject"),
        CheckConstraint("subject_type IN ('team', 'volunteer', 'merchant', 'project')",
                        name="subject_type"),
        Index("ix_honour_stars_programme_year", "programme_id", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    year: Mapped[int] = mapped_column(Integer)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    subject_name: Mapped[str] = mapped_column(String(120))
    criterion: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
