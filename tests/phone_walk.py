"""A walk through every page each role can reach, at a phone's size, in Chinese and English:
from the landing page, the tab bar and the 我的 page, then the links those pages show, one page
per shape of address (``/reports/{id}`` once, whichever report). On each page axe-core (vendored
from npm, tests/vendor/axe.min.js) reports serious and critical violations, and three checks of
our own: nothing wider than the phone, no tap target under 44 x 44 px, no word broken inside.

Used by tests/test_phone_walk_browser.py (the checks) and scripts/screens (docs/screens/)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
DEMO_PASSWORD = "jindou2026"
# One demo account per role (web/navigation.py's roles).
PEOPLE = {
    "volunteer": "volunteer01",
    "rider": "rider01",
    "reviewer": "dafeng_reviewer",
    "organiser": "cuihu_organiser",
    "merchant": "merchant07",
    "admin": "admin",
}
ANONYMOUS_PAGES = ("/login", "/register")
LANGUAGES = ("zh-CN", "en")
MAX_PAGES_PER_PERSON = 60
MIN_TAP_PX = 44
# Addresses that are files, APIs or actions, not pages a person reads.
SKIPPED = re.compile(r"^/(api|static|open311|stripe|wish-photos|language|logout)(/|$)|"
                     r"\.(csv|png|jpg|json|pdf|mp4|xlsx|ods)$|/media/|/photos/|/export|"
                     r"/poster$")  # the courtyard poster is printed on A4, not read on a phone
NUMBER = re.compile(r"\d+")

CHECKS_JS = (ROOT / "tests" / "phone_checks.js").read_text()

AXE_JS = """
async () => {
  // A chart's bars and labels are one image (role=img, named): not each checked.
  const result = await axe.run({exclude: [['svg.chart > *']]}, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `axe ${v.id} (${v.impact}): `
      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}
"""


@dataclass
class Walked:
    """What a walk saw: the pages visited and the problems found on each."""

    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Page shapes already checked, per language: a page another role showed is not walked again.
    seen: dict[str, set] = field(default_factory=dict)


def shape(path: str) -> str:
    return NUMBER.sub("{n}", path)


def same_site_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if href.startswith(base) and not SKIPPED.search(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("[data-test=login]").click()
    page.wait_for_load_state()


def walk(context, base: str, who: str, username: str | None, language: str, walked: Walked,
         screens: Path | None = None, axe: bool = True, max_pages: int | None = None) -> None:
    """Visits every page ``username`` reaches (anonymous pages when None) and records what the
    checks find; with ``screens`` saves each page's screenshot there."""
    page = context.new_page()
    seen = walked.seen.setdefault(language, set())
    try:
        if username:
            sign_in(page, base, username)
            queue = [urlsplit(page.url).path, "/me"]
            seen.discard(shape(queue[0]))
            seen.discard("/me")
        else:
            queue = list(ANONYMOUS_PAGES)
        visited = 0
        while queue and visited < (max_pages or MAX_PAGES_PER_PERSON):
            path = queue.pop(0)
            if shape(path.split("?")[0]) in seen:
                continue
            seen.add(shape(path.split("?")[0]))
            response = page.goto(base + path)
            visited += 1
            label = f"{who} {language} {path}"
            walked.pages.append(label)
            if response is None or response.status >= 400:
                walked.problems.append(f"{label}: status {response and response.status}")
                continue
            found = page.evaluate(CHECKS_JS, MIN_TAP_PX)
            if axe:
                found += page.evaluate(AXE_JS)
            walked.problems.extend(f"{label}: {problem}" for problem in found)
            if screens is not None:
                save_screen(page, screens, who, language, path)
            queue.extend(link for link in same_site_links(page, base)
                         if shape(link.split("?")[0]) not in seen)
    finally:
        page.close()


def save_screen(page, screens: Path, who: str, language: str, path: str) -> None:
    name = re.sub(r"[^a-z0-9]+", "-", shape(path.split("?")[0]).lower()).strip("-") or "home"
    target = screens / f"{who}-{name}-{language[:2]}.png"
    # The tab bar is fixed to the screen's foot: in a whole-page picture it goes to the end.
    page.screenshot(path=target, full_page=True, style=".tabbar { position: static; }")
    shrink(target)


def shrink(target: Path, max_height: int = 2400) -> None:
    """A screenshot as a small PNG: cut at ``max_height`` px, 64 colours."""
    from PIL import Image

    with Image.open(target) as picture:
        picture = picture.convert("RGB")
        if picture.height > max_height:
            picture = picture.crop((0, 0, picture.width, max_height))
        picture.quantize(colors=64).save(target, optimize=True)
