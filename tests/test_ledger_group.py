"""``ledger.post_each`` (each entry of a batch accepted or refused on its own) and
``ledger.GroupPoster`` (many threads' entries committed a batch per transaction), on both
databases."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import exc, func, select
from sqlalchemy.orm import Session, sessionmaker

import ledger
from ledger import Posting, Result
from ledger.models import Account
from ledger.models import Posting as PostingRow
from tests import factories

THREAD_COUNT = 16
ENTRIES_PER_THREAD = 12
HOT_FUNDED_POINTS = 120  # fewer than the 16 x 12 entries of one point each
JOIN_TIMEOUT_SECONDS = 120
# Long enough that every thread's entry joins the one batch, which then closes when full.
ONE_BATCH_WAIT_SECONDS = 1.0


def run_threads(count: int, work) -> list:
    """``work(index)`` in ``count`` threads started together: each one's answer or error."""
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = work(index)
        except Exception as error:  # the test inspects it
            answers[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return answers


def spend_all(poster, source: str, target: str, thread: int) -> list:
    answers = []
    for number in range(ENTRIES_PER_THREAD):
        try:
            entry = factories.transfer(f"hot-{thread}-{number}", source, target, 1)
            answers.append(poster.post(**entry))
        except ledger.LedgerError as error:
            answers.append(error)
    return answers


def lowest_running_balance(session, code: str) -> int:
    return session.scalar(
        select(func.min(PostingRow.posted_after))
        .join(Account, Account.id == PostingRow.account_id).where(Account.code == code))


# --- post_each ----------------------------------------------------------------------------


def test_post_each_writes_the_acceptable_and_answers_each_refusal_in_place(session):
    alice = factories.wallet(session, 1, points=10)
    bob = factories.wallet(session, 2)
    session.commit()
    unbalanced = dict(idempotency_key="each-bad", kind="transfer",
                      postings=[Posting(alice, -1, "POINT")])
    answers = ledger.post_each(session, [
        factories.transfer("each-1", alice, bob, 6),
        factories.transfer("each-2", alice, bob, 6),
        factories.transfer("each-3", alice, bob, 4),
        unbalanced,
        factories.transfer("each-4", bob, "volunteer:404:wallet", 1),
    ])
    session.commit()
    assert [type(answer) for answer in answers] == [
        Result, ledger.InsufficientPoints, Result, ledger.InvalidEntry, ledger.UnknownAccount]
    assert answers[1].details["index"] == 1
    assert answers[1].details["available"] == 4
    assert ledger.balance(session, alice).posted == 0
    assert ledger.balance(session, bob).posted == 10
    assert [line.posted_after for line in reversed(ledger.statement(session, alice))] == [
        10, 4, 0]


def test_post_each_gives_a_repeated_key_the_first_result(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    answers = ledger.post_each(session, [
        factories.transfer("twice-1", alice, bob, 10),
        factories.transfer("twice-1", alice, bob, 10),
        factories.transfer("twice-1", alice, bob, 11),
    ])
    session.commit()
    assert answers[0].created and answers[1] == Result(answers[0].entry_id, False)
    assert isinstance(answers[2], ledger.IdempotencyConflict)
    assert answers[2].details["entry_id"] == answers[0].entry_id
    assert ledger.balance(session, bob).posted == 10


def test_post_each_reuse_of_a_refused_entrys_key_is_a_new_entry(session):
    """As one post after another: the refused entry wrote nothing, so its key is free."""
    alice = factories.wallet(session, 1, points=10)
    bob = factories.wallet(session, 2)
    session.commit()
    answers = ledger.post_each(session, [
        factories.transfer("free-1", alice, bob, 20),
        factories.transfer("free-1", alice, bob, 5),
        factories.transfer("free-1", alice, bob, 5),
    ])
    session.commit()
    assert isinstance(answers[0], ledger.InsufficientPoints)
    assert answers[1].created and answers[2] == Result(answers[1].entry_id, False)
    assert ledger.balance(session, bob).posted == 5


def test_post_each_answers_keys_written_before_the_batch(session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    first = factories.move(session, alice, bob, 10, idem="before-1")
    session.commit()
    answers = ledger.post_each(session, [
        factories.transfer("before-1", alice, bob, 10),
        factories.transfer("before-1", alice, bob, 12),
        factories.transfer("before-2", alice, bob, 3),
    ])
    session.commit()
    assert answers[0] == Result(first.entry_id, False)
    assert isinstance(answers[1], ledger.IdempotencyConflict)
    assert answers[2].created
    assert ledger.balance(session, bob).posted == 13


# --- GroupPoster --------------------------------------------------------------------------


@pytest.mark.commits
def test_hot_account_pays_exactly_what_it_holds_and_never_goes_below_zero(engine, session):
    hot = factories.wallet(session, 1, points=HOT_FUNDED_POINTS)
    shop = factories.merchant(session)
    session.commit()
    with ledger.GroupPoster(sessionmaker(engine)) as poster:
        answers = run_threads(THREAD_COUNT, lambda thread: spend_all(poster, hot, shop, thread))
    flat = [answer for answers_of_thread in answers for answer in answers_of_thread]
    written = [answer for answer in flat if isinstance(answer, Result)]
    refused = [answer for answer in flat if isinstance(answer, ledger.InsufficientPoints)]
    assert len(written) == HOT_FUNDED_POINTS and all(result.created for result in written)
    assert len(refused) == THREAD_COUNT * ENTRIES_PER_THREAD - HOT_FUNDED_POINTS
    assert ledger.balance(session, hot).posted == 0
    assert ledger.balance(session, shop).posted == HOT_FUNDED_POINTS
    assert lowest_running_balance(session, hot) == 0
    assert poster.entries_written == HOT_FUNDED_POINTS
    assert poster.batches_committed < poster.entries_written, "no batch formed"
    ledger.seal_all(session)
    assert ledger.verify(session).ok


@pytest.mark.commits
def test_retry_through_the_poster_returns_the_first_entry(engine, session):
    alice = factories.wallet(session, 1, points=10)
    bob = factories.wallet(session, 2)
    session.commit()
    with ledger.GroupPoster(sessionmaker(engine)) as poster:
        first = poster.post(**factories.transfer("retry-1", alice, bob, 3))
        again = poster.post(**factories.transfer("retry-1", alice, bob, 3))
    assert first.created and again == Result(first.entry_id, False)
    assert ledger.balance(session, bob).posted == 3


@pytest.mark.commits
def test_refusals_in_a_batch_reach_only_their_own_callers(engine, session):
    alice = factories.wallet(session, 1, points=100)
    poor = factories.wallet(session, 2, points=1)
    bob = factories.wallet(session, 3)
    taken = factories.move(session, alice, bob, 1, idem="taken")
    session.commit()
    requests = [factories.transfer(f"share-{n}", alice, bob, 5) for n in range(6)]
    requests[2] = factories.transfer("taken", alice, bob, 2)
    requests[4] = factories.transfer("share-poor", poor, bob, 2)
    poster = ledger.GroupPoster(sessionmaker(engine), max_batch_entries=len(requests),
                                max_wait_seconds=ONE_BATCH_WAIT_SECONDS)
    with poster:
        answers = run_threads(len(requests), lambda n: poster.post(**requests[n]))
    assert poster.batches_committed == 1
    assert isinstance(answers[2], ledger.IdempotencyConflict)
    assert answers[2].details["entry_id"] == taken.entry_id
    assert isinstance(answers[4], ledger.InsufficientPoints)
    assert all(isinstance(answers[n], Result) and answers[n].created for n in (0, 1, 3, 5))
    assert ledger.balance(session, bob).posted == 1 + 4 * 5


class FailingCommitSession(Session):
    def commit(self) -> None:
        raise exc.OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))


@pytest.mark.commits
def test_a_failed_commit_reaches_every_caller_of_the_batch(engine, session):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    count = 4
    poster = ledger.GroupPoster(sessionmaker(engine, class_=FailingCommitSession),
                                max_batch_entries=count, max_wait_seconds=ONE_BATCH_WAIT_SECONDS)
    with poster:
        answers = run_threads(
            count, lambda n: poster.post(**factories.transfer(f"lost-{n}", alice, bob, 1)))
    assert all(isinstance(answer, exc.OperationalError) for answer in answers)
    assert poster.batches_committed == 0
    assert ledger.balance(session, bob).posted == 0


@pytest.mark.commits
def test_closed_poster_refuses_new_entries(engine, session):
    alice = factories.wallet(session, 1, points=10)
    bob = factories.wallet(session, 2)
    session.commit()
    poster = ledger.GroupPoster(sessionmaker(engine))
    poster.close()
    with pytest.raises(RuntimeError):
        poster.post(**factories.transfer("late-1", alice, bob, 1))


def test_poster_limits_are_checked():
    with pytest.raises(ValueError):
        ledger.GroupPoster(sessionmaker(), max_batch_entries=0)
    with pytest.raises(ValueError):
        ledger.GroupPoster(sessionmaker(), max_wait_seconds=-1)
