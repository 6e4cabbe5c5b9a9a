"""Sealing the hash chain: PostgreSQL's ``ledger_seal`` makes exactly the links the Python
sealer makes, skips while another sealer holds the head, and leaves nothing queued for good."""

from __future__ import annotations

import hashlib
import json
import random
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import ledger
from ledger import chain, rules
from ledger.models import ChainHead, ChainLink, UnsealedEntry
from tests import factories


@pytest.fixture
def pg_engine(engine):
    return engine


def postgres_seal(test):
    """A test of ``ledger_seal`` itself: PostgreSQL only, with real commits."""
    test = pytest.mark.postgres_only("ledger_seal is PostgreSQL's; SQLite seals in Python")(test)
    return pytest.mark.commits(test)


def award_many(session, count: int, *, prefix: str = "award") -> None:
    wallet = factories.wallet(session, 1)
    for number in range(count):
        ledger.post(session, idempotency_key=f"{prefix}:{number}", kind="check_in",
                    postings=[ledger.Posting("world:points", -1, "POINT"),
                              ledger.Posting(wallet, 1, "POINT")])
    session.commit()


def links(session) -> list[tuple]:
    return [tuple(row) for row in session.execute(
        select(ChainLink.seq, ChainLink.entry_id, ChainLink.prev_hash, ChainLink.hash)
        .order_by(ChainLink.seq))]


def queued(session) -> int:
    return session.scalar(select(func.count()).select_from(UnsealedEntry))


@postgres_seal
def test_postgres_sha256_gives_the_chain_link_of_the_rules(pg_engine):
    chooser = random.Random(20261130)
    cases = [(rules.GENESIS_HASH, 1, "f" * 64), ("a" * 64, 2**62, "0" * 64)] + [
        (f"{chooser.getrandbits(256):064x}", chooser.randint(1, 2**62),
         f"{chooser.getrandbits(256):064x}") for _ in range(200)]
    with pg_engine.connect() as connection:
        linked = connection.execute(text(
            "SELECT encode(sha256(convert_to(c->>0 || ':' || (c->>1)::bigint::text || ':' "
            "|| (c->>2), 'UTF8')), 'hex') FROM jsonb_array_elements(CAST(:cases AS jsonb)) "
            "WITH ORDINALITY AS x(c, n) ORDER BY n"),
            {"cases": json.dumps(cases)}).scalars().all()
    assert linked == [rules.chain_link(*case) for case in cases]
    assert cases[0][0] == "0" * 64 and rules.chain_link(*cases[0]) == hashlib.sha256(
        f"{'0' * 64}:1:{'f' * 64}".encode()).hexdigest()


@postgres_seal
def test_ledger_seal_makes_the_same_links_as_the_python_sealer(pg_engine):
    with Session(pg_engine) as session:
        award_many(session, 30)
        ledger.seal_all(session)  # a chain that does not start at the genesis
        award_many(session, 40, prefix="more")
        assert chain.seal(session, max_entries=25) == 25
        by_function = links(session)
        session.rollback()
        assert chain.seal_in_python(session, max_entries=25) == 25
        by_python = links(session)
        session.commit()
    assert by_function == by_python
    assert len(by_function) == 30 + 25


@postgres_seal
def test_either_sealer_continues_the_others_chain(pg_engine):
    with Session(pg_engine) as session:
        award_many(session, 10)
        for round_number, sealer in enumerate([chain.seal, chain.seal_in_python] * 3):
            assert sealer(session, max_entries=3) == 3
            session.commit()
            award_many(session, 2, prefix=f"round{round_number}")
        assert ledger.seal_all(session) == 10 + 12 - 18
        report = ledger.verify(session)
        assert (report.problems, report.entries, report.sealed) == ([], 22, 22)
        last_seq, _entry_id, _prev_hash, last_hash = links(session)[-1]
        assert tuple(session.execute(select(ChainHead.seq, ChainHead.hash)).one()) == (
            last_seq, last_hash)


@postgres_seal
def test_ledger_seal_with_nothing_queued_seals_nothing(pg_engine):
    with Session(pg_engine) as session:
        assert ledger.seal(session) == 0
        award_many(session, 3)
        assert ledger.seal(session) == 3
        session.commit()
        assert ledger.seal(session) == 0
        session.commit()
        assert ledger.verify(session).ok


@postgres_seal
def test_a_sealer_skips_while_another_holds_the_head_and_the_next_seal_catches_up(pg_engine):
    with Session(pg_engine) as session:
        award_many(session, 1, prefix="first")
        assert ledger.seal(session) == 1  # the head row exists from the first seal on
        session.commit()
        award_many(session, 5)
    holding = threading.Event()
    release = threading.Event()

    def hold_the_head():
        with Session(pg_engine) as session:
            assert ledger.seal(session, max_entries=2) == 2
            holding.set()
            release.wait(30)
            session.commit()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    assert holding.wait(30)
    with Session(pg_engine) as session:
        assert ledger.seal(session) == 0  # skipped, not blocked
        session.commit()
        assert queued(session) == 5  # the holder's links are not committed yet
    release.set()
    holder.join(30)
    with Session(pg_engine) as session:
        assert queued(session) == 3
        assert ledger.seal(session) == 3
        session.commit()
        assert queued(session) == 0
        report = ledger.verify(session)
        assert (report.problems, report.entries, report.sealed) == ([], 6, 6)


@pytest.mark.commits
def test_sealing_after_commit_seals_in_a_transaction_of_its_own(session):
    award_many(session, 4)
    assert ledger.seal_after_commit(session) == 4
    assert not session.in_transaction()
    assert queued(session) == 0
    report = ledger.verify(session)
    assert (report.problems, report.entries, report.sealed) == ([], 4, 4)
    award_many(session, 1, prefix="open")
    factories.wallet(session, 2)  # a transaction left open
    with pytest.raises(AssertionError):
        ledger.seal_after_commit(session)
