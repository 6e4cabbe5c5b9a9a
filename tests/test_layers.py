"""The layering rules of docs/architecture.md: the domain packages never pull in Flask, the
ledger imports nothing of ours, and no package imports one on its own floor or above it.
Checked twice: in a fresh interpreter, where nothing was imported before, and in the source,
which also catches an import hidden inside a function that importing would not run."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package's floor: a package may import only packages on a lower floor.
FLOORS = {
    "ledger": 0,
    "volunteers": 1,
    "honours": 2,
    "reports": 3,
    "activities": 3,
    "merchants": 3,
    "payments": 3,
    "jobs": 4,
    "imports": 4,
    "payouts": 4,
    "web": 5,
}
DOMAIN_PACKAGES = tuple(package for package in FLOORS if package != "web")
OUR_PACKAGES = tuple(FLOORS)
SUBPROCESS_TIMEOUT_SECONDS = 60


def modules_after_importing(*packages: str) -> set[str]:
    """The names in sys.modules after a fresh interpreter imports ``packages``."""
    program = (
        "import importlib, json, sys\n"
        f"for name in {list(packages)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stdout))


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def below(package: str) -> set[str]:
    """Our packages that ``package`` may import: its own and those on lower floors."""
    return {other for other, floor in FLOORS.items() if floor < FLOORS[package]} | {package}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def test_every_package_has_a_floor():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "migrations", "bench", "scripts"} == set(FLOORS)


def test_domain_packages_import_without_flask():
    loaded = top_level(modules_after_importing(*DOMAIN_PACKAGES))
    assert set(DOMAIN_PACKAGES) <= loaded
    assert {"flask", "werkzeug", "flask_sqlalchemy", "flask_login"} & loaded == set()


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_each_domain_package_alone_imports_without_flask(package):
    assert "flask" not in top_level(modules_after_importing(package))


@pytest.mark.parametrize("package", OUR_PACKAGES)
def test_importing_a_package_loads_none_above_it(package):
    loaded = top_level(modules_after_importing(package)) & set(OUR_PACKAGES)
    assert package in loaded
    assert loaded <= below(package)


def test_the_ledger_imports_none_of_our_other_packages():
    loaded = top_level(modules_after_importing("ledger"))
    assert "ledger" in loaded
    assert set(OUR_PACKAGES) & loaded == {"ledger"}


@pytest.mark.parametrize("package", OUR_PACKAGES)
def test_the_source_imports_no_package_above_it(package):
    # Catches an import hidden inside a function, which importing the package would not run.
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, imported in imported_packages(path):
            if imported in OUR_PACKAGES and imported not in below(package):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: imports {imported}")
    assert offenders == []


def test_the_source_check_sees_an_import_inside_a_function(tmp_path):
    hidden = tmp_path / "hidden.py"
    hidden.write_text("def late():\n    from web.extensions import db\n    return db\n")
    assert imported_packages(hidden) == [(2, "web")]
