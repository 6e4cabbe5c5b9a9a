"""Headers and cookies (issue 19, part 5): a strict CSP without inline script on every page,
no framing, nosniff, a Referrer-Policy; HSTS and Secure cookies behind HTTPS; Swagger UI served
by the app itself; no template keeps an inline script or handler."""

import re
from pathlib import Path

import pytest

from tests.test_pages import login

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def csp_of(response) -> dict:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login", "/api/v1/programmes", "/api/v1/docs"])
def test_every_answer_carries_the_headers(client, world, path):
    response = client.get(path)
    csp = csp_of(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["style-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: none


def test_behind_https_cookies_are_secure_and_hsts_is_sent(make_app, world):
    app = make_app(fresh=True, JINDOU_HTTPS=True, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    # The proxy in front ends TLS and says so.
    proxied = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in proxied.headers["Strict-Transport-Security"]
    headers = {"Referer": "https://localhost/login"}
    response = client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      response.get_data(as_text=True)).group(1)
    signed_in = client.post("/login", base_url="https://localhost", headers=headers, data={
        "csrf_token": token, "username": "rider", "password": "correct-horse-9"})
    assert signed_in.status_code == 302
    cookie = signed_in.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_https_comes_from_the_environment(monkeypatch, tmp_path):
    from web.config import from_environment

    monkeypatch.setenv("JINDOU_HTTPS", "1")
    config = from_environment(tmp_path)
    assert config["JINDOU_HTTPS"] and config["SESSION_COOKIE_SECURE"]
    monkeypatch.delenv("JINDOU_HTTPS")
    assert not from_environment(tmp_path)["SESSION_COOKIE_SECURE"]


def test_swagger_ui_is_served_by_the_app(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/static/") for source in sources), sources
    assert "<script>" not in page
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, source
        response.close()


def test_no_template_keeps_inline_script_or_handlers():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(
                r"\son[a-z]+\s*=", text) or "<style" in text:
            found.append(template.relative_to(TEMPLATES).as_posix())
    assert found == []


def test_a_signed_in_page_carries_the_csp(client, world):
    login(client, "rider")
    assert csp_of(client.get("/wallet"))["script-src"] == ["'self'"]


@pytest.mark.browser
def test_the_violation_watch_sees_an_inline_script(playwright):
    from tests.browser_support import launch_chromium, watch_csp

    chromium = launch_chromium(playwright)
    try:
        violations = watch_csp(chromium)
        page = chromium.new_context().new_page()
        page.route("http://jindou.test/", lambda route: route.fulfill(
            status=200, content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<p>x</p><script>document.title = 'ran'</script>"))
        page.goto("http://jindou.test/")
        page.wait_for_timeout(200)
        assert page.title() != "ran"
        assert violations and "Content Security Policy" in violations[0]
    finally:
        chromium.close()


@pytest.mark.browser
@pytest.mark.commits
def test_swagger_ui_runs_under_the_csp(app, browser, world):
    from tests.browser_support import phone, serve

    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    # One block per operation under each of its tags (Swagger UI's element id is
    # operations-<tag>-<operation>).
    expected = sum(len(operation.get("tags") or ["default"])
                   for item in spec["paths"].values()
                   for method, operation in item.items() if method != "parameters")
    assert expected > 100
    with serve(app) as base:
        page = phone(browser, mobile=False).new_page()
        page.goto(base + "/api/v1/docs")
        page.locator(".opblock").first.wait_for()
        # From 150 tags + operations on, Swagger UI (5.3x) windows the operations list: only
        # the blocks near the viewport are in the DOM. Scroll the whole page down and collect
        # every block that gets drawn (from Python: the CSP refuses the page-side eval of
        # wait_for_function).
        seen: set[str] = set()
        still = 0
        for _ in range(400):
            drawn = page.locator(".opblock").evaluate_all("blocks => blocks.map(b => b.id)")
            grown = not set(drawn) <= seen
            seen.update(drawn)
            if len(seen) >= expected:
                break
            still = 0 if grown else still + 1
            if still > 20:  # nothing new for a while: the list stopped drawing
                break
            page.mouse.wheel(0, 600)
            page.wait_for_timeout(50)
        assert len(seen) == expected, sorted(seen)[:10]
