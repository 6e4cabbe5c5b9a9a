"""The programme budget as the hot account (issue 21): many earnings at once, each sent twice
at the same moment with one idempotency key (a client's retry racing its first attempt),
through one ``ledger.GroupPoster`` on PostgreSQL. The budget pays exactly what it holds, never
goes below zero, and no key posts twice, whether the twins meet in one batch or in two."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

import ledger
from ledger import Posting, Result
from ledger.models import Account, Entry
from ledger.models import Posting as PostingRow
from tests.test_ledger_group import run_threads

BUDGET = "programme:hot:budget"
EARNERS = 24
EARNINGS_PER_EARNER = 6
FUNDED_POINTS = 100  # fewer than the 24 x 6 distinct earnings of one point


def earning(earner: int, number: int) -> dict:
    return dict(idempotency_key=f"report:{earner}-{number}:reward", kind="report_reward",
                postings=[Posting(BUDGET, -1, "POINT"),
                          Posting(f"volunteer:{earner}:wallet", 1, "POINT")])


@pytest.mark.commits
@pytest.mark.postgres_only("races between PostgreSQL transactions")
def test_racing_retries_on_the_budget_post_each_key_once_and_never_overspend(engine, session):
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, BUDGET, "POINT", "equity", no_overdraft=True)
    for earner in range(EARNERS):
        ledger.open_account(session, f"volunteer:{earner}:wallet", "POINT", "liability",
                            no_overdraft=True)
    ledger.post(session, idempotency_key="funding:hot", kind="funding",
                postings=[Posting("world:points", -FUNDED_POINTS, "POINT"),
                          Posting(BUDGET, FUNDED_POINTS, "POINT")])
    session.commit()

    def earn(thread: int) -> list:
        earner = thread // 2  # two threads per earner send the same earnings at once
        answers = []
        for number in range(EARNINGS_PER_EARNER):
            try:
                answers.append(poster.post(**earning(earner, number)))
            except ledger.InsufficientPoints as error:
                answers.append(error)
        return answers

    with ledger.GroupPoster(sessionmaker(engine)) as poster:
        answers = run_threads(2 * EARNERS, earn)
    flat = [answer for thread in answers for answer in thread]
    assert not [answer for answer in flat
                if not isinstance(answer, Result | ledger.InsufficientPoints)], flat
    written = {answer.entry_id for answer in flat if isinstance(answer, Result)}
    assert len(written) == FUNDED_POINTS == poster.entries_written
    # Each twin got the same answer as its sibling: one entry, or both refused.
    for earner in range(EARNERS):
        for number in range(EARNINGS_PER_EARNER):
            first, second = (answers[2 * earner][number], answers[2 * earner + 1][number])
            if isinstance(first, Result) and isinstance(second, Result):
                assert first.entry_id == second.entry_id
                assert first.created != second.created
    session.expire_all()
    assert ledger.balance(session, BUDGET).posted == 0
    paid = session.scalar(select(func.sum(Account.posted)).where(
        Account.code.like("volunteer:%")))
    assert paid == FUNDED_POINTS
    assert session.scalar(select(func.count()).select_from(Entry).where(
        Entry.kind == "report_reward")) == FUNDED_POINTS
    assert session.scalar(select(func.min(PostingRow.posted_after)).join(
        Account, Account.id == PostingRow.account_id).where(Account.code == BUDGET)) == 0
    ledger.seal_all(session)
    assert ledger.verify(session).ok
