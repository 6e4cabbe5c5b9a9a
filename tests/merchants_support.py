"""Builders for merchant and voucher tests: two merchants of the test world's programme, each
with a till user, an offer, and points on the riders' wallets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ledger
from ledger import Posting
from merchants import offers
from tests.web_support import PASSWORD
from volunteers import programmes, users

RIDER_POINTS = 100
OFFER_PRICE_POINTS = 30
OFFER_STOCK = 5


@dataclass
class Shops:
    merchant: int = 0
    other_merchant: int = 0
    offer: int = 0
    other_offer: int = 0
    ids: dict[str, int] = field(default_factory=dict)


def later(days: int = 30) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def give_points(session, world, name: str, amount_points: int, source: str) -> None:
    """Points straight from the programme's budget (an award without the threshold)."""
    ledger.post(session, idempotency_key=f"test:{source}", kind="manual_award",
                postings=[Posting(world.budget, -amount_points, "POINT"),
                          Posting(world.wallet(name), amount_points, "POINT")],
                reference=source)


def build_shops(session, world, *, price_points: int = OFFER_PRICE_POINTS,
                stock: int = OFFER_STOCK, per_person_limit: int = 2) -> Shops:
    """Merchants 'teahouse' (till user ``till``) and 'noodles' (till user ``other_till``)."""
    admin = users.get_user(session, world.ids["root_admin"])
    shops = Shops()
    for username in ("till", "till2", "other_till"):
        shops.ids[username] = users.create_user(
            session, username, PASSWORD, role="merchant", area_code="dafeng",
            display_name=username).id
        world.ids[username] = shops.ids[username]
    teahouse = offers.create_merchant(
        session, admin, name="大丰老茶馆", programme_code=world.programme, area_code="sanyuan",
        staff_usernames=["till", "till2"], address="蜀龙大道中段 88 号", category="茶饮")
    noodles = offers.create_merchant(
        session, admin, name="新都面馆", programme_code=world.programme, area_code="nanfeng",
        staff_usernames=["other_till"], category="餐饮")
    shops.merchant, shops.other_merchant = teahouse.id, noodles.id
    shops.offer = offers.create_offer(
        session, admin, teahouse.id, title="盖碗茶一杯", price_points=price_points, stock=stock,
        per_person_limit=per_person_limit, valid_until=later(), kind="goods").id
    shops.other_offer = offers.create_offer(
        session, admin, noodles.id, title="牛肉面八折", price_points=price_points, stock=stock,
        per_person_limit=per_person_limit, valid_until=later(), kind="discount").id
    for name in ("rider", "rider2"):
        give_points(session, world, name, RIDER_POINTS, f"shops:{name}")
    return shops


def build_shops_in_app(app, world, **options) -> Shops:
    from web.extensions import db

    with app.app_context():
        shops = build_shops(db.session, world, **options)
        db.session.commit()
        ledger.seal_all(db.session)
        db.session.remove()
    return shops


def award_points(session, world, name: str, amount_points: int) -> None:
    reviewer = users.get_user(session, world.ids["dafeng_reviewer"])
    programmes.request_award(session, reviewer, world.programme, world.ids[name],
                             amount_points, "测试奖励", f"test:award:{name}:{amount_points}")
