"""People, the area tree and role grants."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, UtcDateTime

AREA_LEVELS = ("root", "district", "street", "community", "grid", "courtyard")
ROLES = ("volunteer", "organiser", "reviewer", "merchant", "admin", "auditor")
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
    # An area with history is closed, never deleted: it keeps its reports and people.
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    boundary: Mapped[dict | None] = mapped_column(JSON)
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_lng: Mapped[float | None] = mapped_column(Float)

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
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    # The office's own key for a person (a rider's staff number), for re-imports.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # False: suspended (cannot sign in, tokens refused, left out of rankings; points stay).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # 适老化: larger type and stronger contrast on every page, chosen by the person.
    large_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Every browser session carries the generation it began in; bumping it ends them all
    # (volunteers.sessions).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

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
            "role IN ('volunteer', 'organiser', 'reviewer', 'merchant', 'admin', 'auditor')",
            name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    area: Mapped[Area] = relationship(lazy="joined")


class RoleRequest(Base):
    """A grant of ``admin`` waiting for a second administrator of the area (maker-checker:
    one administrator alone cannot make another)."""

    __tablename__ = "role_requests"
    __table_args__ = (
        CheckConstraint("status IN ('awaiting_approval', 'granted', 'rejected')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")


class AccountCode(Base):
    """A one-time code that sets a password: an activation code for an imported person, or a
    reset code an administrator issues. Only its SHA-256 is stored; it expires and is used
    once."""

    __tablename__ = "account_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('activation', 'reset')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


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


class ClientKey(Base):
    """A key a client application (an Open311 app) sends in a request body: scoped to what it
    may do (``scope``), revocable, and never a bearer token for the API. Only its SHA-256 is
    stored."""

    __tablename__ = "client_keys"
    __table_args__ = (CheckConstraint("scope IN ('open311')", name="scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
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


class AuditEvent(Base):
    """One administrative change (a category's points, a role, a rate, an area ...): who made
    it, when, from which address, and the values before and after. Append-only: triggers
    refuse UPDATE and DELETE (``volunteers/sql/audit_append_only*.sql``). ``area_path`` copies
    the path of the area the change belongs to, so an administrator's view is one prefix
    range; a change with no area of its own (a report category) sits on the root."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_area_path_id", "area_path", "id"),
        Index("ix_audit_events_kind_id", "kind", "id"),
        Index("ix_audit_events_actor_id_id", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    area_path: Mapped[str] = mapped_column(String(600))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


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
