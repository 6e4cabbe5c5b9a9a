"""Demo of the year-end honours: 丰行侠's ranking configuration (大侠 5 %, 少侠 15 %, 侠士
30 %, with bonuses), two rider teams for the team leaderboard, and a 见义勇为 special honour.
Idempotent: a second run adds nothing.

The current year stays unpublished so that an administrator can preview and publish it live;
a previous year cannot be shown published, because the ledger dates every entry itself (no
back-dated history exists to rank)."""

from __future__ import annotations

from sqlalchemy import select

from volunteers import teams
from volunteers.models import Team, User

from . import honours, ranking
from .models import RankingConfig, SpecialHonour

PROGRAMME = "fengxingxia"
CONFIG = {
    "mode": "proportion",
    "tiers": [
        {"key": "daxia", "name": "大侠", "share_bp": 500, "min_points": None, "bonus_fen": 50_000},
        {"key": "shaoxia", "name": "少侠", "share_bp": 1500, "min_points": None,
         "bonus_fen": 20_000},
        {"key": "xiashi", "name": "侠士", "share_bp": 3000, "min_points": None,
         "bonus_fen": 10_000},
    ],
    "min_points": 5,
    "counting_kinds": list(ranking.EARNING_KINDS),
    "exclude_staff": True,
}
TEAMS = (("丰行侠·三元先锋队", "sanyuan", ("rider01", "rider04", "rider07", "rider10")),
         ("丰行侠·南丰骑士队", "nanfeng", ("rider02", "rider05", "rider08", "rider11")))


def load(session) -> bool:
    """Returns whether anything was added. The caller commits."""
    admin = session.scalar(select(User).where(User.username == "admin"))
    if admin is None or session.scalar(select(RankingConfig.id).limit(1)) is not None:
        return False
    ranking.configure(session, admin, PROGRAMME, CONFIG)
    people = {u.username: u for u in session.scalars(
        select(User).where(User.username.like("rider%")))}
    for name, area, members in TEAMS:
        if session.scalar(select(Team.id).where(Team.name == name)) is not None:
            continue
        team = teams.create_team(session, admin, name, area, people[members[0]].id)
        for member in members[1:]:
            teams.add_member(session, admin, team.id, people[member].id)
    if session.scalar(select(SpecialHonour.id).limit(1)) is None:
        honours.give_special_honour(
            session, admin, PROGRAMME, people["rider03"].id, ranking.china_year_now(),
            "见义勇为", "暴雨夜协助疏散被困群众", 0, "demo:special-honour:1")
    return True
