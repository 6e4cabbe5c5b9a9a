"""Stripe delivering one paid event several times at the same moment, on PostgreSQL: the
programme is funded once and every delivery is answered 200 with the same outcome."""

from __future__ import annotations

import threading

import pytest

from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign
from tests.payments_support import available
from tests.web_support import BUDGET_POINTS

DELIVERIES = 6
CARD_FEN = 20_000
JOIN_TIMEOUT_SECONDS = 120


@pytest.fixture
def fake_stripe():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


pytestmark = [pytest.mark.commits, pytest.mark.postgres_only(
    "concurrency is tested on PostgreSQL; SQLite serialises every writer")]


@pytest.fixture
def app(make_app, fake_stripe):
    return make_app(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                    STRIPE_API_BASE=fake_stripe.base_url)


def test_simultaneous_deliveries_of_one_event_fund_once(app, api, world, fake_stripe):
    started = api.post("/programmes/fengxingxia/card-funding", as_="xindu_admin",
                       json={"amount_fen": CARD_FEN}).get_json()
    payload = fake_stripe.completed_event(started["stripe_session_id"], event_id="evt_race")
    barrier = threading.Barrier(DELIVERIES, timeout=60)
    answers: list = [None] * DELIVERIES

    def deliver(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/stripe/webhook", data=payload,
                               headers={"Stripe-Signature": sign(payload)})
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert {status for status, _ in answers} == {200}, answers
    assert {body["outcome"] for _, body in answers} <= {"funded", "duplicate_session"}
    assert available(app, world.fund) == BUDGET_POINTS * 100 + CARD_FEN
    assert available(app, world.budget) == BUDGET_POINTS + CARD_FEN // 100
    funded = api.get("/ledger/entries?kind=funding", as_="root_admin").get_json()["items"]
    assert len(funded) == 2  # build_world's funding and this one
