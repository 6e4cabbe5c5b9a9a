"""The ledger's services against a real database (each test on SQLite and on PostgreSQL)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, func, select, text

import ledger
from ledger import Posting
from tests import factories

CHINA = timezone(timedelta(hours=8))
START = datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC)


class Clock:
    """Stands in for ``ledger.clock.source`` so entries carry chosen moments."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(START)
    monkeypatch.setattr(ledger.clock, "source", clock)
    return clock


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def snapshot(session) -> tuple:
    """Everything a refused write must leave as it was."""
    session.expire_all()
    accounts = session.execute(
        select(ledger.Account.code, ledger.Account.posted, ledger.Account.pending_in,
               ledger.Account.pending_out).order_by(ledger.Account.code)
    ).all()
    totals = session.execute(
        select(ledger.AccountTotal.account_id, ledger.AccountTotal.year, ledger.AccountTotal.kind,
               ledger.AccountTotal.credited, ledger.AccountTotal.debited,
               ledger.AccountTotal.last_credit_at)
        .order_by(ledger.AccountTotal.account_id, ledger.AccountTotal.kind)
    ).all()
    return (tuple(accounts), tuple(totals), count(session, ledger.Entry),
            count(session, ledger.PostingRow))


def aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without a zone; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def award(session, code: str, amount: int, *, idem=None, kind="manual_award"):
    return ledger.post(session, idempotency_key=idem or factories.key("award"), kind=kind,
                       postings=[Posting("world:points", -amount, "POINT"),
                                 Posting(code, amount, "POINT")])


# --- posting ---------------------------------------------------------------------------------


def test_award_moves_points_from_the_world_into_a_wallet(session):
    wallet = factories.wallet(session, 1)
    result = award(session, wallet, 120, kind="report_reward")
    session.commit()
    assert result.created is True
    assert ledger.balance(session, wallet).posted == 120
    assert ledger.balance(session, wallet).available == 120
    assert ledger.balance(session, "world:points").posted == -120
    entry = ledger.get_entry(session, result.entry_id)
    assert (entry.kind, entry.status) == ("report_reward", "posted")
    assert sorted((p.account.code, p.amount) for p in entry.postings) == [
        (wallet, 120), ("world:points", -120)]


def test_transfer_moves_points_between_wallets(session):
    first = factories.wallet(session, 1, points=100)
    second = factories.wallet(session, 2, points=10)
    factories.move(session, first, second, 30, kind="donation")
    session.commit()
    assert ledger.balance(session, first).posted == 70
    assert ledger.balance(session, second).posted == 40
    assert ledger.balance(session, "world:points").posted == -110


def test_an_entry_touching_one_account_twice_is_merged(session):
    wallet = factories.wallet(session, 1)
    result = ledger.post(session, idempotency_key="split", kind="manual_award", postings=[
        Posting("world:points", -50, "POINT"), Posting(wallet, 20, "POINT"),
        Posting(wallet, 30, "POINT")])
    session.commit()
    entry = ledger.get_entry(session, result.entry_id)
    assert sorted(p.amount for p in entry.postings) == [-50, 50]
    assert ledger.balance(session, wallet).posted == 50


def test_retry_with_the_same_key_returns_the_first_entry_without_writing(session):
    wallet = factories.wallet(session, 1)
    first = award(session, wallet, 40, idem="report:9:reward")
    session.commit()
    before = snapshot(session)
    retry = ledger.post(session, idempotency_key="report:9:reward", kind="manual_award",
                        postings=[Posting(wallet, 40, "POINT"),
                                  Posting("world:points", -40, "POINT")])
    session.commit()
    assert retry == ledger.Result(first.entry_id, created=False)
    assert first.created is True
    assert snapshot(session) == before
    assert ledger.balance(session, wallet).posted == 40


@pytest.mark.parametrize(
    "change",
    [dict(amount=41), dict(kind="report_reward"), dict(memo="other"), dict(reference="r:2"),
     dict(target="volunteer:2:wallet")],
    ids=["amount", "kind", "memo", "reference", "account"],
)
def test_same_key_with_other_content_is_a_conflict_and_writes_nothing(session, change):
    wallet = factories.wallet(session, 1)
    factories.wallet(session, 2)
    first = ledger.post(session, idempotency_key="k", kind="manual_award", memo="m",
                        reference="r:1", postings=[Posting("world:points", -40, "POINT"),
                                                   Posting(wallet, 40, "POINT")])
    session.commit()
    before = snapshot(session)
    amount = change.get("amount", 40)
    target = change.get("target", wallet)
    with pytest.raises(ledger.IdempotencyConflict) as refusal:
        ledger.post(session, idempotency_key="k", kind=change.get("kind", "manual_award"),
                    memo=change.get("memo", "m"), reference=change.get("reference", "r:1"),
                    postings=[Posting("world:points", -amount, "POINT"),
                              Posting(target, amount, "POINT")])
    session.commit()
    assert refusal.value.code == "idempotency_conflict"
    assert refusal.value.details["entry_id"] == first.entry_id
    assert snapshot(session) == before


def test_posting_to_an_unknown_account_is_refused_and_writes_nothing(session):
    factories.wallet(session, 1)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.UnknownAccount) as refusal:
        award(session, "volunteer:404:wallet", 10)
    session.commit()
    assert refusal.value.details["account"] == "volunteer:404:wallet"
    assert snapshot(session) == before


def test_posting_in_another_unit_than_the_account_counts_is_refused(session):
    wallet = factories.wallet(session, 1, points=50)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.UnitMismatch):
        ledger.post(session, idempotency_key="cny-into-points", kind="cash_out",
                    postings=[Posting("world:cny", -10, "CNY"), Posting(wallet, 10, "CNY")])
    session.commit()
    assert snapshot(session) == before


def test_opening_an_existing_account_in_another_unit_is_refused(session):
    wallet = factories.wallet(session, 1)
    with pytest.raises(ledger.UnitMismatch):
        ledger.open_account(session, wallet, "CNY", "liability")
    assert ledger.open_account(session, wallet, "POINT", "liability").code == wallet


def test_posting_to_a_closed_account_is_refused_and_writes_nothing(session):
    wallet = factories.wallet(session, 1, points=50)
    ledger.close_account(session, wallet)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.AccountClosed):
        award(session, wallet, 10)
    with pytest.raises(ledger.AccountClosed):
        factories.move(session, wallet, "world:points", 10)
    session.commit()
    assert snapshot(session) == before
    assert ledger.balance(session, wallet).posted == 50


def test_spending_more_than_a_wallet_holds_is_refused_and_changes_nothing(session):
    wallet = factories.wallet(session, 1, points=30)
    shop = factories.merchant(session, 7)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.InsufficientPoints) as refusal:
        factories.move(session, wallet, shop, 31)
    session.commit()
    assert refusal.value.code == "insufficient_points"
    assert refusal.value.details == {"account": wallet, "available": 30}
    assert snapshot(session) == before
    factories.move(session, wallet, shop, 30)
    session.commit()
    assert ledger.balance(session, wallet).posted == 0


def test_a_no_overdraft_cash_account_refuses_with_insufficient_funds(session):
    factories.world(session)
    fund = "programme:xindu:fund"
    ledger.open_account(session, fund, "CNY", "asset", no_overdraft=True)
    ledger.post(session, idempotency_key="fund", kind="funding",
                postings=[Posting("world:cny", -500, "CNY"), Posting(fund, 500, "CNY")])
    session.commit()
    with pytest.raises(ledger.InsufficientFunds) as refusal:
        ledger.post(session, idempotency_key="pay", kind="cash_out",
                    postings=[Posting(fund, -501, "CNY"), Posting("world:cny", 501, "CNY")])
    assert refusal.value.code == "insufficient_funds"
    assert ledger.balance(session, fund).posted == 500


def test_the_world_account_may_go_negative(session):
    wallet = factories.wallet(session, 1, points=10**9)
    session.commit()
    assert ledger.balance(session, "world:points").posted == -10**9
    assert ledger.balance(session, wallet).posted == 10**9


@pytest.mark.parametrize(
    "postings",
    [
        [Posting("world:points", -10, "POINT"), Posting("volunteer:1:wallet", 9, "POINT")],
        [Posting("world:points", -10, "POINT"), Posting("volunteer:1:wallet", 10, "POINT"),
         Posting("volunteer:1:wallet", -10, "POINT"), Posting("world:points", 10, "POINT")],
        [Posting("world:points", 0, "POINT"), Posting("volunteer:1:wallet", 0, "POINT")],
    ],
    ids=["unbalanced", "nets-to-nothing", "zero"],
)
def test_a_malformed_entry_is_refused_and_writes_nothing(session, postings):
    factories.wallet(session, 1)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.InvalidEntry):
        ledger.post(session, idempotency_key="bad", kind="manual_award", postings=postings)
    session.commit()
    assert snapshot(session) == before


# --- holds -----------------------------------------------------------------------------------


def test_a_hold_reduces_available_points_but_not_posted(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    result = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    session.commit()
    assert result.created is True
    wallet_balance = ledger.balance(session, wallet)
    assert (wallet_balance.posted, wallet_balance.pending_out, wallet_balance.available) == (
        100, 60, 40)
    shop_balance = ledger.balance(session, shop)
    assert (shop_balance.posted, shop_balance.pending_in, shop_balance.pending) == (0, 60, 60)
    assert ledger.hold_state(session, result.entry_id) == "pending"
    with pytest.raises(ledger.InsufficientPoints):
        factories.move(session, wallet, shop, 41)
    with pytest.raises(ledger.InsufficientPoints):
        factories.voucher_hold(session, wallet, shop, 41, clock.moment + timedelta(days=1))


def test_a_hold_needs_a_deadline(session):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    with pytest.raises(ledger.InvalidEntry):
        factories.voucher_hold(session, wallet, shop, 10, None)


def test_posting_a_hold_in_full_moves_the_reserved_points(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    settled = ledger.post_hold(session, held.entry_id, idempotency_key="scan:1")
    session.commit()
    assert settled.created is True
    wallet_balance = ledger.balance(session, wallet)
    assert (wallet_balance.posted, wallet_balance.pending_out, wallet_balance.available) == (
        40, 0, 40)
    shop_balance = ledger.balance(session, shop)
    assert (shop_balance.posted, shop_balance.pending_in) == (60, 0)
    assert ledger.hold_state(session, held.entry_id) == "posted"
    settlement = ledger.get_entry(session, settled.entry_id)
    assert (settlement.status, settlement.pending_id) == ("posted", held.entry_id)


def test_posting_a_hold_for_less_releases_the_rest(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    ledger.post_hold(session, held.entry_id, idempotency_key="scan:1", amount=45)
    session.commit()
    wallet_balance = ledger.balance(session, wallet)
    assert (wallet_balance.posted, wallet_balance.pending_out, wallet_balance.available) == (
        55, 0, 55)
    shop_balance = ledger.balance(session, shop)
    assert (shop_balance.posted, shop_balance.pending_in) == (45, 0)


@pytest.mark.parametrize("amount", [61, 0, -5])
def test_posting_a_hold_for_more_than_held_or_nothing_is_refused(session, clock, amount):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.InvalidEntry):
        ledger.post_hold(session, held.entry_id, idempotency_key="scan:1", amount=amount)
    session.commit()
    assert snapshot(session) == before
    assert ledger.hold_state(session, held.entry_id) == "pending"


@pytest.mark.parametrize("first", ["post", "void"])
@pytest.mark.parametrize("second", ["post", "void"])
def test_second_settlement_of_a_hold_is_refused(session, clock, first, second):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    settle = {"post": ledger.post_hold, "void": ledger.void_hold}
    settle[first](session, held.entry_id, idempotency_key="settle:1")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.HoldNotPending) as refusal:
        settle[second](session, held.entry_id, idempotency_key="settle:2")
    session.commit()
    assert refusal.value.code == "hold_not_pending"
    assert snapshot(session) == before
    assert ledger.balance(session, wallet).posted == (40 if first == "post" else 100)


@pytest.mark.parametrize("settlement", ["post", "void"])
def test_retrying_a_settlement_with_its_key_returns_the_first_settlement(
    session, clock, settlement
):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    settle = {"post": ledger.post_hold, "void": ledger.void_hold}[settlement]
    first = settle(session, held.entry_id, idempotency_key="scan:1")
    session.commit()
    before = snapshot(session)
    retry = settle(session, held.entry_id, idempotency_key="scan:1")
    session.commit()
    assert retry == ledger.Result(first.entry_id, created=False)
    assert snapshot(session) == before


def test_settling_with_a_key_used_for_another_entry_is_a_conflict(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1),
                                  idem="hold:1")
    session.commit()
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.post_hold(session, held.entry_id, idempotency_key="hold:1")
    assert ledger.hold_state(session, held.entry_id) == "pending"


def test_voiding_a_hold_restores_available_points(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    held = factories.voucher_hold(session, wallet, shop, 60, clock.moment + timedelta(days=1))
    voided = ledger.void_hold(session, held.entry_id, idempotency_key="cancel:1")
    session.commit()
    wallet_balance = ledger.balance(session, wallet)
    assert (wallet_balance.posted, wallet_balance.pending_out, wallet_balance.available) == (
        100, 0, 100)
    assert ledger.balance(session, shop).pending_in == 0
    assert ledger.hold_state(session, held.entry_id) == "voided"
    assert ledger.get_entry(session, voided.entry_id).postings == []
    factories.move(session, wallet, shop, 100)
    session.commit()
    assert ledger.balance(session, wallet).available == 0


def test_expire_holds_voids_only_the_holds_past_their_deadline(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    soon = factories.voucher_hold(session, wallet, shop, 30, START + timedelta(hours=1))
    later = factories.voucher_hold(session, wallet, shop, 20, START + timedelta(hours=3))
    settled = factories.voucher_hold(session, wallet, shop, 10, START + timedelta(hours=1))
    ledger.void_hold(session, settled.entry_id, idempotency_key="cancel")
    session.commit()
    assert ledger.expire_holds(session, at=START + timedelta(minutes=59)) == []
    expired = ledger.expire_holds(session, at=START + timedelta(hours=1))
    session.commit()
    assert len(expired) == 1 and expired[0].created
    assert ledger.get_entry(session, expired[0].entry_id).pending_id == soon.entry_id
    assert ledger.hold_state(session, soon.entry_id) == "expired"
    assert ledger.hold_state(session, later.entry_id, at=START + timedelta(hours=2)) == "pending"
    assert ledger.balance(session, wallet).available == 80
    assert ledger.expire_holds(session, at=START + timedelta(hours=2)) == []
    assert len(ledger.expire_holds(session, at=START + timedelta(hours=5))) == 1
    session.commit()
    assert ledger.balance(session, wallet).available == 100


def test_posting_a_hold_after_its_deadline_is_refused(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    deadline = START + timedelta(hours=1)
    held = factories.voucher_hold(session, wallet, shop, 60, deadline)
    session.commit()
    before = snapshot(session)
    assert ledger.hold_state(session, held.entry_id, at=deadline) == "expired"
    with pytest.raises(ledger.HoldExpired):
        ledger.post_hold(session, held.entry_id, idempotency_key="scan", at=deadline)
    clock.moment = deadline + timedelta(seconds=1)
    with pytest.raises(ledger.HoldExpired):
        ledger.post_hold(session, held.entry_id, idempotency_key="scan")
    session.commit()
    assert snapshot(session) == before
    ledger.post_hold(session, held.entry_id, idempotency_key="scan",
                     at=deadline - timedelta(microseconds=1))
    session.commit()
    assert ledger.balance(session, shop).posted == 60


def test_a_deadline_given_in_china_time_keeps_its_instant(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    deadline = (START + timedelta(hours=1)).astimezone(CHINA)
    held = factories.voucher_hold(session, wallet, shop, 60, deadline)
    session.commit()
    stored = aware(ledger.get_entry(session, held.entry_id).expires_at)
    assert stored == deadline
    assert ledger.expire_holds(session, at=(START + timedelta(minutes=59)).astimezone(CHINA)) == []
    assert len(ledger.expire_holds(session, at=START + timedelta(hours=1))) == 1
    session.commit()
    ledger.seal_all(session)
    assert ledger.verify(session).problems == []


def test_holds_of_one_key_retried_return_the_first_hold(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    deadline = START + timedelta(days=1)
    first = factories.voucher_hold(session, wallet, shop, 60, deadline, idem="voucher:1")
    retry = factories.voucher_hold(session, wallet, shop, 60, deadline.astimezone(CHINA),
                                   idem="voucher:1")
    assert retry == ledger.Result(first.entry_id, created=False)
    with pytest.raises(ledger.IdempotencyConflict):
        factories.voucher_hold(session, wallet, shop, 60, deadline + timedelta(seconds=1),
                               idem="voucher:1")
    session.commit()
    assert ledger.balance(session, wallet).pending_out == 60


# --- reversals -------------------------------------------------------------------------------


def test_a_reversal_restores_balances_and_counts_against_the_original_kind(session, clock):
    wallet = factories.wallet(session, 1)
    reward = award(session, wallet, 80, kind="report_reward")
    award(session, wallet, 20, kind="report_reward")
    clock.advance(days=1)
    reversal = ledger.reverse(session, reward.entry_id, idempotency_key="reverse:report:1",
                              memo="report was false", actor="admin:1")
    session.commit()
    assert ledger.balance(session, wallet).posted == 20
    assert ledger.balance(session, "world:points").posted == -20
    entry = ledger.get_entry(session, reversal.entry_id)
    assert (entry.kind, entry.reverses_id, entry.created_by) == (
        "reversal", reward.entry_id, "admin:1")
    assert ledger.yearly_totals(session, [wallet], 2024, ["report_reward"]) == {wallet: 20}
    assert ledger.yearly_totals(session, [wallet], 2024, ["reversal"]) == {}
    ledger.seal_all(session)
    assert ledger.verify(session).ok


def test_a_reversal_in_the_next_year_counts_against_the_year_of_the_original(session, clock):
    wallet = factories.wallet(session, 1)
    clock.moment = datetime(2023, 12, 31, 15, 0, 0, tzinfo=UTC)  # 23:00 in Chengdu
    reward = award(session, wallet, 80, kind="report_reward")
    clock.moment = datetime(2023, 12, 31, 16, 30, 0, tzinfo=UTC)  # 00:30 on 1 January
    award(session, wallet, 15, kind="report_reward")
    ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    session.commit()
    assert ledger.yearly_totals(session, [wallet], 2023, ["report_reward"]) == {wallet: 0}
    assert ledger.yearly_totals(session, [wallet], 2024, ["report_reward"]) == {wallet: 15}
    ledger.seal_all(session)
    assert ledger.verify(session).problems == []


def test_a_reversal_that_would_overdraw_is_refused(session):
    wallet = factories.wallet(session, 1)
    shop = factories.merchant(session, 7)
    reward = award(session, wallet, 100)
    factories.move(session, wallet, shop, 70)
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.InsufficientPoints) as refusal:
        ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    session.commit()
    assert refusal.value.details["available"] == 30
    assert snapshot(session) == before


def test_reversing_an_entry_twice_is_refused(session):
    wallet = factories.wallet(session, 1)
    reward = award(session, wallet, 100)
    ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ledger.AlreadyReversed):
        ledger.reverse(session, reward.entry_id, idempotency_key="reverse:2")
    session.commit()
    assert snapshot(session) == before


def test_retrying_a_reversal_with_its_key_returns_the_first_reversal(session):
    wallet = factories.wallet(session, 1)
    reward = award(session, wallet, 100)
    first = ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    session.commit()
    retry = ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    assert retry == ledger.Result(first.entry_id, created=False)
    assert ledger.balance(session, wallet).posted == 0


def test_only_posted_entries_that_are_not_reversals_can_be_reversed(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    reward = award(session, wallet, 10)
    reversal = ledger.reverse(session, reward.entry_id, idempotency_key="reverse:1")
    held = factories.voucher_hold(session, wallet, shop, 5, START + timedelta(days=1))
    voided = ledger.void_hold(session, held.entry_id, idempotency_key="void:1")
    session.commit()
    for entry_id in (reversal.entry_id, held.entry_id, voided.entry_id):
        with pytest.raises(ledger.NotReversible):
            ledger.reverse(session, entry_id, idempotency_key=f"again:{entry_id}")
    with pytest.raises(ledger.UnknownEntry):
        ledger.reverse(session, 10**6, idempotency_key="missing")


# --- reads -----------------------------------------------------------------------------------


def test_yearly_totals_count_what_was_earned_in_the_china_year_not_what_is_left(session, clock):
    wallet = factories.wallet(session, 1)
    other = factories.wallet(session, 2)
    shop = factories.merchant(session, 7)
    clock.moment = datetime(2023, 12, 31, 15, 59, 59, tzinfo=UTC)
    award(session, wallet, 10, kind="report_reward")
    clock.moment = datetime(2023, 12, 31, 16, 0, 0, tzinfo=UTC)  # midnight in Chengdu
    award(session, wallet, 25, kind="report_reward")
    award(session, wallet, 5, kind="service_hours")
    award(session, other, 7, kind="report_reward")
    factories.move(session, wallet, shop, 30, kind="voucher_redeem")
    session.commit()
    kinds = ["report_reward", "service_hours"]
    assert ledger.yearly_totals(session, [wallet, other], 2023, kinds) == {wallet: 10}
    assert ledger.yearly_totals(session, [wallet, other], 2024, kinds) == {wallet: 30, other: 7}
    assert ledger.yearly_totals(session, [wallet], 2024, ["report_reward"]) == {wallet: 25}
    assert ledger.balance(session, wallet).posted == 10


def last_credit(session, code: str, year: int, kind: str) -> datetime | None:
    session.expire_all()
    moment = session.scalar(
        select(ledger.AccountTotal.last_credit_at)
        .join(ledger.Account, ledger.Account.id == ledger.AccountTotal.account_id)
        .where(ledger.Account.code == code, ledger.AccountTotal.year == year,
               ledger.AccountTotal.kind == kind))
    return aware(moment) if moment else None


def test_the_yearly_totals_keep_when_the_latest_standing_credit_was_posted(session, clock):
    wallet = factories.wallet(session, 1)
    shop = factories.merchant(session, 7)
    first = award(session, wallet, 10, kind="report_reward")
    clock.advance(hours=1)
    second = award(session, wallet, 20, kind="report_reward")
    clock.advance(hours=1)
    third_at = clock()
    third = award(session, wallet, 30, kind="report_reward")
    clock.advance(hours=1)
    award(session, wallet, 5, kind="service_hours")
    factories.move(session, wallet, shop, 5, kind="voucher_redeem")
    session.commit()
    assert last_credit(session, wallet, 2024, "report_reward") == third_at
    assert last_credit(session, wallet, 2024, "service_hours") == clock()
    assert last_credit(session, wallet, 2024, "voucher_redeem") is None  # a debit
    clock.advance(days=1)
    ledger.reverse(session, second.entry_id, idempotency_key="reverse:2")
    session.commit()
    assert last_credit(session, wallet, 2024, "report_reward") == third_at
    ledger.reverse(session, third.entry_id, idempotency_key="reverse:3")
    session.commit()
    assert last_credit(session, wallet, 2024, "report_reward") == START
    ledger.reverse(session, first.entry_id, idempotency_key="reverse:1")
    session.commit()
    assert last_credit(session, wallet, 2024, "report_reward") is None
    ledger.seal_all(session)
    assert ledger.verify(session).problems == []


def test_a_reversal_next_year_moves_back_the_last_credit_of_the_original_year(session, clock):
    wallet = factories.wallet(session, 1)
    clock.moment = datetime(2023, 12, 31, 10, 0, 0, tzinfo=UTC)
    award(session, wallet, 5, kind="report_reward")
    clock.moment = datetime(2023, 12, 31, 15, 0, 0, tzinfo=UTC)  # 23:00 in Chengdu
    late = award(session, wallet, 80, kind="report_reward")
    clock.moment = datetime(2024, 1, 2, 1, 0, 0, tzinfo=UTC)
    award(session, wallet, 15, kind="report_reward")
    ledger.reverse(session, late.entry_id, idempotency_key="reverse:late")
    session.commit()
    assert last_credit(session, wallet, 2023, "report_reward") == datetime(
        2023, 12, 31, 10, 0, 0, tzinfo=UTC)
    assert last_credit(session, wallet, 2024, "report_reward") == clock()


def test_a_batch_keeps_the_last_credit_of_each_account(session, clock):
    alice = factories.wallet(session, 1, points=100)
    bob = factories.wallet(session, 2)
    session.commit()
    clock.advance(days=3)
    ledger.post_many(session, [factories.transfer("batch-1", alice, bob, 30)])
    session.commit()
    assert last_credit(session, bob, 2024, "transfer") == clock()
    assert last_credit(session, alice, 2024, "transfer") is None


def test_verify_names_a_last_credit_moment_that_the_postings_do_not_give(session, clock):
    wallet = factories.wallet(session, 1)
    award(session, wallet, 10, kind="report_reward")
    session.commit()
    ledger.seal_all(session)
    assert ledger.verify(session).ok
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text(
        "UPDATE ledger_account_totals SET last_credit_at = :moment"
        " WHERE kind = 'report_reward' AND credited > 0"),
        {"moment": START - timedelta(days=1)})
    session.commit()
    problems = [str(problem) for problem in ledger.verify(session).problems]
    assert len(problems) == 1 and "last credited" in problems[0]


def test_balance_at_gives_the_posted_balance_between_entries(session, clock):
    wallet = factories.wallet(session, 1)
    shop = factories.merchant(session, 7)
    award(session, wallet, 100)                          # 09:00
    clock.advance(hours=1)
    factories.move(session, wallet, shop, 30)            # 10:00
    clock.advance(hours=1)
    factories.voucher_hold(session, wallet, shop, 50, START + timedelta(days=1))  # 11:00
    clock.advance(hours=1)
    award(session, wallet, 5)                            # 12:00
    session.commit()
    expected = [
        (START - timedelta(microseconds=1), 0),
        (START, 100),
        (START + timedelta(minutes=59), 100),
        (START + timedelta(hours=1), 70),
        (START + timedelta(hours=2, minutes=30), 70),
        (START + timedelta(hours=3), 75),
        (START + timedelta(days=3), 75),
    ]
    assert [(moment, ledger.balance_at(session, wallet, moment)) for moment, _ in expected] == (
        expected)
    assert ledger.balance_at(session, shop, START + timedelta(hours=2)) == 30


def test_balance_at_reads_a_moment_given_in_china_time_as_its_instant(session, clock):
    wallet = factories.wallet(session, 1)
    award(session, wallet, 100)
    clock.advance(hours=1)
    award(session, wallet, 1)
    session.commit()
    between = (START + timedelta(minutes=30)).astimezone(CHINA)
    assert ledger.balance_at(session, wallet, between) == 100


def test_statement_pages_newest_first_with_running_balances(session, clock):
    wallet = factories.wallet(session, 1)
    shop = factories.merchant(session, 7)
    for amount in (10, 20, 30, 40, 50):
        award(session, wallet, amount, kind="report_reward")
        clock.advance(minutes=1)
    factories.move(session, wallet, shop, 25, kind="voucher_redeem")
    held = factories.voucher_hold(session, wallet, shop, 5, START + timedelta(days=1))
    session.commit()
    first_page = ledger.statement(session, wallet, page_size=3)
    assert [(line.kind, line.amount, line.posted_after) for line in first_page] == [
        ("voucher_hold", -5, None), ("voucher_redeem", -25, 125), ("report_reward", 50, 150)]
    assert first_page[0].entry_id == held.entry_id and first_page[0].status == "pending"
    second_page = ledger.statement(session, wallet, page_size=3,
                                   before_posting_id=first_page[-1].posting_id)
    assert [(line.amount, line.posted_after) for line in second_page] == [
        (40, 100), (30, 60), (20, 30)]
    last_page = ledger.statement(session, wallet, page_size=3,
                                 before_posting_id=second_page[-1].posting_id)
    assert [(line.amount, line.posted_after) for line in last_page] == [(10, 10)]
    assert ledger.statement(session, wallet, before_posting_id=last_page[-1].posting_id) == []
    ids = [line.posting_id for line in first_page + second_page + last_page]
    assert ids == sorted(ids, reverse=True)


def test_reading_an_unknown_account_is_refused(session):
    factories.world(session)
    for read in (ledger.balance, ledger.statement):
        with pytest.raises(ledger.UnknownAccount):
            read(session, "volunteer:404:wallet")
    with pytest.raises(ledger.UnknownAccount):
        ledger.balance_at(session, "volunteer:404:wallet", START)


def test_entries_lists_the_journal_newest_first_with_filters(session, clock):
    first = factories.wallet(session, 1)
    second = factories.wallet(session, 2)
    award(session, first, 10, kind="report_reward")
    clock.advance(hours=1)
    award(session, second, 20, kind="service_hours")
    award(session, first, 30, kind="service_hours")
    session.commit()
    assert [e.kind for e in ledger.entries(session)] == [
        "service_hours", "service_hours", "report_reward"]
    assert [sum(p.amount for p in e.postings if p.amount > 0)
            for e in ledger.entries(session, account=first)] == [30, 10]
    assert len(ledger.entries(session, kind="service_hours")) == 2
    assert len(ledger.entries(session, since=START + timedelta(minutes=30))) == 2
    newest = ledger.entries(session)[0]
    assert len(ledger.entries(session, before_id=newest.id)) == 2


# --- history is append-only ------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_entries SET memo = 'edited'",
        "UPDATE ledger_entries SET status = 'voided'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_chain SET hash = prev_hash",
        "DELETE FROM ledger_chain",
    ],
)
def test_history_cannot_be_updated_or_deleted(session, statement):
    wallet = factories.wallet(session, 1, points=100)
    factories.move(session, wallet, "world:points", 40)
    session.commit()
    ledger.seal_all(session)
    before = snapshot(session)
    report = ledger.verify(session)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert snapshot(session) == before
    assert ledger.verify(session) == report


def test_verify_after_seal_all_is_ok_with_the_right_counts(session, clock):
    wallet = factories.wallet(session, 1, points=100)
    shop = factories.merchant(session, 7)
    factories.move(session, wallet, shop, 10)
    held = factories.voucher_hold(session, wallet, shop, 20, START + timedelta(days=1))
    settled = ledger.post_hold(session, held.entry_id, idempotency_key="scan", amount=15)
    other = factories.voucher_hold(session, wallet, shop, 5, START + timedelta(days=1))
    ledger.void_hold(session, other.entry_id, idempotency_key="cancel")
    ledger.reverse(session, settled.entry_id, idempotency_key="undo-scan")
    session.commit()
    queued = ledger.verify(session)
    assert (queued.ok, queued.entries, queued.sealed) == (True, 7, 0)
    assert ledger.seal_all(session) == 7
    report = ledger.verify(session)
    assert (report.ok, report.entries, report.sealed, report.problems) == (True, 7, 7, [])
    award(session, wallet, 1)
    session.commit()
    assert ledger.seal_all(session) == 1
    report = ledger.verify(session)
    assert (report.ok, report.entries, report.sealed) == (True, 8, 8)
    assert ledger.seal_all(session) == 0


def test_verify_names_a_cached_balance_that_differs_from_its_postings(session):
    wallet = factories.wallet(session, 1, points=100)
    session.commit()
    session.execute(ledger.Account.__table__.update()
                    .where(ledger.Account.code == wallet).values(posted=101))
    session.commit()
    ledger.seal_all(session)
    report = ledger.verify(session)
    assert not report.ok
    assert [problem.account for problem in report.problems] == [wallet]


def test_moments_come_back_as_aware_utc_on_every_database(session):
    code = factories.wallet(session, 1, points=10)
    china = timezone(timedelta(hours=8))
    deadline = datetime(2027, 1, 1, 8, 0, tzinfo=china)
    held = ledger.hold(session, idempotency_key=factories.key("hold"), kind="voucher_hold",
                       postings=[Posting(code, -5, "POINT"), Posting("world:points", 5, "POINT")],
                       expires_at=deadline)
    session.commit()
    session.expire_all()
    entry = ledger.get_entry(session, held.entry_id)
    assert entry.expires_at == deadline
    assert entry.expires_at.utcoffset() == timedelta(0)
    assert entry.created_at.tzinfo is not None
