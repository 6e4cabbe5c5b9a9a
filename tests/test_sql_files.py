"""The SQL that guards the money lives in ``.sql`` files, one per function version, read by
``ledger.sql_files``; a released version never changes, and no Python module outside the
tests and the migrations carries stored-function text."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from ledger import ddl, sql_files
from merchants import ddl as merchants_ddl
from volunteers import ddl as volunteers_ddl

ROOT = Path(__file__).resolve().parent.parent
SQL_FILES = sorted([*ROOT.glob("ledger/sql/*.sql"), *ROOT.glob("merchants/sql/*.sql"),
                    *ROOT.glob("volunteers/sql/*.sql")])

# What each released version sends to the database (its statements, comments left out). A
# new version is a new file added here; a released file whose digest changes fails: write a
# new version and a migration instead.
RELEASED = {
    "ledger/sql/ledger_append_only.v1.sql":
        "6edb1830dee082c055f95ba7107a3a59edeeca8526f5a2123a10b3a81282c1ea",
    "ledger/sql/ledger_append_only_sqlite.v1.sql":
        "f3a80f987a0e8e19b990f2cbb54281df0102f0ae39510bbc201bd5e574cd88e1",
    "ledger/sql/ledger_latest_standing_credit.v1.sql":
        "d5a5a2f688a899f7095db472dee0ebff4bd1765af28bfeb29f282021a7500c3f",
    "ledger/sql/ledger_pay_out.v2.sql":
        "ac6b16c25ab6450aabf749c3480d791b3c455a19880be2f3e99e39e0ad1e22e5",
    "ledger/sql/ledger_pay_out.v3.sql":
        "fcc1c682a6600fb00820ea92dd66594947f51388d206c42854e4394a7beabc60",
    "ledger/sql/ledger_pay_out.v4.sql":
        "332a2ac54e9796c4b4a7e44431c338bcf43d6092e924f61c7e08b395f8492521",
    "ledger/sql/ledger_post.v1.sql":
        "955910cd959790d1faf15e726649183577f20bc3d7c95ca022fde4bef74b1430",
    "ledger/sql/ledger_post.v2.sql":
        "b5a0b0058598b953a110cf02865457150de0560750c96aa1be74ab4ee4f840b2",
    "ledger/sql/ledger_post.v3.sql":
        "f1cf8c04ef53db037307e0b5625edecaca91df61106dcd98ae1df1f9a5e2f164",
    "ledger/sql/ledger_post_many.v1.sql":
        "d67f62af934fe3844a45700f1934b7387334d2831971c8d5b06a5aecf51f27f5",
    "ledger/sql/ledger_post_many.v2.sql":
        "6345b94a9c8ccb083140583be4a7817e117c0282d441cf594951c1e0f83cdcf4",
    "ledger/sql/ledger_refuse_change.v1.sql":
        "856b344a02acdb2caf7308d09c6e0cd6e13075b1840e03b4646369e5f2d8980d",
    "ledger/sql/ledger_seal.v1.sql":
        "8da88085af0de34aae4f6b2a65e6a2e1821e1f5af1170ebd43a35f2109beec21",
    "ledger/sql/ledger_account_fixed.v1.sql":
        "3547ef6cc411c96978b5d88ab47b55cf8bfc26da18003301bfdb84c83c1419d0",
    "ledger/sql/ledger_account_fixed_trigger.v1.sql":
        "469a236fe4c1f521c032739adc52d8f5650fdc747adbcd13a966195f4b1e9aed",
    "ledger/sql/ledger_fixed_after_creation.v1.sql":
        "30f51f0583fb7e156d6f6d13cdd435e0e939390893e836c1888f656389faf796",
    "ledger/sql/ledger_guard_history.v1.sql":
        "f74e9d2a008493318921bb211a407a90b320c153bf683c6804c09b1a5bede6a0",
    "ledger/sql/ledger_history_sqlite.v1.sql":
        "9f569a349456a58529b805857808cd3b9e7c4fcb720ede41b62477162eb2ddf9",
    "ledger/sql/ledger_seal.v2.sql":
        "7b7232d11a8bc935de5b4d3c13f8d2160f88efdc5cdd7877731b2cebefe0528e",
    "merchants/sql/merchants_redeem_voucher.v1.sql":
        "4dd1c3a2cbcc71cf45e3a4284d4b61923584315a65546fe894cc210535139bbe",
    "volunteers/sql/audit_append_only.v1.sql":
        "768cd24cdbc270d88608d800a15e66679e17943512fa66999bf0320acf85c07e",
    "volunteers/sql/audit_append_only_sqlite.v1.sql":
        "5e442bfe2a48eec65911bdf4cb70035f6492a1783b53291f1b928682abb09f11",
    "volunteers/sql/audit_refuse_change.v1.sql":
        "f087222150d20f27158f14195e56c95cfaafe8ffbfdabd1f3ce874e239763aac",
}

STORED_FUNCTION_TEXT = re.compile(r"LANGUAGE\s+plpgsql|CREATE\s+(OR\s+REPLACE\s+)?FUNCTION",
                                  re.IGNORECASE)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def name_and_version(path: Path) -> tuple[str, int, str]:
    name, version, _suffix = path.name.rsplit(".", 2)
    return name, int(version.removeprefix("v")), path.parent.parent.name


def test_every_file_is_a_released_version_that_did_not_change():
    digests = {relative(path): hashlib.sha256(
        "\n".join(sql_files.statements(path.read_text(encoding="utf-8"))).encode()).hexdigest()
        for path in SQL_FILES}
    assert digests == RELEASED


@pytest.mark.parametrize("path", SQL_FILES, ids=relative)
def test_a_function_file_defines_the_function_it_is_named_for(path):
    name, version, package = name_and_version(path)
    found = sql_files.statements(sql_files.read(name, version, package))
    assert found and all(statement.endswith(";") for statement in found)
    functions = [statement for statement in found if STORED_FUNCTION_TEXT.search(statement)]
    if functions:
        assert len(found) == 1
        assert re.match(rf"CREATE OR REPLACE FUNCTION {name}\(", found[0])


def test_the_current_versions_are_the_newest_files():
    newest: dict[str, int] = {}
    for path in SQL_FILES:
        name, version, _package = name_and_version(path)
        newest[name] = max(version, newest.get(name, 0))
    current = dict(ddl.POSTGRES_CURRENT + ddl.SQLITE_CURRENT + merchants_ddl.POSTGRES_CURRENT
                   + volunteers_ddl.POSTGRES_CURRENT + volunteers_ddl.SQLITE_CURRENT)
    assert current == newest


def test_statements_split_at_a_line_end_semicolon_outside_dollar_quotes():
    sql = """-- a header
-- over two lines

CREATE OR REPLACE FUNCTION f() RETURNS int
LANGUAGE plpgsql AS $$
BEGIN
    -- a comment inside the body stays
    RETURN 1;
END
$$;
-- between statements
DROP TRIGGER IF EXISTS t ON x;
CREATE TRIGGER t BEFORE UPDATE ON x
BEGIN SELECT RAISE(ABORT, 'no'); END;
"""
    assert sql_files.statements(sql) == [
        "CREATE OR REPLACE FUNCTION f() RETURNS int\nLANGUAGE plpgsql AS $$\nBEGIN\n"
        "    -- a comment inside the body stays\n    RETURN 1;\nEND\n$$;",
        "DROP TRIGGER IF EXISTS t ON x;",
        "CREATE TRIGGER t BEFORE UPDATE ON x\nBEGIN SELECT RAISE(ABORT, 'no'); END;",
    ]


@pytest.mark.parametrize("sql", [
    "SELECT 1",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\nSELECT 1;\n",
])
def test_statements_refuse_a_file_that_ends_inside_a_statement(sql):
    with pytest.raises(ValueError, match="ends inside a statement"):
        sql_files.statements(sql)


def test_no_python_module_outside_tests_and_migrations_holds_stored_function_text():
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", "migrations", ".venv", "node_modules", "build"}:
            continue
        if STORED_FUNCTION_TEXT.search(path.read_text(encoding="utf-8")):
            offenders.append(relative(path))
    assert offenders == []
