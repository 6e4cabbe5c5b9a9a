"""Year-end bonuses after publication, on SQLite and PostgreSQL: the reservation in the
publication's transaction, crediting in resumable batches by the worker's job, a replayed
batch that credits nobody twice, "being paid" until a volunteer's credit lands, and the proof
that credits + reservation left = reservation made."""

from sqlalchemy import func, select

import ledger
from honours import bonuses, honours, ranking
from honours.models import BonusCrediting
from jobs import catalogue
from tests.ranking_support import build, configure_small_world, earn_all
from volunteers.models import Notification

YEAR = ranking.china_year_now()
POINTS = [100, 90, 90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
TOTAL = 50_000 + 3 * 20_000 + 6 * 10_000
RESERVE = f"programme:fengxingxia:bonuses:{YEAR}"


def published(session):
    world = build(session)
    earn_all(session, world, POINTS)
    snapshot = ranking.publish(session, world.admin, "fengxingxia", YEAR)
    session.commit()
    return world, snapshot


def cash(session, volunteer) -> int:
    account = session.scalar(select(ledger.Account).where(
        ledger.Account.code == f"volunteer:{volunteer.id}:cash"))
    return 0 if account is None else account.posted


def honour_notices(session) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.reference.like("ranking:%")))


def test_crediting_runs_in_batches_and_says_being_paid_until_each_credit_lands(session):
    world, snapshot = published(session)
    crediting = session.get(BonusCrediting, snapshot.id)
    assert (crediting.reserved_fen, crediting.bonus_count, crediting.last_position) == (
        TOTAL, 10, 10)
    assert bonuses.credit_batch(session, snapshot.id, batch_rows=4) == 4
    session.commit()
    first, fifth = world.volunteers[0], world.volunteers[4]
    assert (cash(session, first), cash(session, fifth)) == (50_000, 0)
    states = {h.volunteer_id: h.bonus_state for h in honours.honours_of(session, first.id)
              + honours.honours_of(session, fifth.id)}
    assert states == {first.id: "paid", fifth.id: "being_paid"}
    assert honour_notices(session) == 4
    progress = bonuses.progress_document(crediting)
    assert (progress["status"], progress["credited_count"], progress["credited_fen"]) == (
        "being_paid", 4, 50_000 + 3 * 20_000)
    assert ranking.check(session, "fengxingxia", YEAR) == []  # mid-way, the sums hold too
    assert ledger.balance(session, RESERVE).posted == 6 * 10_000
    assert catalogue.credit_bonuses(session) == 6  # the worker's job finishes it
    assert (cash(session, fifth), ledger.balance(session, RESERVE).posted) == (10_000, 0)
    assert bonuses.progress_document(crediting)["status"] == "paid"
    assert honour_notices(session) == 10
    assert catalogue.credit_bonuses(session) == 0
    assert ranking.check(session, "fengxingxia", YEAR) == []
    ledger.seal_all(session)
    assert ledger.verify(session).ok


def test_a_replayed_batch_credits_and_tells_nobody_twice(session):
    world, snapshot = published(session)
    bonuses.credit_all(session)
    entries = session.scalar(select(func.count()).select_from(ledger.Entry))
    crediting = session.get(BonusCrediting, snapshot.id)
    # As if the progress had been lost after the credits committed: the job runs again.
    crediting.credited_through, crediting.credited_count, crediting.credited_fen = 0, 0, 0
    crediting.finished_at = None
    session.commit()
    assert bonuses.credit_all(session) == 10  # counted again, but replayed by the ledger
    assert session.scalar(select(func.count()).select_from(ledger.Entry)) == entries
    assert cash(session, world.volunteers[0]) == 50_000
    assert honour_notices(session) == 10
    assert ranking.check(session, "fengxingxia", YEAR) == []


def test_check_names_credits_that_do_not_match_the_reservation(session):
    _, snapshot = published(session)
    bonuses.credit_batch(session, snapshot.id, batch_rows=1)
    session.get(BonusCrediting, snapshot.id).credited_fen = 1  # a forged record
    session.commit()
    differences = ranking.check(session, "fengxingxia", YEAR)
    assert differences == ["bonuses: 50000 fen credited in the ledger, 50000 due to the rows "
                           "up to position 1, 1 recorded"]


def test_the_worker_credits_and_ranking_check_shows_the_money(app, api, world):
    configure_small_world(app)
    for name, points in (("rider", 60), ("rider2", 40)):
        awarded = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", json={
            "volunteer_id": world.ids[name], "amount_points": points, "reason": "上报井盖缺失"})
        assert awarded.status_code == 201, awarded.get_json()
    runner = app.test_cli_runner()
    year = ["--programme", "fengxingxia", "--year", str(YEAR)]
    published_now = runner.invoke(args=["ranking", "run", *year, "--publish"])
    assert published_now.exit_code == 0, published_now.output
    assert "credited by the worker" in published_now.output, published_now.output
    once = runner.invoke(args=["worker", "--once"])
    assert "credit_bonuses: credited 1 bonuses" in once.output, once.output
    cash = api.get(f"/accounts/volunteer:{world.ids['rider']}:cash", as_="root_admin")
    assert cash.get_json()["posted"] == 50_000
    checked = runner.invoke(args=["ranking", "check", *year])
    assert checked.exit_code == 0, checked.output
    assert "bonuses reserved 50000 fen = credited 50000 + left 0" in checked.output
