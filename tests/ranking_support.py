"""Builders for the honours tests: a funded 丰行侠 programme, volunteers and their earnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import ledger
from ledger import Posting
from volunteers import areas, programmes, users
from volunteers.models import User

PASSWORD = "correct-horse-9"
AREAS = (
    ("xindu", "成都市新都区", "district", "root"),
    ("dafeng", "大丰街道", "street", "xindu"),
    ("sanyuan", "三元社区", "community", "dafeng"),
    ("nanfeng", "南丰社区", "community", "dafeng"),
    ("wuhua", "昆明市五华区", "district", "root"),
)


@dataclass
class Honours:
    admin: User
    second_admin: User
    wuhua_admin: User
    volunteers: list[User] = field(default_factory=list)
    programme: str = "fengxingxia"


def build(session, volunteers: int = 20, fund_fen: int = 10_000_000) -> Honours:
    areas.ensure_root(session)
    for code, name, level, parent in AREAS:
        areas.create_area(session, code, name, level, parent)
    admin = users.create_user(session, "root_admin", PASSWORD, role="admin", area_code="root")
    second = users.create_user(session, "second_admin", PASSWORD, role="admin", area_code="root")
    wuhua = users.create_user(session, "wuhua_admin", PASSWORD, role="admin", area_code="wuhua")
    programmes.create_programme(session, admin, "fengxingxia", "丰行侠·新都大丰", "dafeng",
                                points_per_yuan=1, award_approval_threshold_points=100)
    programmes.fund_programme(session, admin, "fengxingxia", fund_fen, "测试资金", "t:funding")
    world = Honours(admin, second, wuhua)
    for number in range(1, volunteers + 1):
        world.volunteers.append(users.create_user(
            session, f"rider{number:02d}", PASSWORD, role="volunteer",
            area_code="sanyuan" if number % 2 else "nanfeng", display_name=f"张{number}明"))
    session.flush()
    return world


def earn(session, volunteer: User, points: int, key: str, kind: str = "report_reward",
         programme: str = "fengxingxia") -> int:
    return ledger.post(
        session, idempotency_key=key, kind=kind, reference=key,
        postings=[Posting(f"programme:{programme}:budget", -points, "POINT"),
                  Posting(volunteer.wallet_code, points, "POINT")]).entry_id


def spend(session, volunteer: User, points: int, key: str, kind: str = "donation") -> int:
    return ledger.post(
        session, idempotency_key=key, kind=kind, reference=key,
        postings=[Posting(volunteer.wallet_code, -points, "POINT"),
                  Posting("programme:fengxingxia:donations", points, "POINT")]).entry_id


def earn_all(session, world: Honours, points_list) -> None:
    """The i-th volunteer earns points_list[i] (0 earns nothing)."""
    for volunteer, points in zip(world.volunteers, points_list, strict=False):
        if points:
            earn(session, volunteer, points, f"t:earn:{volunteer.id}")


# build_world has two riders in the programme: by the default shares (5 / 15 / 30 %) neither
# would be in the top 5 %, so the web tests rank them with a half-share 大侠 tier.
SMALL_WORLD_TIERS = [
    {"key": "daxia", "name": "大侠", "share_bp": 5000, "bonus_fen": 50_000},
    {"key": "shaoxia", "name": "少侠", "share_bp": 1000, "bonus_fen": 20_000},
    {"key": "xiashi", "name": "侠士", "share_bp": 1000, "bonus_fen": 10_000},
]


def configure_small_world(app) -> None:
    from honours import ranking
    from web.extensions import db

    with app.app_context():
        admin = users.find_user(db.session, "root_admin")
        ranking.configure(db.session, admin, "fengxingxia", {"tiers": SMALL_WORLD_TIERS})
        db.session.commit()
        db.session.remove()
