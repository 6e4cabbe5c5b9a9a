"""``ledger.pay_out``: one source pays many accounts (year-end bonuses), on SQLite and
PostgreSQL: what it writes is what ``post_many`` would, missing accounts are opened, and a
refusal writes nothing."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Payee, Payout, Posting
from tests.concurrency import run_threads

FUND = "programme:p:fund"
PAYOUT = Payout(source=FUND, unit="CNY", kind="ranking_bonus", key_prefix="bonus:2025",
                reference="ranking:1", memo="2025 年度荣誉奖金", actor="admin",
                payee_owner_type="volunteer")


def funded(session, fen: int) -> None:
    ledger.open_account(session, "world:cny", "CNY", "equity")
    ledger.open_account(session, FUND, "CNY", "asset", no_overdraft=True)
    ledger.post(session, idempotency_key="funding", kind="funding",
                postings=[Posting("world:cny", -fen, "CNY"), Posting(FUND, fen, "CNY")])
    session.commit()


def cash(volunteer_id: int) -> str:
    return f"volunteer:{volunteer_id}:cash"


def payees(count: int, fen: int = 100) -> list[Payee]:
    return [Payee(cash(v), fen + v, v) for v in range(1, count + 1)]


def state(session) -> tuple:
    session.expire_all()
    accounts = session.execute(select(ledger.Account.code, ledger.Account.posted)
                               .order_by(ledger.Account.code)).all()
    counts = [session.scalar(select(func.count()).select_from(model))
              for model in (ledger.Entry, ledger.PostingRow, ledger.AccountTotal)]
    return tuple(accounts), tuple(counts)


def test_a_payout_opens_and_credits_every_payee_in_entries_of_64_postings(session):
    funded(session, 10**9)
    ledger.open_account(session, cash(7), "CNY", "liability", owner_type="volunteer",
                        owner_id=7)
    ledger.post(session, idempotency_key="earlier", kind="cash_out",
                postings=[Posting(FUND, -5, "CNY"), Posting(cash(7), 5, "CNY")])
    session.commit()
    wanted = payees(150)
    results = ledger.pay_out(session, PAYOUT, wanted)
    session.commit()
    assert [r.created for r in results] == [True, True, True]  # 63 + 63 + 24 payees
    total = sum(p.amount for p in wanted)
    assert ledger.balance(session, FUND).posted == 10**9 - 5 - total
    assert ledger.balance(session, cash(1)).posted == 101
    assert ledger.balance(session, cash(7)).posted == 5 + 107
    assert ledger.balance(session, cash(150)).posted == 250
    opened = ledger.get_account(session, cash(150))
    assert (opened.kind, opened.owner_type, opened.owner_id, opened.no_overdraft) == (
        "liability", "volunteer", 150, False)
    entries = [ledger.get_entry(session, r.entry_id) for r in results]
    assert [len(e.postings) for e in entries] == [64, 64, 25]
    assert [e.idempotency_key for e in entries] == [f"bonus:2025:{n}" for n in range(3)]
    assert {(e.kind, e.memo, e.reference) for e in entries} == {
        ("ranking_bonus", "2025 年度荣誉奖金", "ranking:1")}
    year = ledger.rules.year_of(entries[0].created_at)
    # Money accounts keep no yearly totals (only points accounts do: rankings read them).
    assert ledger.yearly_totals(session, [cash(1), cash(7), FUND], year, ["ranking_bonus"]) == {}
    ledger.seal_all(session)
    report = ledger.verify(session)
    assert report.problems == [] and report.entries == 5


def test_the_same_payout_again_answers_the_first_entries(session):
    funded(session, 10**9)
    first = ledger.pay_out(session, PAYOUT, payees(70))
    session.commit()
    before = state(session)
    again = ledger.pay_out(session, PAYOUT, payees(70))
    session.commit()
    assert again == [ledger.Result(r.entry_id, False) for r in first]
    assert state(session) == before
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.pay_out(session, PAYOUT, payees(70, fen=200))
    session.rollback()
    assert state(session) == before


@pytest.mark.parametrize(("problem", "fund"), [
    ("insufficient", 10_000), ("unit", 10_000), ("unit", 1_000_000), ("closed", 10_000),
    ("closed", 1_000_000), ("unknown_source", 10_000),
])
def test_a_refused_payout_writes_nothing(session, problem, fund):
    """A refused payee is named first, whether or not the fund could pay everyone."""
    funded(session, fund)
    ledger.open_account(session, "volunteer:3:wallet", "POINT", "liability")
    ledger.open_account(session, cash(4), "CNY", "liability")
    if problem == "closed":
        ledger.close_account(session, cash(4))
    session.commit()
    wanted = payees(100)
    payout = PAYOUT
    if problem == "unit":
        wanted[2] = Payee("volunteer:3:wallet", 10, 3)
    if problem == "unknown_source":
        payout = Payout(source="programme:nowhere:fund", unit="CNY", kind="ranking_bonus",
                        key_prefix="bonus:x")
    before = state(session)
    expected = {"insufficient": ledger.InsufficientFunds, "unit": ledger.UnitMismatch,
                "closed": ledger.AccountClosed, "unknown_source": ledger.UnknownAccount}
    with pytest.raises(expected[problem]):
        ledger.pay_out(session, payout, wanted)
    session.rollback()
    assert state(session) == before


@pytest.mark.parametrize("wanted", [
    [Payee(cash(1), 0, 1)], [Payee(cash(1), -5, 1)], [Payee(cash(1), 5, 1)] * 2,
    [Payee(FUND, 5)], [Payee(cash(1), 1.5, 1)],
], ids=["zero", "negative", "twice", "itself", "float"])
def test_bad_payees_are_refused_before_anything_is_written(session, wanted):
    funded(session, 10_000)
    before = state(session)
    with pytest.raises(ledger.InvalidEntry):
        ledger.pay_out(session, PAYOUT, wanted)
    assert state(session) == before


@pytest.mark.commits
@pytest.mark.postgres_only("concurrency is tested on PostgreSQL; SQLite serialises every writer")
def test_payouts_racing_on_one_fund_never_overdraw_it(engine):
    with Session(engine) as session:
        funded(session, 30_000)  # room for two payouts of 100 x 101..200 fen = 15,050 each

    def pay(session, index):
        payout = Payout(source=FUND, unit="CNY", kind="ranking_bonus",
                        key_prefix=f"race:{index}", payee_owner_type="volunteer")
        return ledger.pay_out(session, payout, payees(100))

    answers = run_threads(engine, 4, pay, commit=True)
    refused = [a for a in answers if isinstance(a, ledger.InsufficientFunds)]
    assert len(refused) == 3
    with Session(engine) as session:
        assert ledger.balance(session, FUND).posted == 30_000 - 15_050
        assert ledger.balance(session, cash(100)).posted == 200
        ledger.seal_all(session)
        assert ledger.verify(session).problems == []
    engine.dispose()
