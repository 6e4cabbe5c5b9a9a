"""Redemption at the service layer, by both paths: through the ORM (``redeem_with_orm``, every
database) and PostgreSQL's one function call (``redeem_in_postgres``). Both write the same rows,
refuse alike leaving nothing written, answer a retry with the first redemption, and seal."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import ledger
from ledger.models import UnsealedEntry
from merchants import tokens, vouchers
from merchants.errors import (
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherInvalid,
    VoucherWrongMerchant,
)
from merchants.models import Redemption, Voucher
from tests.concurrency import run_threads
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops
from volunteers.errors import Forbidden
from volunteers.models import Notification, User

pytestmark = pytest.mark.commits

KEY = "redeem-test-key"
# The function path is PostgreSQL's: its SQLite copies are skipped before any set-up.
POSTGRES_ONLY_PARAMS = {"function": "merchants_redeem_voucher is PostgreSQL's"}
PATHS = {"orm": vouchers.redeem_with_orm, "function": vouchers.redeem_in_postgres}


@pytest.fixture
def engine(app, world):
    from web.extensions import db

    with app.app_context():
        yield db.engine


@pytest.fixture(params=sorted(PATHS))
def redeem(request):
    return PATHS[request.param]


@pytest.fixture
def shops(engine, world):
    with Session(engine) as session:
        found = build_shops(session, world, stock=20, per_person_limit=5)
        session.commit()
    return found


def take(engine, world, shops, name="rider", count=1) -> list[int]:
    with Session(engine) as session:
        person = session.get(User, world.ids[name])
        taken = [vouchers.issue_voucher(session, person, shops.offer,
                                        idempotency_key=f"take:{name}:{number}")[0].id
                 for number in range(count)]
        session.commit()
    return taken


def till(session, shops, name="till") -> User:
    return session.get(User, shops.ids[name])


def state(session) -> dict:
    """Everything a refused scan must leave as it was (read in the scanning transaction)."""
    session.expire_all()
    return {
        "accounts": sorted(tuple(row) for row in session.execute(select(
            ledger.Account.code, ledger.Account.posted, ledger.Account.pending_in,
            ledger.Account.pending_out))),
        "entries": session.scalar(select(func.count()).select_from(ledger.Entry)),
        "vouchers": sorted(tuple(row) for row in session.execute(select(
            Voucher.id, Voucher.status, Voucher.redeemed_at))),
        "redemptions": session.scalar(select(func.count()).select_from(Redemption)),
        "notifications": session.scalar(select(func.count()).select_from(Notification)),
    }


def what_was_written(session, voucher_id: int) -> dict:
    """The rows a redemption writes, without ids and clocks."""
    redemption = session.scalar(select(Redemption).where(Redemption.voucher_id == voucher_id))
    entry = ledger.get_entry(session, redemption.entry_id)
    hold = session.get(Voucher, voucher_id).hold_entry_id
    told = session.scalars(select(Notification).where(
        Notification.reference == f"voucher:{voucher_id}")).all()
    return {
        "voucher": session.get(Voucher, voucher_id).status,
        "redemption": (redemption.merchant_id, redemption.staff_user_id,
                       redemption.price_points, redemption.settlement_id),
        "entry": (entry.kind, entry.status, entry.reference, entry.memo, entry.created_by,
                  entry.pending_id == hold, entry.expires_at, entry.reverses_id,
                  sorted((p.account.code, p.amount, p.unit) for p in entry.postings)),
        "notifications": [(n.user_id, n.message, n.params, n.link) for n in told],
    }


@pytest.mark.postgres_only("the function path is PostgreSQL's")
def test_both_paths_write_the_same_rows(engine, world, shops):
    first, second = take(engine, world, shops, count=2)
    answers = {}
    with Session(engine) as session:
        for voucher_id, path in ((first, "orm"), (second, "function")):
            answers[path] = PATHS[path](session, till(session, shops), tokens.sign(KEY, voucher_id),
                                        key=KEY, idempotency_key=f"scan:{path}")
        session.commit()
        written = {path: what_was_written(session, voucher_id)
                   for voucher_id, path in ((first, "orm"), (second, "function"))}
        wallet = ledger.balance(session, world.wallet("rider"))
        accepted = ledger.balance(session, f"merchant:{shops.merchant}:accepted")
    rename = {f"voucher:{first}": "voucher:N", f"voucher:{second}": "voucher:N",
              f"/vouchers/{first}": "/vouchers/N", f"/vouchers/{second}": "/vouchers/N"}

    def same(value):
        return rename.get(value, value) if isinstance(value, str) else value

    def normalised(rows: dict) -> dict:
        entry = tuple(same(part) for part in rows["entry"])
        return {**rows, "entry": entry,
                "notifications": [tuple(same(part) for part in note)
                                  for note in rows["notifications"]]}

    assert normalised(written["orm"]) == normalised(written["function"])
    assert written["function"]["voucher"] == "redeemed"
    assert len(written["function"]["notifications"]) == 1
    for path, voucher_id in (("orm", first), ("function", second)):
        answer = answers[path]
        assert (answer.voucher_id, answer.merchant_id, answer.price_points, answer.offer_title,
                answer.merchant_name, answer.created) == (
            voucher_id, shops.merchant, OFFER_PRICE_POINTS, "盖碗茶一杯", "大丰老茶馆", True)
    assert (wallet.posted, wallet.pending) == (RIDER_POINTS - 2 * OFFER_PRICE_POINTS, 0)
    assert (accepted.posted, accepted.pending) == (2 * OFFER_PRICE_POINTS, 0)


def test_a_redemption_moves_the_points_once_and_a_second_scan_is_refused(engine, world, shops,
                                                                         redeem):
    voucher_id, = take(engine, world, shops)
    with Session(engine) as session:
        answer = redeem(session, till(session, shops), tokens.sign(KEY, voucher_id), key=KEY,
                        idempotency_key="scan:1")
        session.commit()
        assert answer.created and answer.voucher_id == voucher_id
        assert session.get(Redemption, answer.redemption_id).entry_id == answer.entry_id
        before = state(session)
        with pytest.raises(VoucherAlreadyRedeemed):
            redeem(session, till(session, shops, "till2"), tokens.sign(KEY, voucher_id), key=KEY,
                   idempotency_key="scan:2")
        assert state(session) == before
        wallet = ledger.balance(session, world.wallet("rider"))
        assert (wallet.posted, wallet.pending) == (RIDER_POINTS - OFFER_PRICE_POINTS, 0)


def test_a_retry_with_the_key_answers_the_first_redemption(engine, world, shops, redeem):
    voucher_id, = take(engine, world, shops)
    with Session(engine) as session:
        short_code = session.get(Voucher, voucher_id).short_code
        first = redeem(session, till(session, shops), short_code, key=KEY,
                       idempotency_key="scan:1")
        session.commit()
        before = state(session)
        retry = redeem(session, till(session, shops), tokens.display_short_code(short_code),
                       key=KEY, idempotency_key="scan:1")
        assert state(session) == before
    assert retry.created is False
    assert {**first.__dict__, "created": False} == retry.__dict__


def test_the_key_of_another_vouchers_redemption_is_a_conflict(engine, world, shops, redeem):
    first, second = take(engine, world, shops, count=2)
    with Session(engine) as session:
        redeem(session, till(session, shops), tokens.sign(KEY, first), key=KEY,
               idempotency_key="scan:1")
        session.commit()
        before = state(session)
        with pytest.raises(ledger.IdempotencyConflict):
            redeem(session, till(session, shops), tokens.sign(KEY, second), key=KEY,
                   idempotency_key="scan:1")
        assert state(session) == before


def expire(engine, voucher_id: int) -> None:
    with Session(engine) as session:
        session.execute(update(Voucher).where(Voucher.id == voucher_id).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()


def cancel(engine, world, voucher_id: int) -> None:
    with Session(engine) as session:
        vouchers.cancel_voucher(session, session.get(User, world.ids["rider"]), voucher_id)
        session.commit()


@pytest.mark.parametrize("case, refusal", [
    ("expired", VoucherExpired),
    ("cancelled", VoucherInvalid),
    ("other_merchant", VoucherWrongMerchant),
    ("forged", VoucherInvalid),
    ("unknown_short_code", VoucherInvalid),
    ("not_a_code", VoucherInvalid),
    ("volunteer", Forbidden),
])
def test_every_refusal_has_its_code_and_writes_nothing(engine, world, shops, redeem, case,
                                                       refusal):
    voucher_id, = take(engine, world, shops)
    if case == "expired":
        expire(engine, voucher_id)
    if case == "cancelled":
        cancel(engine, world, voucher_id)
    code = {"forged": tokens.sign("another key", voucher_id),
            "unknown_short_code": "ZZZZ-ZZZZ", "not_a_code": "给我积分"}.get(
        case, tokens.sign(KEY, voucher_id))
    with Session(engine) as session:
        scanner = {"other_merchant": till(session, shops, "other_till"),
                   "volunteer": session.get(User, world.ids["rider"])}.get(
            case, till(session, shops))
        before = state(session)
        with pytest.raises(refusal):
            redeem(session, scanner, code, key=KEY, idempotency_key="scan:1")
        assert state(session) == before


def test_a_hold_settled_behind_the_vouchers_back_is_refused_and_the_voucher_kept(
        engine, world, shops, redeem):
    voucher_id, = take(engine, world, shops)
    with Session(engine) as session:
        hold = session.get(Voucher, voucher_id).hold_entry_id
        ledger.void_hold(session, hold, idempotency_key="voided-elsewhere")
        session.commit()
        before = state(session)
        with pytest.raises(VoucherExpired):
            redeem(session, till(session, shops), tokens.sign(KEY, voucher_id), key=KEY,
                   idempotency_key="scan:1")
        if redeem is vouchers.redeem_in_postgres:
            assert state(session) == before  # the function undid its own change
        session.rollback()
        assert state(session) == before


# --- what changes between the read and the write (PostgreSQL) ----------------------------------


def stale_read(monkeypatch, meanwhile):
    """``redeem_in_postgres`` reads the voucher, then ``meanwhile()`` commits a change in
    another session before the function call."""
    read = vouchers._scan
    changes = [meanwhile]

    def scan_then_change(*args):
        rows = read(*args)
        if changes:
            changes.pop()()  # once: the change itself may scan
        return rows

    monkeypatch.setattr(vouchers, "_scan", scan_then_change)


@pytest.mark.parametrize("change, refusal", [
    ("redeemed_by_another_till", VoucherAlreadyRedeemed),
    ("cancelled", VoucherInvalid),
    ("expired", VoucherExpired),
])
@pytest.mark.postgres_only("the function path is PostgreSQL's")
def test_the_function_refuses_what_changed_since_the_read(engine, world, shops, monkeypatch,
                                                          change, refusal):
    voucher_id, = take(engine, world, shops)

    def meanwhile():
        if change == "redeemed_by_another_till":
            with Session(engine) as other:
                vouchers.redeem_with_orm(other, till(other, shops, "till2"),
                                         tokens.sign(KEY, voucher_id), key=KEY,
                                         idempotency_key="other-till")
                other.commit()
        elif change == "cancelled":
            cancel(engine, world, voucher_id)
        else:
            expire(engine, voucher_id)

    stale_read(monkeypatch, meanwhile)
    with Session(engine) as session:
        with pytest.raises(refusal):
            vouchers.redeem_in_postgres(session, till(session, shops),
                                        tokens.sign(KEY, voucher_id), key=KEY,
                                        idempotency_key="scan:1")
        after = state(session)
        session.rollback()
        assert state(session) == after
        assert after["redemptions"] == (1 if change == "redeemed_by_another_till" else 0)


@pytest.mark.postgres_only("the function path is PostgreSQL's")
def test_a_retry_racing_its_first_attempt_gets_the_first_answer(engine, world, shops,
                                                                monkeypatch):
    voucher_id, = take(engine, world, shops)
    first = {}

    def meanwhile():
        with Session(engine) as other:
            first["answer"] = vouchers.redeem_in_postgres(
                other, till(other, shops), tokens.sign(KEY, voucher_id), key=KEY,
                idempotency_key="scan:1")
            other.commit()

    stale_read(monkeypatch, meanwhile)
    with Session(engine) as session:
        retry = vouchers.redeem_in_postgres(session, till(session, shops),
                                            tokens.sign(KEY, voucher_id), key=KEY,
                                            idempotency_key="scan:1")
    assert retry.created is False
    assert retry.redemption_id == first["answer"].redemption_id
    assert retry.redeemed_at == first["answer"].redeemed_at


# --- concurrent scans on PostgreSQL -------------------------------------------------------------


def run_together(engine, count: int, work) -> list:
    """``work(session, scanner, index)`` in ``count`` threads released at once, each a till
    of ``work.tills`` that commits and seals as a request does."""
    def scan(session, index):
        scanner = session.get(User, work.tills[index % len(work.tills)])
        answer = work(session, scanner, index)
        session.commit()
        ledger.seal(session)
        return answer

    return run_threads(engine, count, scan, commit=True)


@pytest.mark.postgres_only("concurrency is tested on PostgreSQL")
def test_a_double_scan_at_the_same_moment_redeems_once_by_either_path(engine, world, shops,
                                                                     redeem):
    voucher_id, = take(engine, world, shops)
    token = tokens.sign(KEY, voucher_id)

    def scan(session, scanner, index):
        return redeem(session, scanner, token, key=KEY, idempotency_key=f"scan:{index}")

    scan.tills = (shops.ids["till"], shops.ids["till2"])
    outcomes = run_together(engine, 2, scan)
    assert Counter(type(o).__name__ for o in outcomes) == {"Redeemed": 1,
                                                           "VoucherAlreadyRedeemed": 1}
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert session.scalar(select(func.count()).select_from(ledger.Entry).where(
            ledger.Entry.kind == "voucher_redeem")) == 1


@pytest.mark.postgres_only("concurrency is tested on PostgreSQL")
def test_retries_of_one_scan_at_the_same_moment_all_answer_the_one_redemption(
        engine, world, shops, redeem):
    voucher_id, = take(engine, world, shops)
    token = tokens.sign(KEY, voucher_id)

    def scan(session, scanner, index):
        return redeem(session, scanner, token, key=KEY, idempotency_key="till:scan-1")

    scan.tills = (shops.ids["till"],)
    outcomes = run_together(engine, 6, scan)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len({o.redemption_id for o in outcomes}) == 1
    assert sorted(o.created for o in outcomes) == [False] * 5 + [True]


@pytest.mark.postgres_only("concurrency is tested on PostgreSQL")
def test_every_entry_of_concurrent_redemptions_is_sealed(engine, world, shops):
    """Each scan seals after its commit; a sealer that finds the head taken skips, and what it
    leaves queued the next seal links (the next request's, or ``jindou ledger seal``)."""
    taken = take(engine, world, shops, count=3) + take(engine, world, shops, "rider2", count=3)

    def scan(session, scanner, index):
        return vouchers.redeem_voucher(session, scanner, tokens.sign(KEY, taken[index]),
                                       key=KEY, idempotency_key=f"scan:{index}")

    scan.tills = (shops.ids["till"], shops.ids["till2"])
    outcomes = run_together(engine, len(taken), scan)
    assert Counter(type(o).__name__ for o in outcomes) == {"Redeemed": len(taken)}
    with Session(engine) as session:
        left = session.scalar(select(func.count()).select_from(UnsealedEntry))
        assert ledger.seal(session) == left
        session.commit()
        assert session.scalar(select(func.count()).select_from(UnsealedEntry)) == 0
        report = ledger.verify(session)
        assert report.ok, report.problems
        assert report.sealed == report.entries


# --- what a till's request costs -------------------------------------------------------------


class Statements:
    """The SQL statements an engine runs while counted."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def record(self, _connection, _cursor, statement, *_args):
        if statement != "BEGIN IMMEDIATE":  # SQLite's transaction start (ledger.db)
            self.seen.append(" ".join(statement.split()))

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self.record)
        return self.seen

    def __exit__(self, *_exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self.record)


def test_the_till_api_knows_who_scans_in_one_query_and_redeems_in_two(app, api, engine, world,
                                                                      shops):
    voucher_id, = take(engine, world, shops)
    api.token("till")
    with Statements(engine) as seen:
        response = api.post("/vouchers/redeem", as_="till",
                            json={"code": tokens.sign(app.config["JINDOU_VOUCHER_KEY"],
                                                      voucher_id)})
    assert response.status_code == 200, response.get_json()
    who = [s for s in seen if "FROM users" in s or "role_grants" in s or "api_tokens" in s]
    assert len(who) == 1, seen
    assert "JOIN api_tokens" in who[0] and "role_grants" in who[0]
    if engine.dialect.name == "postgresql":
        assert len(seen) == 4, seen  # who, the voucher, merchants_redeem_voucher, ledger_seal
        assert "merchants_redeem_voucher" in seen[2] and "ledger_seal" in seen[3]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(UnsealedEntry)) == 0


def test_a_signed_in_page_loads_its_user_and_roles_in_one_query(app, engine, world, shops):
    from flask import session as browser_session

    from web.auth import load_user
    from web.extensions import db

    with app.test_request_context("/till"), Statements(engine) as seen:
        browser_session["generation"] = 0  # a current session (issue 19: sessions that end)
        user = load_user(str(shops.ids["till"]))
        assert user.roles == ["merchant"]
        assert sorted(grant.area.code for grant in user.grants) == ["dafeng", "sanyuan"]
        db.session.remove()
    assert len(seen) == 1, seen
