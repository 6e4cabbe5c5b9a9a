"""Merchants joining a programme, their staff, and the offers they publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from ledger import rules
from volunteers import access, areas, programmes, users
from volunteers.errors import Forbidden, Invalid, NotFound
from volunteers.models import User

from .models import OFFER_KINDS, Merchant, MerchantStaff, Offer

MAX_NAME_LENGTH = 120
MAX_TITLE_LENGTH = 120
MAX_DESCRIPTION_LENGTH = 2_000
MAX_STAFF = 20
MAX_STOCK = 1_000_000
MAX_PER_PERSON_LIMIT = 100
MAX_PRICE_POINTS = 1_000_000
MAX_VOUCHER_VALID_DAYS = 366
MAX_OFFERS_LISTED = 200
ADMIN = ("admin",)


def now() -> datetime:
    return datetime.now(UTC)


def create_merchant(
    session: Session,
    actor: User,
    *,
    name: str,
    programme_code: str,
    area_code: str,
    staff_usernames=(),
    address: str | None = None,
    category: str | None = None,
    phone: str | None = None,
    star: bool = False,
) -> Merchant:
    """A merchant joins a programme on an area inside the programme's; its staff get the
    merchant role there. Its accounts are opened at once."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Invalid("a merchant needs a name", errors={"name": ["1 to 120 characters"]})
    programme = programmes.get_programme(session, programme_code)
    area = areas.get_area(session, area_code)
    access.require(actor, ADMIN, area)
    if not programme.area.contains(area):
        raise Invalid(f"area {area_code} is outside the programme's area",
                      errors={"area": [f"inside {programme.area.name}"]})
    staff = _staff_users(session, staff_usernames)
    merchant = Merchant(name=name, programme=programme, area=area, address=address,
                        category=category, phone=phone, star=bool(star), active=True,
                        created_at=now())
    session.add(merchant)
    session.flush()
    ledger.open_account(session, merchant.accepted_account, "POINT", "liability",
                        owner_type="merchant", owner_id=merchant.id)
    ledger.open_account(session, merchant.cash_account, "CNY", "liability",
                        owner_type="merchant", owner_id=merchant.id)
    for user in staff:
        add_staff(session, actor, merchant, user)
    return merchant


def _staff_users(session: Session, usernames) -> list[User]:
    usernames = list(dict.fromkeys(usernames or ()))
    if len(usernames) > MAX_STAFF:
        raise Invalid("too many staff", errors={"staff": [f"at most {MAX_STAFF}"]})
    found = []
    for username in usernames:
        user = users.find_user(session, username)
        if user is None:
            raise Invalid(f"no user {username}", errors={"staff": [f"no user {username}"]})
        found.append(user)
    return found


def add_staff(session: Session, actor: User, merchant: Merchant, user: User) -> MerchantStaff:
    access.require(actor, ADMIN, merchant.area)
    for member in merchant.staff:
        if member.user_id == user.id:
            return member
    users.grant_role(session, user, "merchant", merchant.area.code)
    member = MerchantStaff(merchant=merchant, user=user, created_at=now())
    session.add(member)
    session.flush()
    return member


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}", merchant_id=merchant_id)
    return merchant


def merchants_of(session: Session, user: User) -> list[Merchant]:
    """The merchants whose tills this user works."""
    return list(session.scalars(
        select(Merchant).join(MerchantStaff, MerchantStaff.merchant_id == Merchant.id)
        .where(MerchantStaff.user_id == user.id, Merchant.active.is_(True))
        .order_by(Merchant.id)
    ).unique())


def is_staff(session: Session, user: User, merchant_id: int) -> bool:
    return session.scalar(select(MerchantStaff.id).where(
        MerchantStaff.merchant_id == merchant_id, MerchantStaff.user_id == user.id)) is not None


def require_staff_or_admin(session: Session, actor: User, merchant: Merchant) -> None:
    """The merchant's own staff, or an administrator over its area."""
    if access.holds(actor, ("merchant",)) and is_staff(session, actor, merchant.id):
        return
    access.require(actor, ADMIN + ("merchant",))
    if not access.holds(actor, ADMIN, merchant.area):
        raise Forbidden(f"merchant {merchant.id} is not yours")


def visible_merchants(session: Session, actor: User) -> list[Merchant]:
    rows = session.scalars(select(Merchant).order_by(Merchant.id).limit(MAX_OFFERS_LISTED)).all()
    return [m for m in rows if access.holds(actor, ADMIN, m.area)
            or is_staff(session, actor, m.id)]


def create_offer(
    session: Session,
    actor: User,
    merchant_id: int,
    *,
    title: str,
    price_points: int,
    stock: int,
    per_person_limit: int,
    valid_until: datetime,
    kind: str = "goods",
    description: str | None = None,
    valid_from: datetime | None = None,
    voucher_valid_days: int | None = None,
) -> Offer:
    merchant = get_merchant(session, merchant_id)
    require_staff_or_admin(session, actor, merchant)
    valid_from = rules.as_utc(valid_from or now())
    valid_until = rules.as_utc(valid_until)
    problems = _offer_problems(title, kind, price_points, stock, per_person_limit,
                               valid_from, valid_until, voucher_valid_days, description)
    if problems:
        raise Invalid("the offer is not valid", errors=problems)
    offer = Offer(
        merchant=merchant, title=title.strip(), description=description, kind=kind,
        price_points=price_points, stock_total=stock, stock_left=stock,
        per_person_limit=per_person_limit, valid_from=valid_from, valid_until=valid_until,
        voucher_valid_days=voucher_valid_days, active=True, created_at=now(),
        created_by_id=actor.id,
    )
    session.add(offer)
    session.flush()
    return offer


def _offer_problems(title, kind, price_points, stock, per_person_limit, valid_from,
                    valid_until, voucher_valid_days, description) -> dict:
    problems = {}
    if not (title or "").strip() or len(title) > MAX_TITLE_LENGTH:
        problems["title"] = [f"1 to {MAX_TITLE_LENGTH} characters"]
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        problems["description"] = [f"at most {MAX_DESCRIPTION_LENGTH} characters"]
    if kind not in OFFER_KINDS:
        problems["kind"] = [f"one of {', '.join(OFFER_KINDS)}"]
    for field, value, highest, lowest in (
        ("price_points", price_points, MAX_PRICE_POINTS, 1),
        ("stock", stock, MAX_STOCK, 0),
        ("per_person_limit", per_person_limit, MAX_PER_PERSON_LIMIT, 1),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
            problems[field] = [f"a whole number from {lowest} to {highest}"]
    if voucher_valid_days is not None and not 1 <= voucher_valid_days <= MAX_VOUCHER_VALID_DAYS:
        problems["voucher_valid_days"] = [f"1 to {MAX_VOUCHER_VALID_DAYS}"]
    if valid_until <= max(valid_from, now()):
        problems["valid_until"] = ["must be in the future and after valid_from"]
    return problems


def get_offer(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(f"no offer {offer_id}", offer_id=offer_id)
    return offer


def is_open(offer: Offer, moment: datetime | None = None) -> bool:
    moment = moment or now()
    return (offer.active and offer.merchant.active and offer.stock_left > 0
            and rules.as_utc(offer.valid_from) <= moment < rules.as_utc(offer.valid_until))


def may_take(user: User, offer: Offer) -> bool:
    """A volunteer spends points with the merchants of programmes that cover their area."""
    return access.holds(user, ("volunteer",)) and offer.merchant.programme.area.contains(user.area)


def open_offers(session: Session, actor: User, *, merchant_id: int | None = None,
                kind: str | None = None) -> list[Offer]:
    """Offers one can take now: a volunteer sees those of programmes covering their area,
    staff those of merchants in their areas; star merchants first."""
    moment = now()
    query = (select(Offer).join(Merchant, Merchant.id == Offer.merchant_id)
             .where(Offer.active.is_(True), Merchant.active.is_(True), Offer.stock_left > 0,
                    Offer.valid_from <= moment, Offer.valid_until > moment)
             .order_by(Merchant.star.desc(), Offer.id).limit(MAX_OFFERS_LISTED))
    if merchant_id is not None:
        query = query.where(Offer.merchant_id == merchant_id)
    if kind is not None:
        query = query.where(Offer.kind == kind)
    offers = session.scalars(query).all()
    return [o for o in offers if may_take(actor, o)
            or access.holds(actor, ADMIN, o.merchant.area)
            or is_staff(session, actor, o.merchant_id)]


def voucher_deadline(offer: Offer, issued_at: datetime) -> datetime:
    """A voucher is good until the offer ends, or for its days if the offer says so."""
    deadline = rules.as_utc(offer.valid_until)
    if offer.voucher_valid_days:
        deadline = min(deadline, issued_at + timedelta(days=offer.voucher_valid_days))
    return deadline
