"""``ledger.post_many``: a batch behaves as ``post`` called for each entry in order, all or
nothing."""

import pytest
from sqlalchemy import func, select

import ledger
from ledger import Posting
from ledger.models import UnsealedEntry
from tests import factories


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_batch_moves_points_like_single_posts(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    results = ledger.post_many(session, [
        factories.transfer("batch-1", alice, bob, 30),
        factories.transfer("batch-2", bob, alice, 10),
        factories.transfer("batch-3", alice, bob, 5),
    ])
    session.commit()
    assert [result.created for result in results] == [True, True, True]
    assert len({result.entry_id for result in results}) == 3
    assert ledger.balance(session, alice).posted == 100 - 30 + 10 - 5
    assert ledger.balance(session, bob).posted == 30 - 10 + 5


def test_batch_records_running_balances_in_entry_order(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    ledger.post_many(session, [factories.transfer(f"run-{n}", alice, bob, 10) for n in range(3)])
    session.commit()
    lines = ledger.statement(session, alice)
    assert [line.posted_after for line in reversed(lines)] == [100, 90, 80, 70]


def test_batch_keeps_yearly_totals_and_sealing_queue(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    queued = count(session, UnsealedEntry)
    results = ledger.post_many(session, [
        factories.transfer("total-1", alice, bob, 7, kind="donation"),
        factories.transfer("total-2", alice, bob, 3, kind="donation"),
    ])
    session.commit()
    year = ledger.get_entry(session, results[0].entry_id).created_at.year
    assert ledger.yearly_totals(session, [bob], year, ["donation"]) == {bob: 10}
    assert count(session, UnsealedEntry) == queued + 2
    ledger.seal_all(session)
    assert ledger.verify(session).ok


def test_overdraft_anywhere_in_batch_refuses_the_whole_batch(session):
    alice = factories.wallet(session, 1, points=50)
    bob = factories.wallet(session, 2)
    session.commit()
    with pytest.raises(ledger.InsufficientPoints) as refused:
        ledger.post_many(session, [
            factories.transfer("over-1", alice, bob, 30),
            factories.transfer("over-2", alice, bob, 30),
        ])
    assert refused.value.details["index"] == 1
    assert refused.value.details["available"] == 20
    session.commit()
    assert ledger.balance(session, alice).posted == 50
    assert ledger.balance(session, bob).posted == 0


def test_points_received_earlier_in_batch_can_be_spent_later_in_it(session):
    alice = factories.wallet(session, 1, points=10)
    bob = factories.wallet(session, 2)
    session.commit()
    ledger.post_many(session, [factories.transfer("chain-1", alice, bob, 10),
                               factories.transfer("chain-2", bob, alice, 10)])
    session.commit()
    assert ledger.balance(session, bob).posted == 0


def test_unknown_account_refuses_the_batch(session):
    alice = factories.wallet(session, 1, points=10)
    session.commit()
    with pytest.raises(ledger.UnknownAccount):
        ledger.post_many(session,
                         [factories.transfer("unknown-1", alice, "volunteer:404:wallet", 1)])
    session.rollback()


def test_unbalanced_entry_refuses_the_batch_before_writing(session):
    alice = factories.wallet(session, 1, points=10)
    session.commit()
    unbalanced = dict(idempotency_key="bad-1", kind="transfer",
                      postings=[Posting(alice, -1, "POINT")])
    with pytest.raises(ledger.InvalidEntry):
        ledger.post_many(session, [unbalanced])


def test_retried_batch_returns_the_first_entries(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    batch = [factories.transfer("again-1", alice, bob, 10),
             factories.transfer("again-2", alice, bob, 20)]
    first = ledger.post_many(session, batch)
    session.commit()
    batch.append(factories.transfer("again-3", alice, bob, 5))
    second = ledger.post_many(session, batch)
    session.commit()
    assert [result.entry_id for result in second[:2]] == [r.entry_id for r in first]
    assert [result.created for result in second] == [False, False, True]
    assert ledger.balance(session, bob).posted == 35


def test_key_reused_for_different_content_is_a_conflict(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    ledger.post_many(session, [factories.transfer("reused-1", alice, bob, 10)])
    session.commit()
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.post_many(session, [factories.transfer("reused-1", alice, bob, 11)])
    session.rollback()
    assert ledger.balance(session, bob).posted == 10


def test_same_key_twice_in_one_batch_writes_one_entry(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    results = ledger.post_many(session, [factories.transfer("twice-1", alice, bob, 10),
                                         factories.transfer("twice-1", alice, bob, 10)])
    session.commit()
    assert results[0].entry_id == results[1].entry_id
    assert [result.created for result in results] == [True, False]
    assert ledger.balance(session, bob).posted == 10


def test_batch_larger_than_the_limit_is_refused(session):
    entries = [factories.transfer(f"big-{n}", "a", "b", 1)
               for n in range(ledger.service.MAX_BATCH_ENTRIES + 1)]
    with pytest.raises(ledger.InvalidEntry):
        ledger.post_many(session, entries)


def test_refused_batch_leaves_the_transaction_usable(session):
    alice = factories.wallet(session, 1, points=5)
    bob = factories.wallet(session, 2)
    session.commit()
    with pytest.raises(ledger.InsufficientPoints):
        ledger.post_many(session, [factories.transfer("usable-1", alice, bob, 6)])
    factories.move(session, alice, bob, 5)
    session.commit()
    assert ledger.balance(session, bob).posted == 5
