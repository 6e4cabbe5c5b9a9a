"""Properties of whole ledgers on real SQLite files, one file per hypothesis example: random
sequences of writes keep every invariant, and any single edit of stored history is caught by
``ledger.verify``."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting, PostingRow, ddl
from tests.databases import TestDatabase, create_schema

WALLETS = tuple(f"volunteer:{number}:wallet" for number in (1, 2, 3))
SHOP = "merchant:7:accepted"
FUND = "programme:xindu:fund"
BUDGET = "programme:xindu:budget"
HOLD_HOURS = 24

PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty schema with the append-only triggers, copied for every example."""
    path = tmp_path_factory.mktemp("ledger-template") / "template.sqlite3"
    engine = TestDatabase.engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    return path


@contextlib.contextmanager
def fresh_ledger(template: Path):
    """A copy of the template, an engine configured as the app configures it, and a session."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.sqlite3"
        shutil.copyfile(template, path)
        engine = TestDatabase.engine(f"sqlite:///{path}")
        try:
            with Session(engine) as session:
                open_chart(session)
                session.commit()
                yield path, engine, session
        finally:
            engine.dispose()


def open_chart(session) -> None:
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, "world:cny", "CNY", "equity")
    for code in WALLETS:
        ledger.open_account(session, code, "POINT", "liability", no_overdraft=True)
    ledger.open_account(session, SHOP, "POINT", "liability")
    ledger.open_account(session, FUND, "CNY", "asset", no_overdraft=True)
    ledger.open_account(session, BUDGET, "POINT", "equity", no_overdraft=True)


# --- random writes ---------------------------------------------------------------------------

wallet_indexes = st.integers(0, len(WALLETS) - 1)
small_amounts = st.integers(1, 200)
operations = st.one_of(
    st.tuples(st.just("award"), wallet_indexes, small_amounts),
    st.tuples(st.just("transfer"), wallet_indexes, wallet_indexes, small_amounts),
    st.tuples(st.just("spend"), wallet_indexes, small_amounts),
    st.tuples(st.just("fund"), small_amounts),
    st.tuples(st.just("earn"), wallet_indexes, small_amounts),
    st.tuples(st.just("hold"), wallet_indexes, small_amounts, st.booleans()),
    st.tuples(st.just("post_hold"), st.integers(0, 20), st.none() | small_amounts),
    st.tuples(st.just("void_hold"), st.integers(0, 20)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("reverse"), st.integers(0, 40)),
    st.tuples(st.just("retry"), st.integers(0, 40)),
)


@dataclass
class Book:
    """What the test expects: posted balances and reservations, from the writes that took."""

    posted: Counter = field(default_factory=Counter)
    pending_out: Counter = field(default_factory=Counter)
    pending_in: Counter = field(default_factory=Counter)
    entries: list = field(default_factory=list)  # (key, id, postings) of posted entries
    holds: list = field(default_factory=list)  # [id, postings, settled]
    created: int = 0
    refused: Counter = field(default_factory=Counter)


def write(session, book: Book, operation: tuple, number: int) -> None:
    """Apply one random operation; a refusal is a valid outcome and must write nothing."""
    name = operation[0]
    key = f"op-{number}"
    try:
        if name in ("award", "transfer", "spend", "fund", "earn"):
            postings = movement(operation)
            result = ledger.post(session, idempotency_key=key, kind=name, postings=postings)
            book.entries.append((key, name, result.entry_id, postings))
            apply(book.posted, postings)
        elif name == "hold":
            _, source, amount, expired = operation
            postings = [Posting(WALLETS[source], -amount, "POINT"), Posting(SHOP, amount, "POINT")]
            deadline = datetime.now(UTC) + timedelta(hours=-HOLD_HOURS if expired else HOLD_HOURS)
            result = ledger.hold(session, idempotency_key=key, kind="voucher_hold",
                                 postings=postings, expires_at=deadline)
            book.holds.append([result.entry_id, postings, False])
            book.pending_out[WALLETS[source]] += amount
            book.pending_in[SHOP] += amount
        elif name in ("post_hold", "void_hold"):
            settle(session, book, operation, key)
        elif name == "expire":
            for result in ledger.expire_holds(session):
                settled = next(h for h in book.holds if h[0] == ledger.get_entry(
                    session, result.entry_id).pending_id)
                release(book, settled)
                book.created += 1
            session.commit()
            return
        elif name == "reverse":
            reverse(session, book, operation[1], key)
        elif name == "retry":
            keyed = [entry for entry in book.entries if entry[0] is not None]
            if keyed:
                old_key, kind, entry_id, postings = keyed[operation[1] % len(keyed)]
                result = ledger.post(session, idempotency_key=old_key, kind=kind,
                                     postings=postings)
                assert result == ledger.Result(entry_id, created=False)
            return
        book.created += 1
        session.commit()
    except ledger.LedgerError as refusal:
        session.rollback()
        book.refused[refusal.code] += 1


def movement(operation: tuple) -> list[Posting]:
    name = operation[0]
    if name == "award":
        _, target, amount = operation
        return [Posting("world:points", -amount, "POINT"),
                Posting(WALLETS[target], amount, "POINT")]
    if name == "transfer":
        _, source, target, amount = operation
        return [Posting(WALLETS[source], -amount, "POINT"),
                Posting(WALLETS[target], amount, "POINT")]
    if name == "spend":
        _, source, amount = operation
        return [Posting(WALLETS[source], -amount, "POINT"), Posting(SHOP, amount, "POINT")]
    if name == "fund":  # money in, and the budget grows at 10 points a yuan: two units at once
        _, amount = operation
        return [Posting("world:cny", -amount * 100, "CNY"), Posting(FUND, amount * 100, "CNY"),
                Posting("world:points", -amount * 10, "POINT"),
                Posting(BUDGET, amount * 10, "POINT")]
    _, target, amount = operation  # earn: from the programme's budget
    return [Posting(BUDGET, -amount, "POINT"), Posting(WALLETS[target], amount, "POINT")]


def apply(balances: Counter, postings) -> None:
    for posting in postings:
        balances[posting.account] += posting.amount


def release(book: Book, hold: list) -> None:
    hold[2] = True
    for posting in hold[1]:
        if posting.amount < 0:
            book.pending_out[posting.account] += posting.amount
        else:
            book.pending_in[posting.account] -= posting.amount


def settle(session, book: Book, operation: tuple, key: str) -> None:
    if not book.holds:
        raise ledger.UnknownEntry("no hold yet")
    hold = book.holds[operation[1] % len(book.holds)]
    if operation[0] == "void_hold":
        ledger.void_hold(session, hold[0], idempotency_key=key)
        release(book, hold)
        return
    amount = operation[2]
    result = ledger.post_hold(session, hold[0], idempotency_key=key, amount=amount)
    moved = hold[1] if amount is None else [
        Posting(p.account, amount if p.amount > 0 else -amount, p.unit) for p in hold[1]]
    release(book, hold)
    apply(book.posted, moved)
    book.entries.append((None, "hold_post", result.entry_id, moved))


def reverse(session, book: Book, index: int, key: str) -> None:
    if not book.entries:
        raise ledger.UnknownEntry("no entry yet")
    _, _, entry_id, postings = book.entries[index % len(book.entries)]
    ledger.reverse(session, entry_id, idempotency_key=key)
    apply(book.posted, [Posting(p.account, -p.amount, p.unit) for p in postings])


def check_invariants(session, book: Book) -> None:
    session.expire_all()
    accounts = session.scalars(select(ledger.Account)).all()
    sums = Counter()
    for account in accounts:
        sums[account.unit] += account.posted
        assert account.posted == book.posted[account.code], account.code
        assert account.pending_out == book.pending_out[account.code], account.code
        assert account.pending_in == book.pending_in[account.code], account.code
        if account.no_overdraft:
            assert account.available >= 0, account.code
    assert sums == {"POINT": 0, "CNY": 0}
    postings = session.execute(
        select(PostingRow.unit, PostingRow.entry_id, func.sum(PostingRow.amount))
        .group_by(PostingRow.entry_id, PostingRow.unit)
    ).all()
    assert all(total == 0 for _, _, total in postings)


# Points in every wallet and money in the fund first, so that random spends mostly succeed.
ENDOWMENT = [("award", 0, 400), ("award", 1, 400), ("award", 2, 400), ("fund", 30)]


@PROPERTY_SETTINGS
@given(st.lists(operations, min_size=3, max_size=30))
def test_random_writes_keep_every_entry_balanced_and_the_ledger_verifiable(template, script):
    with fresh_ledger(template) as (_path, _engine, session):
        book = build(session, ENDOWMENT + script)
        check_invariants(session, book)
        assert ledger.seal_all(session) == book.created
        report = ledger.verify(session)
        assert report.problems == []
        assert (report.entries, report.sealed) == (book.created, book.created)
        event(f"entries written: {min(book.created // 10 * 10, 30)}+")
        for code in book.refused:
            event(f"refused: {code}")


# --- tampering -------------------------------------------------------------------------------

ENTRY_TEXT_FIELDS = ("kind", "memo", "reference", "created_by", "idempotency_key")
EDITS = ("posting_amount", "posting_account", "posting_posted_after", "posting_created_at",
         "entry_text", "entry_status", "entry_hash",
         "entry_created_at", "delete_newest_entry")
CHAIN_EDITS = ("link_prev_hash", "link_hash", "link_entry", "link_seq", "delete_link")


def build(session, script, book: Book | None = None, first_number: int = 0) -> Book:
    book = book or Book()
    for number, operation in enumerate(script, start=first_number):
        write(session, book, operation, number)
    return book


def other_hash(data, current: str) -> str:
    return data.draw(st.text("0123456789abcdef", min_size=64, max_size=64)
                     .filter(lambda value: value != current))


def tamper(path: Path, data, edit: str) -> str:
    """One edit of stored history through a plain connection, the way an intruder would."""
    connection = sqlite3.connect(path)
    try:
        rows = lambda sql, *args: connection.execute(sql, args).fetchall()  # noqa: E731
        entries = rows("SELECT id FROM ledger_entries ORDER BY id")
        entry_id = data.draw(st.sampled_from(entries))[0]
        if edit in ("posting_amount", "posting_account"):
            posting_id, account_id, amount = data.draw(st.sampled_from(
                rows("SELECT id, account_id, amount FROM ledger_postings ORDER BY id")))
            if edit == "posting_amount":
                value = amount + data.draw(st.integers(1, 10**6) | st.integers(-10**6, -1))
                value = value if value != 0 else value + 1
                connection.execute("UPDATE ledger_postings SET amount = ? WHERE id = ?",
                                   (value, posting_id))
            else:
                accounts = [row[0] for row in rows("SELECT id FROM ledger_accounts")]
                value = data.draw(st.sampled_from([a for a in accounts if a != account_id]))
                connection.execute("UPDATE ledger_postings SET account_id = ? WHERE id = ?",
                                   (value, posting_id))
        elif edit in ("posting_posted_after", "posting_created_at"):
            tamper_posting_cache(connection, rows, data, edit)
        elif edit == "entry_text":
            column = data.draw(st.sampled_from(ENTRY_TEXT_FIELDS))
            (current,) = rows(f"SELECT {column} FROM ledger_entries WHERE id = ?", entry_id)[0]
            taken = {row[0] for row in rows("SELECT idempotency_key FROM ledger_entries")}
            values = st.text(max_size=30).filter(lambda new: new not in taken | {current})
            if column in ("memo", "reference", "created_by") and current is not None:
                values = st.none() | values
            value = data.draw(values)
            connection.execute(f"UPDATE ledger_entries SET {column} = ? WHERE id = ?",
                               (value, entry_id))
            edit = f"entry_{column}"
        elif edit == "entry_status":
            (current,) = rows("SELECT status FROM ledger_entries WHERE id = ?", entry_id)[0]
            value = data.draw(st.sampled_from(
                [s for s in ("posted", "pending", "voided") if s != current]))
            connection.execute("UPDATE ledger_entries SET status = ? WHERE id = ?",
                               (value, entry_id))
        elif edit == "entry_hash":
            (current,) = rows("SELECT hash FROM ledger_entries WHERE id = ?", entry_id)[0]
            connection.execute("UPDATE ledger_entries SET hash = ? WHERE id = ?",
                               (other_hash(data, current), entry_id))
        elif edit == "entry_created_at":
            (current,) = rows("SELECT created_at FROM ledger_entries WHERE id = ?", entry_id)[0]
            moment = datetime.fromisoformat(current) + timedelta(
                microseconds=data.draw(st.integers(1, 10**9) | st.integers(-10**9, -1)))
            connection.execute("UPDATE ledger_entries SET created_at = ? WHERE id = ?",
                               (moment.strftime("%Y-%m-%d %H:%M:%S.%f"), entry_id))
        elif edit == "delete_newest_entry":
            newest = entries[-1][0]
            for statement in (
                "DELETE FROM ledger_postings WHERE entry_id = ?",
                "DELETE FROM ledger_unsealed WHERE entry_id = ?",
                "DELETE FROM ledger_chain WHERE entry_id = ?",
                "DELETE FROM ledger_entries WHERE id = ?",
            ):
                connection.execute(statement, (newest,))
        else:
            tamper_chain(connection, rows, data, edit)
        connection.commit()
    finally:
        connection.close()
    return edit


def tamper_posting_cache(connection, rows, data, edit: str) -> None:
    """What statements and balance_at read instead of the journal."""
    posting_id, posted_after, created_at = data.draw(st.sampled_from(rows(
        "SELECT id, posted_after, created_at FROM ledger_postings ORDER BY id")))
    if edit == "posting_posted_after":
        choices = st.integers(-10**6, 10**6) if posted_after is None else (
            st.none() | st.integers(1, 10**6).map(lambda delta: posted_after + delta))
        connection.execute("UPDATE ledger_postings SET posted_after = ? WHERE id = ?",
                           (data.draw(choices), posting_id))
    else:
        moment = datetime.fromisoformat(created_at) - timedelta(
            microseconds=data.draw(st.integers(1, 10**10)))
        connection.execute("UPDATE ledger_postings SET created_at = ? WHERE id = ?",
                           (moment.strftime("%Y-%m-%d %H:%M:%S.%f"), posting_id))


def tamper_chain(connection, rows, data, edit: str) -> None:
    seq, entry_id, prev_hash, link_hash = data.draw(st.sampled_from(
        rows("SELECT seq, entry_id, prev_hash, hash FROM ledger_chain ORDER BY seq")))
    if edit == "link_prev_hash":
        connection.execute("UPDATE ledger_chain SET prev_hash = ? WHERE seq = ?",
                           (other_hash(data, prev_hash), seq))
    elif edit == "link_hash":
        connection.execute("UPDATE ledger_chain SET hash = ? WHERE seq = ?",
                           (other_hash(data, link_hash), seq))
    elif edit == "link_entry":
        (highest,) = rows("SELECT max(id) FROM ledger_entries")[0]
        connection.execute("UPDATE ledger_chain SET entry_id = ? WHERE seq = ?",
                           (highest + data.draw(st.integers(1, 5)), seq))
    elif edit == "link_seq":
        (highest,) = rows("SELECT max(seq) FROM ledger_chain")[0]
        connection.execute("UPDATE ledger_chain SET seq = ? WHERE seq = ?",
                           (highest + data.draw(st.integers(1, 5)), seq))
    else:
        connection.execute("DELETE FROM ledger_chain WHERE seq = ?", (seq,))


# Every example starts from entries of each shape: posted, two-unit, held, settled, reversed.
OPENING = [("award", 0, 150), ("fund", 20), ("earn", 1, 60), ("hold", 0, 40, False),
           ("post_hold", 0, 30), ("hold", 1, 10, False), ("void_hold", 1), ("reverse", 2)]


@PROPERTY_SETTINGS
@given(
    later=st.lists(operations, max_size=10),
    sealing=st.sampled_from(["none", "all", "all-then-more"]),
    data=st.data(),
)
def test_any_single_edit_of_stored_history_is_detected(template, later, sealing, data):
    with fresh_ledger(template) as (path, engine, session):
        book = build(session, OPENING + later)
        if sealing != "none":
            ledger.seal_all(session)
        if sealing == "all-then-more":
            build(session, [("award", 2, 5), ("spend", 2, 5)], book, first_number=100)
        assert ledger.verify(session).ok
        edits = EDITS + (CHAIN_EDITS if sealing != "none" else ())
        edit = data.draw(st.sampled_from(edits), label="edit")
        session.close()
        with engine.begin() as connection:
            ddl.uninstall_v1(connection)
        edit = tamper(path, data, edit)
        event(edit)
        report = ledger.verify(session)
        assert not report.ok, f"{edit} went unnoticed"


@pytest.mark.parametrize("sealed", [False, True], ids=["queued", "sealed"])
@pytest.mark.parametrize("column", ["kind", "memo", "reference", "created_by", "status", "hash"])
def test_editing_one_entry_field_names_that_entry(template, sealed, column):
    with fresh_ledger(template) as (path, engine, session):
        build(session, OPENING)
        if sealed:
            ledger.seal_all(session)
        target = ledger.entries(session, kind="earn")[0].id
        session.close()
        with engine.begin() as connection:
            ddl.uninstall_v1(connection)
        value = {"status": "voided", "hash": "f" * 64}.get(column, "edited")
        connection = sqlite3.connect(path)
        connection.execute(f"UPDATE ledger_entries SET {column} = ? WHERE id = ?",
                           (value, target))
        connection.commit()
        connection.close()
        report = ledger.verify(session)
        assert report.first().entry_id == target
        assert "content does not match its hash" in str(report.first()) or column == "status"


def test_deleting_a_chain_link_is_detected(template):
    with fresh_ledger(template) as (path, engine, session):
        build(session, OPENING)
        assert ledger.seal_all(session) == 8
        session.close()
        with engine.begin() as connection:
            ddl.uninstall_v1(connection)
        connection = sqlite3.connect(path)
        connection.execute("DELETE FROM ledger_chain WHERE seq = 3")
        connection.commit()
        connection.close()
        report = ledger.verify(session)
        assert [(problem.entry_id, problem.what) for problem in report.problems] == [
            (4, "chain link 3 is missing"),
            (4, "hash chain broken"),
            (None, "the Merkle tree's stored nodes do not fold to the root of the sealed "
                   "entries"),
            (None, "8 entries but 7 sealed and 0 queued"),
        ]


def test_deleting_the_newest_entry_with_its_postings_is_detected(template):
    with fresh_ledger(template) as (path, engine, session):
        build(session, OPENING)
        ledger.seal_all(session)
        newest = ledger.entries(session)[0]
        assert newest.reverses_id is not None
        session.close()
        with engine.begin() as connection:
            ddl.uninstall_v1(connection)
        connection = sqlite3.connect(path)
        for statement in ("DELETE FROM ledger_postings WHERE entry_id = ?",
                          "DELETE FROM ledger_chain WHERE entry_id = ?",
                          "DELETE FROM ledger_entries WHERE id = ?"):
            connection.execute(statement, (newest.id,))
        connection.commit()
        connection.close()
        report = ledger.verify(session)
        problems = [problem.what for problem in report.problems]
        assert "the chain's head does not match its last link" in problems
        assert any("cached balances" in problem for problem in problems)
        assert any("yearly totals" in problem for problem in problems)
