"""The journal exported for Beancount, Ledger/hledger and CSV keeps the app's balances."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Posting, export
from tests import factories

TOOL_TIMEOUT_SECONDS = 60
ODD_VOLUNTEER = 'volunteer:Wang Wei "7"; ü\\:wallet'
TRICKY_MEMO = 'Stripe "cs_test"; 社治激励资金 C:\\batch\nsecond line'
NAME_PATTERN = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")


def build_journal(session) -> None:
    """Funding in CNY and points, awards, a hold posted for less, a voided hold, a hold still
    pending, a reversal, a donation, a cash-out, an expiry; odd and Chinese account codes."""
    factories.world(session)
    for code, unit, kind in (
        ("programme:wuhua:fund", "CNY", "asset"),
        ("programme:wuhua:budget", "POINT", "equity"),
        ("programme:五华:budget", "POINT", "equity"),
        ("programme:wuhua:donations", "POINT", "liability"),
        ("programme:wuhua:expired", "POINT", "income"),
        ("programme:wuhua:prizes", "CNY", "expense"),
        ("volunteer:1042:wallet", "POINT", "liability"),
        ("volunteer:1042:cash", "CNY", "liability"),
        (ODD_VOLUNTEER, "POINT", "liability"),
        ("merchant:88:accepted", "POINT", "liability"),
    ):
        ledger.open_account(session, code, unit, kind,
                            no_overdraft=code.endswith(("wallet", "budget", "fund")))
    post(session, "funding", [("world:cny", -1234567, "CNY"),
                              ("programme:wuhua:fund", 1234567, "CNY"),
                              ("world:points", -500000, "POINT"),
                              ("programme:wuhua:budget", 500000, "POINT")],
         memo=TRICKY_MEMO, reference="stripe:cs_test_1")
    post(session, "funding", [("world:points", -1000, "POINT"),
                              ("programme:五华:budget", 1000, "POINT")], memo="五华金豆")
    award(session, "report_reward", "volunteer:1042:wallet", 50, reference="report:17")
    award(session, "service_hours", ODD_VOLUNTEER, 120, reference="activity:3")
    mistaken = award(session, "manual_award", "volunteer:1042:wallet", 30)
    ledger.reverse(session, mistaken.entry_id, idempotency_key=factories.key("reverse"),
                   memo="report found false")
    post(session, "wish_reward", [("programme:五华:budget", -7, "POINT"),
                                  ("volunteer:1042:wallet", 7, "POINT")])
    voucher = hold(session, "volunteer:1042:wallet", 40)
    ledger.post_hold(session, voucher, idempotency_key=factories.key("redeem"), amount=25)
    cancelled = hold(session, ODD_VOLUNTEER, 60)
    ledger.void_hold(session, cancelled, idempotency_key=factories.key("void"))
    hold(session, ODD_VOLUNTEER, 10)
    post(session, "donation", [("volunteer:1042:wallet", -5, "POINT"),
                               ("programme:wuhua:donations", 5, "POINT")])
    post(session, "cash_out", [("volunteer:1042:wallet", -10, "POINT"),
                               ("programme:wuhua:budget", 10, "POINT"),
                               ("programme:wuhua:fund", -1005, "CNY"),
                               ("volunteer:1042:cash", 1005, "CNY")])
    post(session, "prize", [("programme:wuhua:fund", -3, "CNY"),
                            ("programme:wuhua:prizes", 3, "CNY")])
    post(session, "expiry", [(ODD_VOLUNTEER, -1, "POINT"),
                             ("programme:wuhua:expired", 1, "POINT")])
    session.commit()


def post(session, kind, postings, **details):
    return ledger.post(session, idempotency_key=factories.key(kind), kind=kind,
                       postings=[Posting(*posting) for posting in postings], **details)


def award(session, kind, wallet, points, **details):
    return post(session, kind, [("programme:wuhua:budget", -points, "POINT"),
                                (wallet, points, "POINT")], **details)


def hold(session, wallet, points) -> int:
    return ledger.hold(
        session, idempotency_key=factories.key("voucher"), kind="voucher_hold",
        postings=[Posting(wallet, -points, "POINT"), Posting("merchant:88:accepted", points,
                                                             "POINT")],
        expires_at=datetime.now(UTC) + timedelta(days=30), reference="voucher:1",
    ).entry_id


def app_balances(session) -> dict[str, tuple[str, str, int]]:
    """Per account code: kind, unit and the app's posted balance."""
    accounts = session.execute(select(ledger.Account.code, ledger.Account.kind,
                                      ledger.Account.unit)).all()
    return {code: (kind, unit, ledger.balance(session, code).posted)
            for code, kind, unit in accounts}


def expected_by_name(session) -> dict[str, tuple[Decimal, str]]:
    """Per exported account name: the app's balance as the text formats write it."""
    return {
        export.account_name(code, kind): (Decimal(export.amount_text(posted, unit)), unit)
        for code, (kind, unit, posted) in app_balances(session).items()
    }


def exported(session, fmt: str) -> str:
    stream = io.StringIO()
    export.write(session, fmt, stream)
    return stream.getvalue()


def require_tool(name: str) -> str:
    """The tool's path; a missing tool skips the test unless JINDOU_REQUIRE_TOOLS=1."""
    path = shutil.which(name)
    beside_python = Path(sys.executable).parent / name
    if path is None and beside_python.exists():
        path = str(beside_python)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("JINDOU_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{message} and JINDOU_REQUIRE_TOOLS=1", pytrace=False)
        pytest.skip(message)
    return path


def run_tool(*arguments: str) -> str:
    completed = subprocess.run(arguments, capture_output=True, text=True,
                               timeout=TOOL_TIMEOUT_SECONDS, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert completed.stderr == "", completed.stderr
    return completed.stdout


def nonzero(balances: dict[str, tuple[Decimal, str]]) -> dict[str, tuple[Decimal, str]]:
    return {name: value for name, value in balances.items() if value[0] != 0}


# --- pure rules -----------------------------------------------------------------------------


def test_plain_codes_become_capitalised_names_under_their_kind():
    assert export.account_name("programme:wuhua:budget", "equity") == (
        "Equity:Programme:Wuhua:Budget")
    assert export.account_name("volunteer:1042:wallet", "liability") == (
        "Liabilities:Volunteer:1042:Wallet")
    assert export.account_name("programme:wuhua:fund", "asset") == "Assets:Programme:Wuhua:Fund"
    assert export.account_name("programme:wuhua:expired", "income").startswith("Income:")
    assert export.account_name("programme:wuhua:prizes", "expense").startswith("Expenses:")


def test_odd_code_parts_become_valid_distinct_stable_names():
    codes = ["programme:五华:budget", "programme:五華:budget", "programme:Wuhua:budget",
             "programme:wuhua:budget", "programme:wu-hua:budget", "programme:wu_hua:budget",
             "programme::budget", "programme:-:budget", ODD_VOLUNTEER,
             "programme:wuhua-0123456789abcdef:budget"]
    names = [export.account_name(code, "equity") for code in codes]
    assert len(set(names)) == len(codes)
    assert all(NAME_PATTERN.fullmatch(name) for name in names), names
    digest = hashlib.sha256("五华".encode()).hexdigest()[:16]
    assert names[0] == f"Equity:Programme:X-{digest}:Budget"
    assert export.account_name("programme:五华:budget", "equity") == names[0]
    assert export.account_name("programme:Wuhua:budget", "equity").startswith(
        "Equity:Programme:Wuhua-")


def test_fen_are_written_as_exact_yuan_and_points_as_integers():
    assert export.amount_text(1234, "CNY") == "12.34"
    assert export.amount_text(-5, "CNY") == "-0.05"
    assert export.amount_text(100, "CNY") == "1.00"
    assert export.amount_text(-10**12, "CNY") == "-10000000000.00"
    assert export.amount_text(-42, "POINT") == "-42"


def test_entries_are_dated_by_the_day_in_china():
    assert export.booking_date(datetime(2024, 12, 31, 16, 0, tzinfo=UTC)) == date(2025, 1, 1)
    assert export.booking_date(datetime(2024, 12, 31, 15, 59)) == date(2024, 12, 31)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="beancount, ledger, csv"):
        export.write(None, "xlsx", io.StringIO())


# --- against the databases ----------------------------------------------------------------


def test_only_posted_entries_are_exported(session):
    build_journal(session)
    posted = session.scalar(select(func.count()).select_from(ledger.Entry)
                            .where(ledger.Entry.status == "posted"))
    assert session.scalar(select(func.count()).select_from(ledger.Entry)) > posted
    for fmt in export.FORMATS:
        assert export.write(session, fmt, io.StringIO()) == posted
    text = exported(session, "beancount")
    assert "voucher_hold" not in text and "hold_void" not in text
    assert text.count("\n  reverses_id: ") == 1


def test_csv_rows_sum_to_the_app_balances(session):
    build_journal(session)
    rows = list(csv.DictReader(io.StringIO(exported(session, "csv"))))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    sums: dict[str, int] = defaultdict(int)
    for row in rows:
        assert row["status"] == "posted"
        assert datetime.fromisoformat(row["created_at"]).utcoffset() == timedelta(0)
        sums[row["account"]] += int(row["amount"])
    expected = {code: posted for code, (_kind, _unit, posted) in app_balances(session).items()}
    assert {code: total for code, total in sums.items()} == {
        code: posted for code, posted in expected.items() if code in sums}
    assert all(posted == 0 for code, posted in expected.items() if code not in sums)
    funding = next(row for row in rows if row["reference"] == "stripe:cs_test_1")
    assert funding["memo"] == TRICKY_MEMO


def test_batches_do_not_change_the_export(session, monkeypatch):
    build_journal(session)
    whole = {fmt: exported(session, fmt) for fmt in export.FORMATS}
    monkeypatch.setattr(export, "MAX_BATCH_ENTRIES", 2)
    monkeypatch.setattr(export, "MAX_BATCH_ACCOUNTS", 3)
    assert {fmt: exported(session, fmt) for fmt in export.FORMATS} == whole


@pytest.mark.tools
def test_beancount_export_passes_bean_check_with_the_app_balances(session, tmp_path):
    bean_check = require_tool("bean-check")
    build_journal(session)
    path = tmp_path / "jindou.beancount"
    path.write_text(exported(session, "beancount"), encoding="utf-8")
    run_tool(bean_check, str(path))

    from beancount import loader
    from beancount.core import data

    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    balances: dict[str, tuple[Decimal, str]] = {}
    for entry in entries:
        if isinstance(entry, data.Open):
            balances[entry.account] = (Decimal(0), entry.currencies[0])
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                total, unit = balances[posting.account]
                assert posting.units.currency == unit
                balances[posting.account] = (total + posting.units.number, unit)
    assert balances == expected_by_name(session)
    funding = next(entry for entry in entries if isinstance(entry, data.Transaction)
                   and entry.meta.get("reference") == "stripe:cs_test_1")
    assert funding.narration == "funding: " + TRICKY_MEMO.replace("\n", " ")


@pytest.mark.tools
def test_hledger_reads_the_ledger_export_with_the_app_balances(session, tmp_path):
    hledger = require_tool("hledger")
    build_journal(session)
    path = tmp_path / "jindou.journal"
    path.write_text(exported(session, "ledger"), encoding="utf-8")
    output = run_tool(hledger, "-f", str(path), "--strict", "bal", "--flat", "-O", "csv")
    balances = {}
    for account, amount in list(csv.reader(io.StringIO(output)))[1:]:
        if account != "total":
            number, unit = amount.split(" ")
            balances[account] = (Decimal(number.replace(",", "")), unit)
    assert balances == nonzero(expected_by_name(session))


@pytest.mark.tools
def test_ledger_cli_reads_the_ledger_export_with_the_app_balances(session, tmp_path):
    ledger_cli = require_tool("ledger")
    build_journal(session)
    path = tmp_path / "jindou.ledger"
    path.write_text(exported(session, "ledger"), encoding="utf-8")
    output = run_tool(ledger_cli, "-f", str(path), "--strict", "--pedantic", "bal", "--flat",
                      "--no-total")
    balances = {}
    for line in output.splitlines():
        match = re.fullmatch(r"\s*(-?[\d,]+(?:\.\d+)?) (POINT|CNY)  (\S+)", line)
        assert match, line
        number, unit, account = match.groups()
        balances[account] = (Decimal(number.replace(",", "")), unit)
    assert balances == nonzero(expected_by_name(session))


class InterruptedStream(io.StringIO):
    """Runs ``interruption`` once, just before the first transaction is written."""

    def __init__(self, interruption):
        super().__init__()
        self.interruption = interruption

    def write(self, text):
        if self.interruption is not None and " * " in text:
            interruption, self.interruption = self.interruption, None
            interruption()
        return super().write(text)


@pytest.mark.commits
@pytest.mark.postgres_only(
    "a SQLite export holds the database's write lock: nobody commits meanwhile")
def test_entries_committed_during_an_export_stay_out_of_it(session, engine, monkeypatch):
    build_journal(session)
    posted = session.scalar(select(func.count()).select_from(ledger.Entry)
                            .where(ledger.Entry.status == "posted"))
    session.rollback()
    monkeypatch.setattr(export, "MAX_BATCH_ENTRIES", 2)

    def meanwhile():
        with Session(engine) as other:
            factories.wallet(other, 9, points=5)
            other.commit()

    stream = InterruptedStream(meanwhile)
    assert export.write(session, "beancount", stream) == posted
    assert "Volunteer:9:Wallet" not in stream.getvalue()
    session.rollback()
    assert ledger.balance(session, "volunteer:9:wallet").posted == 5
