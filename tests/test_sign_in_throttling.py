"""Sign-in throttling that holds (issue 19, part 4): one limit shared by the page's and the
API's sign-in, a per-account exponential back-off after repeated failures, the same work
whether or not a name exists, and, with Redis, one count across four gunicorn workers."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.web_support import PASSWORD
from volunteers import users
from web import signin

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)


def page_sign_in(client, username, password):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password})


def api_sign_in(client, username, password):
    return client.post("/api/v1/auth/tokens", json={"username": username,
                                                      "password": password})


def limited_app(make_app, limit: str):
    return make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT=limit,
                    RATELIMIT_KEY_PREFIX=f"test-{secrets.token_hex(4)}")


def test_the_page_and_the_api_share_one_limit(make_app, world):
    app = limited_app(make_app, "4 per minute")
    client = app.test_client()
    statuses = []
    for attempt in range(8):
        sign_in = page_sign_in if attempt % 2 else api_sign_in
        statuses.append(sign_in(client, f"nobody{attempt}", "wrong-password").status_code)
    assert statuses[:4] == [401, 200, 401, 200]  # the page answers its form again
    assert statuses[4:] == [429] * 4


def test_repeated_failures_lock_the_account_with_a_growing_wait(make_app, world):
    app = limited_app(make_app, "1000 per minute")
    client = app.test_client()
    for _ in range(signin.FREE_FAILURES):
        assert api_sign_in(client, "rider", "wrong-password").status_code == 401
    assert api_sign_in(client, "rider", "wrong-password").status_code == 401  # the 6th: locked
    locked = api_sign_in(client, "rider", PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and locked.get_json()["code"] == "rate_limited"
    assert page_sign_in(client, "rider", PASSWORD).status_code == 429
    # Another account is not locked by it.
    assert api_sign_in(client, "rider2", PASSWORD).status_code == 201
    assert [signin.lock_seconds(n) for n in (5, 6, 7, 8, 20, 40)] == [0, 2, 4, 8, 900, 900]


def test_the_lock_ends_and_a_success_clears_the_count(make_app, world):
    app = limited_app(make_app, "1000 per minute")
    client = app.test_client()
    for _ in range(signin.FREE_FAILURES + 1):
        api_sign_in(client, "rider", "wrong-password")
    time.sleep(2.2)
    assert api_sign_in(client, "rider", PASSWORD).status_code == 201
    for _ in range(signin.FREE_FAILURES):
        assert api_sign_in(client, "rider", "wrong-password").status_code == 401


def test_an_unknown_name_costs_one_password_check_like_a_known_one(session, world,
                                                                    monkeypatch):
    checked = []
    real = users.check_password
    monkeypatch.setattr(users, "check_password",
                        lambda stored, password: checked.append(stored) or real(stored, password))
    for name in ("rider", "no-such-user"):
        with pytest.raises(users.Unauthorized):
            users.authenticate(session, name, "wrong-password")
    assert len(checked) == 2
    assert checked[1].startswith("scrypt$")  # a real hash, checked at the same cost


def redis_or_skip():
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not answering on 127.0.0.1:6379")
        pytest.skip("Redis is not answering on 127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.commits
@pytest.mark.postgres_only("four gunicorn workers on one database")
def test_four_gunicorn_workers_and_both_routes_count_together(world, database_url, tmp_path):
    import requests

    redis_or_skip()
    port, limit = free_port(), 5
    env = {**os.environ, "JINDOU_DATABASE_URL": database_url,
           "JINDOU_INSTANCE_PATH": str(tmp_path / "instance"),
           "JINDOU_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
           "JINDOU_RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}",
           "JINDOU_LOGIN_RATE_LIMIT": f"{limit} per minute"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "5", "web:create_app()"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/login", timeout=20)
                break
            except requests.RequestException:
                time.sleep(0.3)
        statuses = []
        for attempt in range(30):  # 30 wrong passwords in well under a minute
            with requests.Session() as browser:  # a new connection: any worker may answer
                statuses.append(attempt_sign_in(browser, base, attempt))
    finally:
        server.send_signal(signal.SIGINT)  # quick shutdown
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert statuses.count(429) == 30 - limit, (statuses, output[-2000:])
    assert 429 not in statuses[:limit]


def attempt_sign_in(browser, base: str, attempt: int) -> int:
    """A wrong password through the page (odd attempts) or the API (even ones)."""
    if attempt % 2:
        html = browser.get(base + "/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        return browser.post(base + "/login", timeout=10, data={
            "csrf_token": token, "username": f"guess{attempt}",
            "password": "wrong1234"}).status_code
    return browser.post(base + "/api/v1/auth/tokens", timeout=10, json={
        "username": f"guess{attempt}", "password": "wrong1234"}).status_code
