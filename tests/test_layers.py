"""The layering rule: the domain packages never pull in Flask, and the ledger imports nothing
of ours. Checked in a fresh interpreter, where nothing was imported before."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_PACKAGES = ("ledger", "volunteers", "activities", "merchants", "jobs")
OUR_PACKAGES = ("ledger", "volunteers", "activities", "merchants", "jobs", "web")
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


def test_domain_packages_import_without_flask():
    loaded = top_level(modules_after_importing(*DOMAIN_PACKAGES))
    assert set(DOMAIN_PACKAGES) <= loaded
    assert {"flask", "werkzeug", "flask_sqlalchemy", "flask_login"} & loaded == set()


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_each_domain_package_alone_imports_without_flask(package):
    assert "flask" not in top_level(modules_after_importing(package))


def test_the_ledger_imports_none_of_our_other_packages():
    loaded = top_level(modules_after_importing("ledger"))
    assert "ledger" in loaded
    assert set(OUR_PACKAGES) & loaded == {"ledger"}


def test_the_ledger_source_names_none_of_our_other_packages():
    # Catches an import hidden inside a function, which importing the package would not run.
    offenders = []
    for path in sorted((ROOT / "ledger").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                module = words[1].split(".")[0]
                if module in OUR_PACKAGES and module != "ledger":
                    offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_the_jobs_package_imports_no_web_adapter():
    loaded = top_level(modules_after_importing("jobs"))
    assert "jobs" in loaded
    assert "web" not in loaded
