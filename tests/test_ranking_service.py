"""The annual ranking's service on SQLite and PostgreSQL: scores from earned totals,
publishing with bonuses, refusals that change nothing, and the audit against the journal."""

import pytest
from sqlalchemy import func, select

import ledger
from honours import bonuses, ranking
from honours.errors import InsufficientFundsForBonuses
from honours.models import RankingRow, RankingSnapshot
from tests.ranking_support import build, earn, earn_all, spend
from volunteers.errors import Conflict, Invalid, NotInYourArea

YEAR = ranking.china_year_now()
POINTS = [100, 90, 90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]


def ledger_state(session):
    session.expire_all()
    return ({a.code: (a.posted, a.pending_in, a.pending_out)
             for a in session.scalars(select(ledger.Account))},
            session.scalar(select(func.count()).select_from(ledger.Entry)))


def test_spending_never_lowers_a_rank_but_a_reversal_does(session):
    world = build(session, volunteers=3)
    first, second, third = world.volunteers
    earn(session, first, 50, "a")
    reversed_reward = earn(session, second, 40, "b")
    earn(session, second, 20, "b2", kind="service_hours")
    earn(session, third, 30, "c", kind="daily_checkin")
    earn(session, third, 500, "ignored", kind="funding_like_kind")
    spend(session, first, 45, "spent")
    ranked = ranking.compute(session, world.admin, "fengxingxia", YEAR)
    assert [(p.volunteer_id, p.points) for p in ranked.placements] == [
        (second.id, 60), (first.id, 50), (third.id, 30)]
    ledger.reverse(session, reversed_reward, idempotency_key="undo-b", memo="false report")
    ranked = ranking.compute(session, world.admin, "fengxingxia", YEAR)
    assert [(p.volunteer_id, p.points) for p in ranked.placements] == [
        (first.id, 50), (third.id, 30), (second.id, 20)]


def test_equal_points_order_by_the_earlier_moment_of_reaching_them(session):
    world = build(session, volunteers=3)
    late, early, other = world.volunteers
    earn(session, late, 10, "late-1")
    earn(session, early, 30, "early-1")
    earn(session, late, 20, "late-2")
    earn(session, other, 30, "other")
    placements = ranking.compute(session, world.admin, "fengxingxia", YEAR).placements
    assert [p.volunteer_id for p in placements] == [early.id, late.id, other.id]
    assert [p.rank for p in placements] == [1, 1, 1]
    assert placements[0].reached_at < placements[1].reached_at < placements[2].reached_at


def test_a_reversed_last_reward_moves_the_moment_of_reaching_back(session):
    world = build(session, volunteers=2)
    first, second = world.volunteers
    earn(session, first, 20, "first-1")
    earn(session, second, 20, "second-1")
    late = earn(session, first, 5, "first-2")
    placements = ranking.compute(session, world.admin, "fengxingxia", YEAR).placements
    assert [(p.volunteer_id, p.points) for p in placements] == [(first.id, 25), (second.id, 20)]
    ledger.reverse(session, late, idempotency_key="undo-first-2")
    placements = ranking.compute(session, world.admin, "fengxingxia", YEAR).placements
    # Both at 20 now: the first reached 20 before the second did.
    assert [(p.volunteer_id, p.points) for p in placements] == [(first.id, 20), (second.id, 20)]
    assert placements[0].reached_at < placements[1].reached_at
    ranking.publish(session, world.admin, "fengxingxia", YEAR)
    session.commit()
    assert ranking.check(session, "fengxingxia", YEAR) == []


def test_a_first_page_preview_counts_every_volunteer(session):
    world = build(session)
    earn_all(session, world, POINTS)
    full = ranking.compute(session, world.admin, "fengxingxia", YEAR)
    page = ranking.compute(session, world.admin, "fengxingxia", YEAR, limit=3)
    assert page.placements == full.placements[:3]
    assert (page.eligible_count, page.ranked_count, page.bonus_total_fen) == (
        20, sum(1 for p in full.placements if p.tier), sum(p.bonus_fen for p in full.placements))
    assert page.tier_summaries() == full.tier_summaries()
    for summary in full.tier_summaries():
        points = [p.points for p in full.placements if p.tier == summary.key]
        assert (summary.count, summary.min_points, summary.max_points) == (
            len(points), min(points), max(points))
    assert [(t.count, t.min_points, t.max_points) for t in page.tier_summaries()] == [
        (1, 100, 100), (3, 80, 90), (6, 20, 70)]


def test_staff_suspended_and_other_areas_are_not_ranked(session):
    from volunteers import users

    world = build(session, volunteers=3)
    staff, suspended, kept = world.volunteers
    users.grant_role(session, staff, "reviewer", "sanyuan")
    suspended.active = False
    outsider = users.create_user(session, "kunming", "correct-horse-9", role="volunteer",
                                 area_code="wuhua")
    for person in (staff, suspended, kept, outsider):
        earn(session, person, 10, f"e{person.id}")
    placements = ranking.compute(session, world.admin, "fengxingxia", YEAR).placements
    assert [p.volunteer_id for p in placements] == [kept.id]


def test_publish_snapshots_every_row_and_pays_each_tier_from_the_fund(session):
    world = build(session)
    earn_all(session, world, POINTS)
    fund_before = ledger.balance(session, "programme:fengxingxia:fund").posted
    snapshot = ranking.publish(session, world.admin, "fengxingxia", YEAR)
    session.commit()
    rows = ranking.snapshot_placements(session, snapshot)
    assert [r.tier for r in rows] == (["daxia"] + ["shaoxia"] * 3 + ["xiashi"] * 6
                                      + [None] * 10)
    assert snapshot.bonus_total_fen == 50_000 + 3 * 20_000 + 6 * 10_000
    assert ledger.balance(session, "programme:fengxingxia:fund").posted == (
        fund_before - snapshot.bonus_total_fen)
    reserve = f"programme:fengxingxia:bonuses:{YEAR}"
    assert ledger.balance(session, reserve).posted == snapshot.bonus_total_fen
    top = world.volunteers[0]
    from volunteers import notifications

    assert notifications.latest(session, top.id) == []  # told when the bonus is credited
    assert snapshot.ledger_entry_id == session.scalar(
        select(func.max(ledger.Entry.id)).where(ledger.Entry.kind != "ranking_bonus_reserve"))
    assert ranking.check(session, "fengxingxia", YEAR) == []
    assert bonuses.credit_all(session) == 10
    assert ledger.balance(session, f"volunteer:{top.id}:cash").posted == 50_000
    assert ledger.balance(session, reserve).posted == 0
    assert ranking.check(session, "fengxingxia", YEAR) == []
    told = notifications.latest(session, top.id)
    assert [(n.message, n.params) for n in told] == [(ranking.HONOUR_MESSAGE, {
        "tier": "大侠", "year": YEAR, "programme": "丰行侠·新都大丰"})]
    assert notifications.latest(session, world.volunteers[-1].id) == []
    ledger.seal_all(session)
    assert ledger.verify(session).ok


def test_publishing_twice_refuses_and_changes_nothing(session):
    world = build(session)
    earn_all(session, world, POINTS)
    ranking.publish(session, world.admin, "fengxingxia", YEAR)
    session.commit()
    before = ledger_state(session)
    with pytest.raises(Conflict):
        ranking.publish(session, world.second_admin, "fengxingxia", YEAR)
    session.rollback()
    assert ledger_state(session) == before
    assert session.scalar(select(func.count()).select_from(RankingSnapshot)) == 1


def test_a_fund_that_cannot_cover_every_bonus_pays_none_and_says_what_is_missing(session):
    world = build(session, fund_fen=100_000)
    earn_all(session, world, POINTS)
    session.commit()
    before = ledger_state(session)
    with pytest.raises(InsufficientFundsForBonuses) as refused:
        ranking.publish(session, world.admin, "fengxingxia", YEAR)
    assert refused.value.missing_fen == 170_000 - 100_000
    session.rollback()
    assert ledger_state(session) == before
    assert session.scalar(select(func.count()).select_from(RankingRow)) == 0


@pytest.mark.parametrize("year, field", [(YEAR + 1, "year"), (2020, "year")])
def test_years_in_the_future_or_before_the_programme_are_refused(session, year, field):
    world = build(session, volunteers=1)
    with pytest.raises(Invalid) as refused:
        ranking.compute(session, world.admin, "fengxingxia", year)
    assert field in refused.value.errors


def test_an_admin_of_another_area_may_not_rank(session):
    world = build(session, volunteers=1)
    with pytest.raises(NotInYourArea):
        ranking.compute(session, world.wuhua_admin, "fengxingxia", YEAR)


def test_shares_over_a_hundred_percent_are_refused(session):
    world = build(session, volunteers=1)
    config = ranking.default_config()
    config["tiers"][0]["share_bp"] = 9000
    with pytest.raises(Invalid) as refused:
        ranking.configure(session, world.admin, "fengxingxia", config)
    assert "more than 100 %" in " ".join(refused.value.errors["tiers"])


def test_check_names_a_reward_inserted_behind_the_snapshot(session):
    """A snapshot is audited against the journal up to its position: later rewards do not
    count, and a forged position shows."""
    world = build(session)
    earn_all(session, world, POINTS)
    snapshot = ranking.publish(session, world.admin, "fengxingxia", YEAR)
    session.commit()
    earn(session, world.volunteers[-1], 1000, "after")
    session.commit()
    assert ranking.check(session, "fengxingxia", YEAR) == []
    row = session.scalar(select(RankingRow).where(RankingRow.snapshot_id == snapshot.id,
                                                  RankingRow.position == 1))
    session.execute(RankingRow.__table__.update().where(
        RankingRow.snapshot_id == snapshot.id, RankingRow.position == 1).values(points=1))
    session.commit()
    differences = ranking.check(session, "fengxingxia", YEAR)
    assert len(differences) == 1 and f"volunteer {row.volunteer_id}" in differences[0]


@pytest.mark.commits
@pytest.mark.postgres_only("concurrency is tested on PostgreSQL")
def test_two_administrators_publishing_at_once_make_one_snapshot_and_pay_once(
        session, engine):
    """Real threads on PostgreSQL: the unique (programme, year) lets one publication through;
    the other is refused and posts nothing."""
    import threading

    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    world = build(session)
    earn_all(session, world, POINTS)
    session.commit()
    admin_ids = (world.admin.id, world.second_admin.id)
    outcomes, barrier = [], threading.Barrier(2)

    def publish_as(user_id):
        from volunteers.models import User

        with Session(engine) as own:
            actor = own.get(User, user_id)
            barrier.wait()
            try:
                ranking.publish(own, actor, "fengxingxia", YEAR)
                own.commit()
                outcomes.append("published")
            except (Conflict, IntegrityError):
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=publish_as, args=(user_id,)) for user_id in admin_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["published", "refused"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RankingSnapshot)) == 1
    reserved = session.execute(select(ledger.Entry.reference).where(
        ledger.Entry.kind == "ranking_bonus_reserve")).scalars().all()
    snapshot_id = session.scalar(select(RankingSnapshot.id))
    assert reserved == [f"ranking:{snapshot_id}"]  # one reservation, one snapshot
    assert bonuses.credit_all(session) == 10
    assert ledger.balance(session, f"volunteer:{world.volunteers[0].id}:cash").posted == 50_000
