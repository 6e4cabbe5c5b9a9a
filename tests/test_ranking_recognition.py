"""Leaderboards, stars and special honours on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

import ledger
from honours import honours, leaderboards, ranking, stars
from tests.ranking_support import build, earn
from volunteers import programmes, teams
from volunteers.errors import Conflict, Forbidden
from volunteers.models import Award

YEAR = ranking.china_year_now()


def test_a_volunteer_sees_their_own_line_outside_the_top(session):
    world = build(session, volunteers=4)
    for volunteer, points in zip(world.volunteers, (40, 30, 20, 10), strict=True):
        earn(session, volunteer, points, f"e{volunteer.id}")
    last = world.volunteers[-1]
    for period in leaderboards.PERIODS:
        board = leaderboards.board(session, last, "fengxingxia", period, limit=2)
        assert [line.score for line in board.lines] == [40, 30]
        assert board.mine.place == 4 and board.mine.score == 10
        assert board.lines[0].name == "张*明"  # others masked for a volunteer
        assert board.mine.name == last.display_name


def test_a_reversed_reward_leaves_the_weekly_board(session):
    world = build(session, volunteers=2)
    first, second = world.volunteers
    entry = earn(session, first, 50, "big")
    earn(session, second, 10, "small")
    ledger.reverse(session, entry, idempotency_key="undo-big")
    board = leaderboards.board(session, world.admin, "fengxingxia", "week")
    assert [(line.subject_id, line.score) for line in board.lines] == [(second.id, 10)]


def test_team_boards_sum_the_members_and_name_the_viewers_team(session):
    world = build(session, volunteers=5)
    a, b, c, d, e = world.volunteers
    red = teams.create_team(session, world.admin, "红队", "sanyuan", a.id)
    blue = teams.create_team(session, world.admin, "蓝队", "nanfeng", b.id)
    teams.add_member(session, world.admin, red.id, c.id)
    teams.add_member(session, world.admin, blue.id, d.id)
    for volunteer, points in zip((a, b, c, d, e), (10, 20, 30, 5, 100), strict=True):
        earn(session, volunteer, points, f"t{volunteer.id}")
    board = leaderboards.board(session, c, "fengxingxia", "month", by="team")
    assert [(line.name, line.score) for line in board.lines] == [("红队", 40), ("蓝队", 25)]
    assert board.mine.subject_id == red.id
    chosen = stars.publish_stars(session, world.admin, "fengxingxia", YEAR)
    by_type = {}
    for star in chosen:
        by_type.setdefault(star.subject_type, []).append((star.subject_name, star.score))
    assert by_type["team"] == [("红队", 40), ("蓝队", 25)]
    assert by_type["volunteer"][0] == (e.display_name, 100)
    with pytest.raises(Conflict):
        stars.publish_stars(session, world.admin, "fengxingxia", YEAR)


def test_volunteers_of_another_area_may_not_read_the_board(session):
    from volunteers import users

    build(session, volunteers=1)
    outsider = users.create_user(session, "kunming", "correct-horse-9", role="volunteer",
                                 area_code="wuhua")
    with pytest.raises(Forbidden):
        leaderboards.board(session, outsider, "fengxingxia", "year")


def test_a_large_special_honour_waits_for_a_second_administrator(session):
    world = build(session, volunteers=1)
    hero = world.volunteers[0]
    honour = honours.give_special_honour(session, world.admin, "fengxingxia", hero.id, YEAR,
                                         "见义勇为", "协助救助落水儿童", 500, "sh:1")
    assert honour.award.status == "awaiting_approval"
    assert ledger.balance(session, hero.wallet_code).posted == 0
    again = honours.give_special_honour(session, world.admin, "fengxingxia", hero.id, YEAR,
                                        "见义勇为", "协助救助落水儿童", 500, "sh:1")
    assert again.id == honour.id
    with pytest.raises(Forbidden):
        programmes.approve_award(session, world.admin, honour.award.id)
    programmes.approve_award(session, world.second_admin, honour.award.id)
    assert session.scalar(select(Award.status).where(Award.id == honour.award.id)) == "posted"
    assert ledger.balance(session, hero.wallet_code).posted == 500
    assert [h.title for h in honours.special_honours(session, volunteer_id=hero.id)] == [
        "见义勇为"]
    # The award is a manual award: it counts as earning for the ranking.
    assert ranking.compute(session, world.admin, "fengxingxia", YEAR).placements[0].points == 500
