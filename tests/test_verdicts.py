"""The words that pass between the stored functions and Python: every ``result`` a ``.sql``
file can answer is a member of one enum (``ledger.Verdict``, ``merchants.verdicts.
RedeemVerdict``), every member is answered by some file, and Python maps each ledger verdict to
a result or a refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ledger
from ledger import errors
from ledger.service import _result
from merchants.verdicts import RedeemVerdict

ROOT = Path(__file__).resolve().parent.parent

# 'result', 'created'   or   'result', CASE WHEN ... THEN 'existing' ELSE 'conflict' END
ANSWERED = re.compile(r"'result',\s*(CASE\b.*?\bEND\b|'\w+')", re.DOTALL)
BRANCH = re.compile(r"\b(?:THEN|ELSE)\s+'(\w+)'")
# settled->>'result' NOT IN ('created', 'existing')   or   ->>'result' = 'created'
READ = re.compile(r"->>'result'\s*(?:NOT\s+)?(?:IN\s*\(([^)]*)\)|<>\s*('\w+')|=\s*('\w+'))")


def answered(path: Path) -> set[str]:
    """The literals a file's functions put in the ``result`` of their answer."""
    found = set()
    for expression in ANSWERED.findall(path.read_text(encoding="utf-8")):
        if expression.startswith("'"):
            found.add(expression.strip("'"))
        else:
            branches = BRANCH.findall(expression)
            assert branches, expression
            found.update(branches)
    return found


def read_back(path: Path) -> set[str]:
    """The literals a file compares another function's ``result`` with."""
    found = set()
    for group in READ.findall(path.read_text(encoding="utf-8")):
        found.update(re.findall(r"'(\w+)'", " ".join(group)))
    return found


def sql_files(package: str) -> list[Path]:
    return sorted(ROOT.glob(f"{package}/sql/*.sql"))


def test_the_parser_reads_both_forms_of_an_answer(tmp_path):
    path = tmp_path / "f.v1.sql"
    path.write_text("RETURN jsonb_build_object('result', CASE WHEN a = e->>'fingerprint'\n"
                    "    THEN 'existing' ELSE 'conflict' END, 'entry_id', 1);\n"
                    "RETURN jsonb_build_object('result', 'created');\n"
                    "IF settled->>'result' NOT IN ('created', 'existing') THEN\n")
    assert answered(path) == {"existing", "conflict", "created"}
    assert read_back(path) == {"created", "existing"}


def test_every_ledger_answer_is_a_verdict_and_every_verdict_is_answered():
    files = sql_files("ledger")
    assert len(files) >= 10
    found = set().union(*(answered(path) for path in files))
    assert found == {verdict.value for verdict in ledger.Verdict}


def test_every_redemption_answer_is_a_redeem_verdict_and_every_one_is_answered():
    files = sql_files("merchants")
    found = set().union(*(answered(path) for path in files))
    assert found == {verdict.value for verdict in RedeemVerdict}


def test_what_the_merchants_sql_reads_from_the_ledger_is_a_ledger_verdict():
    read = set().union(*(read_back(path) for path in sql_files("merchants")))
    assert read == {"created", "existing"}
    assert read <= {verdict.value for verdict in ledger.Verdict}


OUTCOME = {"entry_id": 7, "account": "volunteer:1:wallet", "unit": "POINT", "available": 3}


@pytest.mark.parametrize("verdict", [verdict for verdict in ledger.Verdict
                                     if verdict is not ledger.Verdict.RETRY])
def test_python_maps_every_ledger_verdict_to_a_result_or_a_refusal(verdict):
    # From the database the verdict arrives as a plain string, as JSON gives it.
    outcome = OUTCOME | {"result": str(verdict)}
    if verdict in (ledger.Verdict.CREATED, ledger.Verdict.EXISTING):
        assert _result(outcome) == ledger.Result(7, verdict == ledger.Verdict.CREATED)
        return
    expected = {
        ledger.Verdict.CONFLICT: errors.IdempotencyConflict,
        ledger.Verdict.UNKNOWN_ACCOUNT: errors.UnknownAccount,
        ledger.Verdict.UNIT_MISMATCH: errors.UnitMismatch,
        ledger.Verdict.ACCOUNT_CLOSED: errors.AccountClosed,
        ledger.Verdict.INSUFFICIENT: errors.InsufficientPoints,
        ledger.Verdict.SETTLED: errors.HoldNotPending,
        ledger.Verdict.REVERSED: errors.AlreadyReversed,
    }[verdict]
    with pytest.raises(expected):
        _result(outcome)


def test_an_unknown_verdict_is_not_taken_for_a_known_one():
    with pytest.raises(AssertionError, match="unknown ledger outcome"):
        _result(OUTCOME | {"result": "maybe"})


PLAIN_COMPARISON = re.compile(r"""(\["result"\]|\bverdict)\s*(==|!=|in)\s*\(?\s*["']""")


def test_python_compares_verdicts_only_through_the_enums():
    offenders = [path.relative_to(ROOT).as_posix()
                 for package in ("ledger", "merchants")
                 for path in sorted((ROOT / package).rglob("*.py"))
                 if PLAIN_COMPARISON.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
