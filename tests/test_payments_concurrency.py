"""Donations and cash-outs racing on PostgreSQL: many threads, each with its own session and
connection, spend from one wallet. The wallet never goes below zero, a cause never raises
more than its target, the monthly cash-out maximum holds, one idempotency key gives one
donation, and the ledger verifies afterwards. (SQLite serialises every writer.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from payments import cash_out, donations
from payments.errors import CauseNotOpen, LimitReached
from payments.models import CashOutRequest, Donation
from tests.concurrency import run_threads
from tests.payments_support import give_points, open_cash_out, publish_cause
from volunteers.errors import Invalid
from volunteers.models import User

# The app's engine pools 15 connections (5 + 10 overflow): every thread holds one at once.
THREADS = 12


pytestmark = [pytest.mark.commits, pytest.mark.postgres_only(
    "concurrency is tested on PostgreSQL; SQLite serialises every writer")]


def race(engine, volunteer_id: int, count: int, work) -> list:
    """``work(session, actor, index)`` in ``count`` threads released together; each commits
    its own transaction. Returns each answer or the exception raised."""
    def load_actor(session):
        return session.get(User, volunteer_id)  # before the barrier; after it, from the session

    return run_threads(engine, count,
                       lambda session, index: work(session, load_actor(session), index),
                       commit=True, warm=load_actor)


def verified(engine) -> ledger.Report:
    with Session(engine) as session:
        ledger.seal_all(session)
        session.commit()
        report = ledger.verify(session)
    assert report.ok, report
    return report


def wallet(engine, volunteer_id: int) -> int:
    with Session(engine) as session:
        return ledger.balance(session, f"volunteer:{volunteer_id}:wallet").available


def test_racing_donations_never_overdraw_the_wallet(app, api, world, engine):
    give_points(app, world, "rider", 75)
    cause = publish_cause(api, target_points=1_000)
    rider = world.ids["rider"]

    answers = race(engine, rider, THREADS, lambda session, actor, i: donations.donate(
        session, actor, 10, f"race:donation:{i}", cause_id=cause["id"]).id)


    made = [a for a in answers if isinstance(a, int)]
    refused = [a for a in answers if not isinstance(a, int)]
    assert len(made) == 7
    assert all(isinstance(error, ledger.InsufficientPoints) for error in refused), refused
    assert wallet(engine, rider) == 5
    with Session(engine) as session:
        assert session.scalar(select(func.sum(Donation.amount_points))) == 70
        assert ledger.balance(session, "programme:fengxingxia:donations").posted == 70
    assert api.get(f"/causes/{cause['id']}", as_="rider").get_json()["raised_points"] == 70
    verified(engine)


def test_racing_donations_and_cash_outs_share_one_wallet(app, api, world, engine):
    give_points(app, world, "rider", 75)
    open_cash_out(api, minimum_points=10, monthly_maximum_points=1_000)
    rider = world.ids["rider"]

    def spend(session, actor, index):
        if index % 2:
            return donations.donate(session, actor, 10, f"race:mixed:{index}",
                                    programme_code="fengxingxia").amount_points
        return cash_out.request_cash_out(session, actor, "fengxingxia", 10,
                                         f"race:mixed:{index}").amount_points

    answers = race(engine, rider, THREADS, spend)
    spent = sum(a for a in answers if isinstance(a, int))
    assert spent == 70
    assert all(isinstance(a, int | ledger.InsufficientPoints) for a in answers), answers
    assert wallet(engine, rider) == 5
    with Session(engine) as session:
        cashed = session.scalar(select(func.coalesce(func.sum(CashOutRequest.amount_fen), 0)))
        assert ledger.balance(session, f"volunteer:{rider}:cash").posted == cashed
    verified(engine)


def test_racing_cash_outs_keep_the_monthly_maximum(app, api, world, engine):
    give_points(app, world, "rider", 500)
    open_cash_out(api, minimum_points=10, monthly_maximum_points=50)
    rider = world.ids["rider"]

    answers = race(engine, rider, 12, lambda session, actor, i: cash_out.request_cash_out(
        session, actor, "fengxingxia", 10, f"race:month:{i}").id)

    assert len([a for a in answers if isinstance(a, int)]) == 5
    assert all(isinstance(a, int | LimitReached) for a in answers), answers
    assert wallet(engine, rider) == 450
    verified(engine)


def test_racing_donations_never_pass_the_cause_target(app, api, world, engine):
    give_points(app, world, "rider", 300)
    cause = publish_cause(api, target_points=50)
    rider = world.ids["rider"]

    answers = race(engine, rider, 10, lambda session, actor, i: donations.donate(
        session, actor, 10, f"race:target:{i}", cause_id=cause["id"]).id)

    assert len([a for a in answers if isinstance(a, int)]) == 5
    assert all(isinstance(a, int | CauseNotOpen | Invalid) for a in answers), answers
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["raised_points"], shown["status"]) == (50, "completed")
    assert wallet(engine, rider) == 250
    verified(engine)


@pytest.mark.parametrize("earmarked", [True, False])
def test_one_idempotency_key_from_many_threads_donates_once(app, api, world, engine,
                                                            earmarked):
    give_points(app, world, "rider", 100)
    cause = publish_cause(api, target_points=500)
    rider = world.ids["rider"]
    where = {"cause_id": cause["id"]} if earmarked else {"programme_code": "fengxingxia"}

    answers = race(engine, rider, 8, lambda session, actor, i: donations.donate(
        session, actor, 10, "race:same-key", **where).id)

    ids = {a for a in answers if isinstance(a, int)}
    assert len(ids) == 1, answers
    assert wallet(engine, rider) == 90
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Donation)) == 1
    verified(engine)
