"""A merchant looks after itself: its owner adds and removes till staff (an administrator over
its area may too, and names owners); its staff read what it accepted per month and its
settlements."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers import access, audit, users
from volunteers.errors import Conflict, Forbidden, NotFound
from volunteers.models import User

from . import offers, statements
from .models import Merchant, MerchantStaff, Settlement

ADMIN = ("admin",)
MAX_SETTLEMENTS_SHOWN = 120
MONTHS_SHOWN = 12


class StaffRefused(Conflict):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message, **details)
        self.code = code


def is_owner(session: Session, user: User, merchant_id: int) -> bool:
    return session.scalar(select(MerchantStaff.id).where(
        MerchantStaff.merchant_id == merchant_id, MerchantStaff.user_id == user.id,
        MerchantStaff.owner.is_(True))) is not None


def require_owner_or_admin(session: Session, actor: User, merchant: Merchant) -> None:
    if access.holds(actor, ADMIN, merchant.area) or is_owner(session, actor, merchant.id):
        return
    raise Forbidden(f"only the owner of merchant {merchant.id} or an administrator")


def team(session: Session, actor: User, merchant_id: int) -> list[MerchantStaff]:
    merchant = offers.get_merchant(session, merchant_id)
    offers.require_staff_or_admin(session, actor, merchant)
    return list(session.scalars(select(MerchantStaff).where(
        MerchantStaff.merchant_id == merchant.id).order_by(MerchantStaff.id)))


def add_till_staff(session: Session, actor: User, merchant_id: int, login: str,
                   owner: bool = False) -> MerchantStaff:
    """The person (by user name or phone) works the merchant's till; only an administrator
    makes someone an owner."""
    merchant = offers.get_merchant(session, merchant_id)
    require_owner_or_admin(session, actor, merchant)
    if owner and not access.holds(actor, ADMIN, merchant.area):
        raise Forbidden("only an administrator names an owner")
    user = users.find_for_login(session, login)
    if user is None:
        raise NotFound(f"no user {login}", errors={"username": ["no such user"]})
    if not user.active:
        raise StaffRefused("user_suspended", f"{user.username} is suspended")
    already = session.scalar(select(MerchantStaff).where(
        MerchantStaff.merchant_id == merchant.id, MerchantStaff.user_id == user.id))
    if already is not None:
        if owner and not already.owner:
            already.owner = True
            session.flush()
        return already
    users.grant_role(session, user, "merchant", merchant.area.code)
    member = MerchantStaff(merchant_id=merchant.id, user_id=user.id, created_at=now(),
                           owner=owner)
    session.add(member)
    session.flush()
    audit.record(session, actor, "merchant.staff_add", f"merchant:{merchant.id}", None,
                 {"user_id": user.id, "username": user.username, "owner": owner},
                 area=merchant.area)
    return member


def remove_till_staff(session: Session, actor: User, merchant_id: int, user_id: int) -> None:
    """An owner removes till staff (not an owner, not themselves); an administrator anyone
    but the merchant's last owner."""
    merchant = offers.get_merchant(session, merchant_id)
    require_owner_or_admin(session, actor, merchant)
    member = session.scalar(select(MerchantStaff).where(
        MerchantStaff.merchant_id == merchant.id, MerchantStaff.user_id == user_id))
    if member is None:
        raise NotFound(f"user {user_id} does not work at merchant {merchant_id}")
    admin = access.holds(actor, ADMIN, merchant.area)
    if member.owner and not admin:
        raise Forbidden("only an administrator removes an owner")
    if member.owner:
        owners = session.scalar(select(MerchantStaff.id).where(
            MerchantStaff.merchant_id == merchant.id, MerchantStaff.owner.is_(True),
            MerchantStaff.user_id != user_id).limit(1))
        if owners is None:
            raise StaffRefused("last_owner", f"the last owner of merchant {merchant_id}")
    username = member.user.username
    if member in merchant.staff:
        merchant.staff.remove(member)
    session.delete(member)
    session.flush()
    audit.record(session, actor, "merchant.staff_remove", f"merchant:{merchant.id}",
                 {"user_id": user_id, "username": username}, None, area=merchant.area)


def merchant_settlements(session: Session, actor: User, merchant_id: int) -> list[Settlement]:
    """The merchant's settlements, newest first, with their state (settled, paid)."""
    merchant = offers.get_merchant(session, merchant_id)
    offers.require_staff_or_admin(session, actor, merchant)
    return list(session.scalars(select(Settlement).where(
        Settlement.merchant_id == merchant.id).order_by(Settlement.id.desc())
        .limit(MAX_SETTLEMENTS_SHOWN)))


def accepted_by_month(session: Session, actor: User, merchant_id: int):
    """What the merchant accepted in each of the last twelve months (China time)."""
    until = statements.china_today()
    since = (until.replace(day=1) - timedelta(days=31 * (MONTHS_SHOWN - 1))).replace(day=1)
    return statements.merchant_statement(session, actor, merchant_id, by="month",
                                         since=since, until=until)
