"""Every page of every role, at 390 x 844 in Chinese and in English, against the demo served
over HTTP: zero serious or critical axe-core violations, nothing wider than the phone, no tap
target under 44 px, no word broken inside (tests/phone_walk.py). One served app, one browser,
one context per person and language; SQLite only: the pages are the same on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import PHONE_VIEWPORT, TIMEOUT_MILLISECONDS, serve
from tests.phone_walk import AXE, LANGUAGES, PEOPLE, Walked, walk

pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def sqlite_only(request):
    """Skips before any database is built for the PostgreSQL copy."""
    if request.node.callspec.params["database"] != "sqlite":
        pytest.skip("the pages are the same on PostgreSQL; one backend keeps the walk short")
    if not AXE.exists():
        pytest.skip("tests/vendor/axe.min.js is missing (make test-vendor)")


@pytest.fixture
def demo(sqlite_only, app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with serve(app, "jindou-phone-walk") as base:
        yield base


def test_every_page_of_every_role_passes_axe_and_fits_the_phone(demo, browser):
    walked = Walked()
    for language in LANGUAGES:
        for who, username in [("anonymous", None), *PEOPLE.items()]:
            context = browser.new_context(viewport=PHONE_VIEWPORT, locale=language,
                                          device_scale_factor=1, is_mobile=True, has_touch=True)
            context.set_default_timeout(TIMEOUT_MILLISECONDS)
            context.add_init_script(path=str(AXE))
            try:
                walk(context, demo, who, username, language, walked)
            finally:
                context.close()
    report = os.environ.get("JINDOU_WALK_REPORT")
    if report:
        Path(report).write_text("\n".join(walked.pages + ["", *walked.problems]))
    assert len(walked.pages) > 80, walked.pages
    assert not walked.problems, "\n".join(walked.problems)
