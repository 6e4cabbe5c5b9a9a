"""Activities, sign-ups, attendance and the official service-hours record; micro-wishes;
daily check-ins; per-programme rates; party members' duty status."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
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

PARTY_STATUSES = ("none", "in_service", "resident")
WISH_STATUSES = ("open", "claimed", "fulfilled", "confirmed", "withdrawn")
ATTENDANCE_STATUSES = ("checked_in", "checked_out", "approved")


class ActivityCategory(Base):
    """文明实践, 助老助残, 环境整治 ...: what kind of service an activity is."""

    __tablename__ = "activity_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ProgrammeEarningRule(Base):
    """How a programme pays for service: points per approved hour, and the daily check-in
    reward (每日一豆). One row per programme; missing means the defaults."""

    __tablename__ = "programme_earning_rules"
    __table_args__ = (
        CheckConstraint("points_per_hour >= 0", name="points_per_hour_non_negative"),
        CheckConstraint("daily_checkin_points >= 0", name="daily_points_non_negative"),
    )

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    points_per_hour: Mapped[int] = mapped_column(Integer)
    daily_checkin_points: Mapped[int] = mapped_column(Integer)

    programme: Mapped[Programme] = relationship(lazy="joined")


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("signed_up_count >= 0 AND signed_up_count <= capacity",
                        name="seats_within_capacity"),
        CheckConstraint("max_minutes > 0", name="max_minutes_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('open', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("activity_categories.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    venue: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    checkin_radius_m: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    signed_up_count: Mapped[int] = mapped_column(Integer, default=0)
    max_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    category: Mapped[ActivityCategory] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")
    organiser: Mapped[User] = relationship()

    @property
    def seats_left(self) -> int:
        return self.capacity - self.signed_up_count


class Signup(Base):
    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id", name="uq_activity_signups_activity_user"),
        CheckConstraint("status IN ('signed_up', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    activity: Mapped[Activity] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class Attendance(Base):
    """One volunteer at one activity: the scans, the hours they give, and once approved the
    official service-hours record (民政部令第67号). ``approved_minutes`` changes after approval
    only together with an ``HoursAmendment`` row."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id", name="uq_attendances_activity_user"),
        CheckConstraint("status IN ('checked_in', 'checked_out', 'approved')", name="status"),
        CheckConstraint("approved_minutes IS NULL OR approved_minutes >= 0",
                        name="approved_minutes_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime] = mapped_column(UtcDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checkin_distance_m: Mapped[int | None] = mapped_column(Integer)
    approved_minutes: Mapped[int | None] = mapped_column(Integer)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    points: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))

    activity: Mapped[Activity] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    amendments: Mapped[list[HoursAmendment]] = relationship(
        back_populates="attendance", order_by="HoursAmendment.id")


class HoursAmendment(Base):
    """A recorded change to a volunteer's hours: before, after, why, who, when. Append-only;
    the record is never edited without one."""

    __tablename__ = "hours_amendments"
    __table_args__ = (
        CheckConstraint("new_minutes >= 0", name="new_minutes_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("attendances.id"), index=True)
    previous_minutes: Mapped[int] = mapped_column(Integer)
    new_minutes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    amended_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    attendance: Mapped[Attendance] = relationship(back_populates="amendments")
    amended_by: Mapped[User] = relationship(lazy="joined")


class VolunteerProfile(Base):
    """What the service record needs beyond the account: party membership for the yearly
    duty (在职党员 / 居住地党员)."""

    __tablename__ = "volunteer_profiles"
    __table_args__ = (
        CheckConstraint("party_status IN ('none', 'in_service', 'resident')",
                        name="party_status"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    party_status: Mapped[str] = mapped_column(String(16), default="none")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Wish(Base):
    """A resident's micro-wish (微心愿). The resident's name is stored masked only."""

    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint("reward_points > 0", name="reward_positive"),
        CheckConstraint(
            "status IN ('open', 'claimed', 'fulfilled', 'confirmed', 'withdrawn')",
            name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    resident_name: Mapped[str] = mapped_column(String(40))
    story: Mapped[str] = mapped_column(Text)
    needs: Mapped[str] = mapped_column(String(500))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    reward_points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fulfilment_note: Mapped[str | None] = mapped_column(String(1000))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    abandon_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    area: Mapped[Area] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    claims: Mapped[list[WishClaim]] = relationship(back_populates="wish", order_by="WishClaim.id")
    photos: Mapped[list[WishPhoto]] = relationship(back_populates="wish", order_by="WishPhoto.id")


class WishClaim(Base):
    """Each claim of a wish, kept after it ends: who held it, and how it ended."""

    __tablename__ = "wish_claims"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'abandoned', 'fulfilled', 'confirmed')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    wish: Mapped[Wish] = relationship(back_populates="claims")
    user: Mapped[User] = relationship(lazy="joined")


class WishPhoto(Base):
    """A fulfilment photo, re-encoded as JPEG (no EXIF, no GPS) and kept in the database."""

    __tablename__ = "wish_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    wish: Mapped[Wish] = relationship(back_populates="photos")


class DailyCheckin(Base):
    """每日一豆: at most one per volunteer per calendar day in China time."""

    __tablename__ = "daily_checkins"
    __table_args__ = (
        UniqueConstraint("user_id", "day", name="uq_daily_checkins_user_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    points: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiReplay(Base):
    """The first answer to a paying API request sent with an Idempotency-Key, so a retry
    gets that answer again instead of a refusal (the ledger already refuses to pay twice)."""

    __tablename__ = "activity_api_replays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

