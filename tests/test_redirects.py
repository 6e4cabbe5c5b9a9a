"""Redirects only to our own paths (issue 19, part 6): one helper for sign-in, the language
switch and the daily check-in's way back."""

import pytest

from tests.test_pages import login, post_form
from tests.web_support import PASSWORD, csrf_token
from web.redirects import own_path

FOREIGN = ["//evil.example/phish", "/\\evil.example/phish", "https://evil.example/",
           "/%2F/evil.example", "javascript:alert(1)", "evil.example", "/ /evil.example",
           "\\\\evil.example"]


@pytest.mark.parametrize("target", FOREIGN)
def test_a_foreign_target_is_refused(target):
    assert own_path(target) in (None, "/%2F/evil.example")  # %2F stays one path of ours


@pytest.mark.parametrize("target", ["/wallet", "/reports/mine?page=2", "/"])
def test_our_paths_are_kept(target):
    assert own_path(target) == target


@pytest.mark.parametrize("next_", ["/%09/evil.example/phish", "/%5Cevil.example/phish",
                                   "//evil.example/phish", "https:evil.example"])
def test_sign_in_never_leaves_the_site(client, world, next_):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(f"/login?next={next_}", data={
        "csrf_token": token, "username": "rider", "password": PASSWORD})
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 400)
    assert "evil" not in location, location
    if response.status_code == 302:
        assert location == "/"


@pytest.mark.parametrize("next_", ["/%09/evil.example/phish", "/%5Cevil.example",
                                   "//evil.example"])
def test_the_language_switch_never_leaves_the_site(client, world, next_):
    response = post_form(client, "/login", f"/language/en?next={next_}", {})
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 400)
    assert "evil" not in location, location


def test_the_language_switch_keeps_a_local_next(client, world):
    response = post_form(client, "/login", "/language/en?next=/register", {})
    assert response.headers["Location"] == "/register"


def test_the_daily_check_in_goes_back_only_to_our_pages(client, world):
    login(client, "rider")
    page = "/activities"
    token = csrf_token(client.get(page).get_data(as_text=True))
    response = client.post("/me/daily-checkin", data={"csrf_token": token},
                           headers={"Referer": "http://evil.example/activities"})
    assert response.headers["Location"] == "/activities"
    token = csrf_token(client.get(page).get_data(as_text=True))
    response = client.post("/me/daily-checkin", data={"csrf_token": token},
                           headers={"Referer": "http://localhost/wallet"})
    assert response.headers["Location"] == "/wallet"
