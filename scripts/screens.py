"""`make screens`: the demo in a fresh SQLite database, served from a thread, every page of
every role photographed at 390 px in Chinese (and each person's first pages in English) into
docs/screens/, one small PNG per page, so a reviewer can look at every page.

    .venv/bin/python scripts/screens.py [--out docs/screens] [--only volunteer,admin]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENGLISH_PAGES_PER_PERSON = 2  # the landing page and 我的


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    parser.add_argument("--only", default="", help="comma-separated roles of tests/phone_walk")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="jindou-screens-") as instance:
        os.environ["JINDOU_INSTANCE_PATH"] = instance
        os.environ["JINDOU_DATABASE_URL"] = f"sqlite:///{instance}/screens.sqlite3"
        os.environ["JINDOU_LOGIN_RATE_LIMIT"] = "1000 per minute"  # a sign-in per person
        app = build_demo()
        shots = Path(instance) / "shots"
        shots.mkdir()
        photograph(app, shots, [r for r in args.only.split(",") if r])
        if out.exists() and not args.only:
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        for shot in sorted(shots.iterdir()):
            shutil.copy(shot, out / shot.name)
        print(f"{len(list(shots.iterdir()))} screenshots in {out}")


def build_demo():
    from web import create_app

    app = create_app()
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["demo", "load"]):
        result = runner.invoke(args=command)
        if result.exit_code:
            raise SystemExit(result.output)
    return app


def photograph(app, shots: Path, only: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser_support import PHONE_VIEWPORT, launch_chromium, serve
    from tests.phone_walk import PEOPLE, Walked, walk

    people = [("anonymous", None), *PEOPLE.items()]
    if only:
        people = [(who, name) for who, name in people if who in only]
    with sync_playwright() as playwright, serve(app, "jindou-screens") as base:
        browser = launch_chromium(playwright)
        walked = Walked()
        for language, limit in (("zh-CN", None), ("en", ENGLISH_PAGES_PER_PERSON)):
            for who, username in people:
                context = browser.new_context(viewport=PHONE_VIEWPORT, locale=language,
                                              device_scale_factor=1, is_mobile=True,
                                              has_touch=True)
                try:
                    walk(context, base, who, username, language, walked, screens=shots,
                         axe=False, max_pages=limit)
                finally:
                    context.close()
        if not only or "volunteer" in only:
            large_text(browser, base, shots)
        browser.close()
    for problem in walked.problems:
        print(problem)


def large_text(browser, base: str, shots: Path) -> None:
    """The 适老化 mode: the volunteer switches it on 我的, then the wallet and 我的 again."""
    from tests.browser_support import PHONE_VIEWPORT
    from tests.phone_walk import PEOPLE, save_screen, sign_in

    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, base, PEOPLE["volunteer"])
        page.goto(base + "/me")
        page.locator("[data-test=large-text]").click()
        for path in ("/wallet", "/me"):
            page.goto(base + path)
            save_screen(page, shots, "volunteer-large-text", "zh-CN", path)
        page.goto(base + "/me")
        page.locator("[data-test=large-text]").click()
    finally:
        context.close()


if __name__ == "__main__":
    main()
