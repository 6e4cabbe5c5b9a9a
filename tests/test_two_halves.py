"""The ledger's rules that exist twice, as PostgreSQL stored functions and as the ORM path
SQLite takes, write the same rows and refuse alike: one scenario runs on PostgreSQL once
through the functions and once through the ORM half (chosen in one place,
``ledger.ddl.has_stored_functions``), and the two databases must hold the same accounts,
entries, postings, yearly totals and chain, and have given the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import ledger
import ledger.ddl
from ledger import Payee, Payout, Posting
from ledger.models import ChainLink
from tests.databases import create_schema
from tests.test_migrations import postgres_database, postgres_or_skip

pytestmark = pytest.mark.postgres

P = "POINT"


def award(key: str, code: str, amount: int) -> dict:
    return {"idempotency_key": key, "kind": "manual_award",
            "postings": [Posting("world:points", -amount, P), Posting(code, amount, P)]}


def spend(key: str, code: str, amount: int) -> dict:
    return {"idempotency_key": key, "kind": "spend",
            "postings": [Posting(code, -amount, P), Posting("shop", amount, P)]}


def answer(value) -> object:
    if isinstance(value, ledger.Result):
        return ("created" if value.created else "existing",)
    if isinstance(value, ledger.LedgerError):
        return (type(value).__name__, value.details.get("index"))
    if isinstance(value, list):
        return [answer(item) for item in value]
    return value


def run(session: Session, name: str, action) -> tuple:
    try:
        value = action()
    except ledger.LedgerError as error:
        session.rollback()
        return name, answer(error)
    session.commit()
    return name, answer(value)


def scenario(session: Session) -> list:
    for code, unit, kind, no_overdraft in (
            ("world:points", P, "equity", False), ("v:1", P, "liability", True),
            ("v:2", P, "liability", True), ("shop", P, "liability", False),
            ("v:1:cash", "CNY", "liability", True)):
        ledger.open_account(session, code, unit, kind, no_overdraft=no_overdraft)
    session.commit()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    ids: dict[str, int] = {}

    def keep(name, action):
        result = action()
        ids[name] = result.entry_id
        return result

    def hold(key, amount):
        return keep(key, lambda: ledger.hold(session, expires_at=tomorrow, **spend(key, "v:1",
                                                                                    amount)))

    steps = [
        ("award", lambda: keep("a1", lambda: ledger.post(session, **award("a1", "v:1", 100)))),
        ("retry", lambda: ledger.post(session, **award("a1", "v:1", 100))),
        ("conflict", lambda: ledger.post(session, **award("a1", "v:1", 99))),
        ("overdraft", lambda: ledger.post(session, **spend("s1", "v:1", 150))),
        ("unknown", lambda: ledger.post(session, **award("u1", "v:9", 5))),
        ("unit", lambda: ledger.post(session, **award("m1", "v:1:cash", 5))),
        ("hold", lambda: hold("h1", 60)),
        ("hold over", lambda: hold("h9", 50)),
        ("settle", lambda: ledger.post_hold(session, ids["h1"], idempotency_key="p1")),
        ("settle retry", lambda: ledger.post_hold(session, ids["h1"], idempotency_key="p1")),
        ("settle twice", lambda: ledger.post_hold(session, ids["h1"], idempotency_key="p2")),
        ("hold 2", lambda: hold("h2", 20)),
        ("void", lambda: ledger.void_hold(session, ids["h2"], idempotency_key="x2")),
        # The reversal moves v:2's last credit back to the award before (ledger_post's
        # ledger_latest_standing_credit, service.latest_standing_credit).
        ("award 3", lambda: ledger.post(session, **award("a3", "v:2", 7))),
        ("award 2", lambda: keep("a2", lambda: ledger.post(session, **award("a2", "v:2", 30)))),
        ("reverse", lambda: ledger.reverse(session, ids["a2"], idempotency_key="r2")),
        ("reverse twice", lambda: ledger.reverse(session, ids["a2"], idempotency_key="r3")),
        ("close", lambda: ledger.close_account(session, "v:2")),
        ("closed", lambda: ledger.post(session, **award("a4", "v:2", 5))),
        ("many", lambda: ledger.post_many(session, [award("b1", "v:1", 5),
                                                    spend("b2", "v:1", 10)])),
        ("many refused", lambda: ledger.post_many(session, [award("b3", "v:1", 5),
                                                            spend("b4", "v:1", 500)])),
        ("many retry", lambda: ledger.post_many(session, [award("b1", "v:1", 5)])),
        ("each", lambda: ledger.post_each(session, [award("e1", "v:1", 1),
                                                    spend("e2", "v:1", 900),
                                                    award("e3", "v:2", 1),
                                                    award("e4", "v:1", 2)])),
        ("pay out", lambda: ledger.pay_out(
            session, Payout("world:points", P, "bonus", "bonus:1"),
            [Payee("v:1", 10), Payee("v:4", 5, owner_id=4)])),
        ("pay out retry", lambda: ledger.pay_out(
            session, Payout("world:points", P, "bonus", "bonus:1"),
            [Payee("v:1", 10), Payee("v:4", 5, owner_id=4)])),
        ("pay out refused", lambda: ledger.pay_out(
            session, Payout("v:1", P, "bonus", "bonus:2"), [Payee("v:5", 10_000)])),
        ("seal", lambda: ledger.seal_all(session)),
    ]
    return [run(session, name, action) for name, action in steps]


def rows(session: Session) -> dict:
    """The ledger's tables, with ids and moments replaced by what they stand for (sequence
    values and clock readings differ between two runs; what they point at must not). Not the
    fingerprints and hashes: they cover ids and moments."""
    entries = session.scalars(select(ledger.Entry).order_by(ledger.Entry.id)).all()
    key_of = {entry.id: entry.idempotency_key for entry in entries}
    moment_of = {entry.created_at: entry.idempotency_key for entry in entries}
    accounts = session.scalars(select(ledger.Account).order_by(ledger.Account.code)).all()
    code_of = {account.id: account.code for account in accounts}
    postings = session.scalars(select(ledger.PostingRow).order_by(ledger.PostingRow.id)).all()
    totals = session.scalars(select(ledger.AccountTotal)).all()
    links = session.scalars(select(ChainLink).order_by(ChainLink.seq)).all()
    return {
        "accounts": [(a.code, a.unit, a.kind, a.owner_id, a.no_overdraft, a.closed, a.posted,
                      a.pending_in, a.pending_out) for a in accounts],
        "entries": sorted((e.idempotency_key, e.kind, e.status, key_of.get(e.pending_id),
                           key_of.get(e.reverses_id), e.reference, e.memo)
                          for e in entries),
        "postings": sorted((key_of[p.entry_id], code_of[p.account_id], p.unit, p.amount,
                            p.posted_after, moment_of[p.created_at]) for p in postings),
        "totals": sorted((code_of[t.account_id], t.year, t.kind, t.credited, t.debited,
                          moment_of.get(t.last_credit_at)) for t in totals),
        "chain": [key_of[link.entry_id] for link in links],
    }


def run_scenario(url: str) -> tuple[list, dict]:
    engine = create_engine(url)
    create_schema(engine)
    with Session(engine) as session:
        answers = scenario(session)
        found = rows(session)
        report = ledger.verify(session)
        assert report.ok, report.problems
    engine.dispose()
    return answers, found


def test_the_orm_half_writes_the_rows_of_the_stored_functions(monkeypatch):
    server_url = postgres_or_skip()
    with postgres_database(server_url, "functions") as functions_url, \
            postgres_database(server_url, "orm") as orm_url:
        by_functions = run_scenario(functions_url)
        monkeypatch.setattr(ledger.ddl, "has_stored_functions", lambda bind: False)
        by_orm = run_scenario(orm_url)
    answers, found = by_functions
    assert by_orm[0] == answers
    assert by_orm[1] == found
    # The scenario reaches every refusal it means to, so the comparison covers them.
    assert dict(answers) | {"seal": None} == {
        "award": ("created",), "retry": ("existing",),
        "conflict": ("IdempotencyConflict", None), "overdraft": ("InsufficientPoints", None),
        "unknown": ("UnknownAccount", None), "unit": ("UnitMismatch", None),
        "hold": ("created",), "hold over": ("InsufficientPoints", None),
        "settle": ("created",), "settle retry": ("existing",),
        "settle twice": ("HoldNotPending", None), "hold 2": ("created",), "void": ("created",),
        "award 2": ("created",), "reverse": ("created",),
        "reverse twice": dict(answers)["reverse twice"], "award 3": ("created",),
        "close": None, "closed": ("AccountClosed", None),
        "many": [("created",), ("created",)], "many refused": ("InsufficientPoints", 1),
        "many retry": [("existing",)],
        "each": [("created",), ("InsufficientPoints", 1), ("AccountClosed", 2), ("created",)],
        "pay out": [("created",)], "pay out retry": [("existing",)],
        "pay out refused": ("InsufficientPoints", None), "seal": None,
    }
    assert dict(answers)["reverse twice"][0] in {"AlreadyReversed", "NotReversible"}
    assert len(found["chain"]) == len(found["entries"])
    # The reversal took a2's 30 back and moved the last credit back to a3.
    assert ("v:2", "manual_award", 7, 0, "a3") in {
        (code, kind, credited, debited, last) for code, _year, kind, credited, debited, last
        in found["totals"]}
