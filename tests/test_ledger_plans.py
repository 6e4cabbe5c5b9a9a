"""``plan_post_hold``: the ``ledger_post`` document that settles a hold, built without loading
anything, for another package's PostgreSQL function; and ``accept_outcome`` reading the answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

import ledger
from ledger import Posting
from tests import factories

START = datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(ledger.clock, "source", lambda: START)
    return START


def voucher_hold(session, price: int = 60):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, price, START + timedelta(days=1),
                                  idem="hold:1")
    return wallet, shop, held.entry_id


def held_postings(wallet: str, shop: str, price: int = 60) -> list[Posting]:
    return [Posting(wallet, -price, "POINT"), Posting(shop, price, "POINT")]


def send(session, document: dict) -> ledger.Result:
    outcome = session.execute(text("SELECT ledger_post(CAST(:plan AS jsonb))"),
                              {"plan": json.dumps(document)}).scalar_one()
    return ledger.accept_outcome(session, document, outcome)


def test_the_document_is_the_entry_post_hold_writes(session, frozen):
    wallet, shop, hold_id = voucher_hold(session)
    document = ledger.plan_post_hold(
        hold_id, reversed(held_postings(wallet, shop)), idempotency_key="scan:1",
        kind="voucher_redeem", reference=None, memo=None, actor="till")
    settled = ledger.post_hold(session, hold_id, idempotency_key="scan:1", kind="voucher_redeem",
                               actor="till")
    session.commit()
    entry = ledger.get_entry(session, settled.entry_id)
    assert document["entry"]["pending_id"] == hold_id
    assert (entry.fingerprint, entry.hash) == (document["entry"]["fingerprint"],
                                               document["entry"]["hash"])
    assert document["effects"] == {wallet: [-60, 0, -60], shop: [60, -60, 0]}
    assert document["codes"] == sorted([wallet, shop])


def test_a_plan_without_postings_is_refused(session):
    with pytest.raises(ledger.InvalidEntry):
        ledger.plan_post_hold(1, [], idempotency_key="scan:1")


@pytest.fixture
def pg_session(session):
    return session


@pytest.mark.postgres_only("ledger_post is PostgreSQL's")
def test_ledger_post_of_the_document_settles_the_hold_like_post_hold(pg_session):
    session = pg_session
    wallet, shop, hold_id = voucher_hold(session)
    session.commit()
    session.info.pop("ledger_unsealed", None)
    document = ledger.plan_post_hold(hold_id, held_postings(wallet, shop),
                                     idempotency_key="scan:1", kind="voucher_redeem")
    settled = send(session, document)
    assert settled.created is True
    assert session.info.get("ledger_unsealed") is True
    session.commit()
    balance = ledger.balance(session, wallet)
    assert (balance.posted, balance.pending_out, balance.available) == (40, 0, 40)
    assert (ledger.balance(session, shop).posted, ledger.balance(session, shop).pending_in) == (
        60, 0)
    assert ledger.hold_state(session, hold_id) == "posted"
    assert send(session, document) == ledger.Result(settled.entry_id, False)
    again = ledger.plan_post_hold(hold_id, held_postings(wallet, shop),
                                  idempotency_key="scan:2", kind="voucher_redeem")
    entries = session.scalar(select(func.count()).select_from(ledger.Entry))
    with pytest.raises(ledger.HoldNotPending):
        send(session, again)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ledger.Entry)) == entries
    ledger.seal_all(session)
    assert ledger.verify(session).ok
