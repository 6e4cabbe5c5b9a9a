"""Merchants joining a programme, their staff, and the offers they publish."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import ledger
from ledger import rules
from ledger.clock import now
from volunteers import access, areas, audit, programmes, users
from volunteers.errors import Conflict, Forbidden, Invalid, NotFound
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
# What an edit may change, by its API name; ``stock`` is the offer's total stock.
EDITABLE_FIELDS = ("title", "description", "kind", "price_points", "stock", "per_person_limit",
                   "valid_from", "valid_until", "voucher_valid_days")
OFFER_STATUSES = ("open", "upcoming", "sold_out", "ended", "withdrawn")


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
    for position, user in enumerate(staff):
        member = add_staff(session, actor, merchant, user)
        member.owner = position == 0  # the first staff named owns the merchant
    session.flush()
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


AUDITED_FIELDS = ("title", "description", "kind", "price_points", "stock_total",
                  "per_person_limit", "valid_from", "valid_until", "voucher_valid_days",
                  "active")


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
    audit.record(session, actor, "offer.create", f"offer:{offer.id}", None,
                 audit.snapshot(offer, AUDITED_FIELDS), area=merchant.area)
    return offer


def _offer_problems(title, kind, price_points, stock, per_person_limit, valid_from,
                    valid_until, voucher_valid_days, description, *,
                    must_end_in_future: bool = True) -> dict:
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
    if valid_until <= valid_from or (must_end_in_future and valid_until <= now()):
        problems["valid_until"] = ["must be in the future and after valid_from"]
    return problems


def edit_offer(session: Session, actor: User, offer_id: int, changes: dict) -> Offer:
    """Change an offer, by its merchant's staff or an administrator over the merchant's area.

    ``changes`` holds some of ``EDITABLE_FIELDS``. A new price, window or voucher lifetime
    applies to vouchers taken from now on: an issued voucher keeps the price it holds and its
    deadline. The stock may go up, or down to no fewer than the vouchers already issued (and
    not cancelled or expired); that check and the write are one conditional UPDATE, so a take
    racing the edit can never leave the stock below what was handed out."""
    offer = get_offer(session, offer_id)
    require_staff_or_admin(session, actor, offer.merchant)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown or not changes:
        raise Invalid("nothing to change" if not changes else "these fields cannot be edited",
                      errors={name: ["not an editable field"] for name in unknown}
                      or {"_schema": ["at least one field to change"]})
    if not offer.active:
        raise Conflict(f"offer {offer_id} was withdrawn and cannot be edited", offer_id=offer_id)
    merged = _merged(offer, changes)
    problems = _offer_problems(**merged, must_end_in_future="valid_until" in changes)
    issued = offer.vouchers_issued
    if "stock" in changes and "stock" not in problems and merged["stock"] < issued:
        problems["stock"] = [f"at least {issued}: vouchers already issued"]
    if problems:
        raise Invalid("the offer is not valid", errors=problems)
    before = audit.snapshot(offer, AUDITED_FIELDS)
    values = {name: merged[name] for name in changes if name != "stock"}
    if "title" in values:
        values["title"] = values["title"].strip()
    conditions = [Offer.id == offer.id, Offer.active.is_(True)]
    if "stock" in changes:
        new_total = merged["stock"]
        # Both right-hand sides read the row as it was: what is left keeps every voucher
        # already handed out counted.
        values.update(stock_total=new_total,
                      stock_left=Offer.stock_left + new_total - Offer.stock_total)
        conditions.append(Offer.stock_total - Offer.stock_left <= new_total)
    changed = session.execute(
        update(Offer).where(*conditions)
        .values(**values, updated_at=now(), updated_by=actor.username).returning(Offer.id)
        .execution_options(synchronize_session=False)).scalar()
    session.refresh(offer)
    if changed is None:
        if not offer.active:
            raise Conflict(f"offer {offer_id} was withdrawn and cannot be edited",
                           offer_id=offer_id)
        raise Invalid("the offer is not valid", errors={
            "stock": [f"at least {offer.vouchers_issued}: vouchers already issued"]})
    audit.record(session, actor, "offer.update", f"offer:{offer.id}", before,
                 audit.snapshot(offer, AUDITED_FIELDS), area=offer.merchant.area)
    return offer


def _merged(offer: Offer, changes: dict) -> dict:
    """The offer's fields as they would be after ``changes``, named as ``_offer_problems``
    takes them."""
    current = {
        "title": offer.title, "description": offer.description, "kind": offer.kind,
        "price_points": offer.price_points, "stock": offer.stock_total,
        "per_person_limit": offer.per_person_limit, "valid_from": offer.valid_from,
        "valid_until": offer.valid_until, "voucher_valid_days": offer.voucher_valid_days,
    }
    merged = current | changes
    for name in ("valid_from", "valid_until"):
        if merged[name] is None:
            raise Invalid("the offer is not valid", errors={name: ["a date and time"]})
        merged[name] = rules.as_utc(merged[name])
    return merged


def withdraw_offer(session: Session, actor: User, offer_id: int) -> Offer:
    """Stop an offer: no new vouchers from now on. Vouchers already issued stay valid until
    they are redeemed, cancelled or expire, so their holders lose nothing. Withdrawing twice
    is a conflict. Takes check the flag in their own stock UPDATE, so none slips in after."""
    offer = get_offer(session, offer_id)
    require_staff_or_admin(session, actor, offer.merchant)
    moment = now()
    changed = session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.active.is_(True))
        .values(active=False, withdrawn_at=moment, withdrawn_by=actor.username,
                updated_at=moment, updated_by=actor.username)
        .returning(Offer.id).execution_options(synchronize_session=False)).scalar()
    session.refresh(offer)
    if changed is None:
        raise Conflict(f"offer {offer_id} was already withdrawn", offer_id=offer_id)
    audit.record(session, actor, "offer.withdraw", f"offer:{offer.id}", {"active": True},
                 {"active": False}, area=offer.merchant.area)
    return offer


def merchant_offers(session: Session, actor: User, merchant_id: int) -> list[Offer]:
    """Every offer of a merchant, newest first, withdrawn and ended ones too: what its staff
    and administrators manage."""
    merchant = get_merchant(session, merchant_id)
    require_staff_or_admin(session, actor, merchant)
    return list(session.scalars(select(Offer).where(Offer.merchant_id == merchant.id)
                                .order_by(Offer.id.desc()).limit(MAX_OFFERS_LISTED)))


def offer_status(offer: Offer, moment: datetime | None = None) -> str:
    """One of ``OFFER_STATUSES``: why an offer can or cannot be taken now."""
    moment = moment or now()
    if not offer.active:
        return "withdrawn"
    if moment < rules.as_utc(offer.valid_from):
        return "upcoming"
    if moment >= rules.as_utc(offer.valid_until):
        return "ended"
    if offer.stock_left <= 0:
        return "sold_out"
    return "open"


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
