"""People, the area tree and role grants."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime

AREA_LEVELS = ("root", "district", "street", "community", "grid", "courtyard")
ROLES = ("volunteer", "organiser", "reviewer", "merchant", "admin")
STAFF_ROLES = ("organiser", "reviewer", "merchant", "admin")


class Area(Base):
    """区 > 街道 > 社区 > 网格 > 院落 under one root. ``path`` lists the codes from the root
    ("/root/xindu/dafeng/"), so a subtree is one indexed prefix query."""

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint(
            "level IN ('root', 'district', 'street', 'community', 'grid', 'courtyard')",
            name="level",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    path: Mapped[str] = mapped_column(String(600), index=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def contains(self, other: Area) -> bool:
        return other.path.startswith(self.path)

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    area: Mapped[Area] = relationship(lazy="joined")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )

    # What a session library (Flask-Login) asks of a user, without importing it here.
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def roles(self) -> list[str]:
        return sorted({grant.role for grant in self.grants})

    @property
    def wallet_code(self) -> str:
        return f"volunteer:{self.id}:wallet"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleGrant(Base):
    """A role held on one area: it reaches that area's whole subtree and nothing else."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "area_id", name="uq_role_grants_user_role_area"),
        CheckConstraint(
            "role IN ('volunteer', 'organiser', 'reviewer', 'merchant', 'admin')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    area: Mapped[Area] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Programme(Base):
    """A funded incentive scheme on an area (丰行侠 新都, 五华金豆): its own accounts,
    a points-per-yuan rate, and a threshold above which a manual award needs a second admin."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("points_per_yuan > 0", name="points_per_yuan_positive"),
        CheckConstraint("award_approval_threshold_points > 0", name="threshold_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    points_per_yuan: Mapped[int] = mapped_column(Integer)
    award_approval_threshold_points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    area: Mapped[Area] = relationship(lazy="joined")

    def account(self, name: str) -> str:
        return f"programme:{self.code}:{name}"


class Award(Base):
    """A manual award from a programme's budget (见义勇为, 优秀骑手 ...). Above the
    programme's threshold it waits for a second administrator (maker-checker)."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint("amount_points > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('awaiting_approval', 'posted', 'rejected')", name="status"
        ),
        UniqueConstraint("idempotency_key", name="uq_awards_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    programme: Mapped[Programme] = relationship(lazy="joined")
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Notification(Base):
    """One line in a person's notification centre: an English msgid with its parameters,
    translated when shown."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Team(Base):
    """A volunteer team (志愿服务队) on an area, with a leader who is also a member."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("area_id", "name", name="uq_teams_area_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    area: Mapped[Area] = relationship(lazy="joined")
    leader: Mapped[User] = relationship(lazy="joined")


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FundSource(Base):
    """One fund of a programme (社治激励资金, 扫黄打非奖励资金 ...), an account of its own
    (``programme:P:fund:CODE``, CNY, no overdraft): its name, its sponsor, optional earmarks
    (``{"kinds": [...]}``: the only purposes it may pay for, such as ``cash_out``,
    ``settlement`` or ``ranking_bonus``), an optional last day, and its place in the order
    sources are drawn on (``volunteers.fund_sources.choose``)."""

    __tablename__ = "fund_sources"
    __table_args__ = (UniqueConstraint("programme_id", "code", name="uq_fund_sources_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    sponsor: Mapped[str] = mapped_column(String(120))
    earmarks: Mapped[dict | None] = mapped_column(JSON)
    ends_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    programme: Mapped[Programme] = relationship(lazy="joined")

    @property
    def account(self) -> str:
        return self.programme.account(f"fund:{self.code}")
