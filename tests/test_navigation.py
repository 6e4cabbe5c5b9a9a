"""Where each role lands and what its tab bar and 我的 page offer (web/navigation.py): at most
five tabs, every link of a role's menu opens for that role, a person with several roles
switches between them, and the large-text mode stays on the account."""

from __future__ import annotations

import re

import pytest

from tests.test_pages import login, post_form, text_of

LANDINGS = {
    "rider": "/wallet",
    "dafeng_reviewer": "/reports/review",
    "root_admin": "/dashboard/",
}


def tab_links(html: str) -> list[str]:
    bar = re.search(r'<nav class="tabbar".*?</nav>', html, re.S).group(0)
    return re.findall(r'href="([^"]+)"', bar)


@pytest.mark.parametrize("username", sorted(LANDINGS))
def test_each_role_lands_where_its_work_is(client, world, username):
    login(client, username)
    assert client.get("/").headers["Location"] == LANDINGS[username]
    page = text_of(client.get(LANDINGS[username]))
    tabs = tab_links(page)
    assert 2 <= len(tabs) <= 5 and tabs[-1] == "/me"
    assert LANDINGS[username] in tabs


@pytest.mark.parametrize("username", ["rider", "dafeng_reviewer", "root_admin"])
def test_every_link_of_the_me_page_opens(client, world, username):
    login(client, username)
    me = text_of(client.get("/me"))
    links = re.findall(r'<ul class="menu" data-test="menu-[a-z]+">(.*?)</ul>', me, re.S)
    targets = [href for block in links for href in re.findall(r'href="([^"]+)"', block)]
    assert len(targets) >= 3
    for target in targets:
        assert client.get(target).status_code == 200, target


def test_a_person_with_two_roles_switches_and_lands_on_the_other(app, client, world):
    from volunteers import users
    from web.extensions import db

    with app.app_context():
        users.grant_role(db.session, users.get_user(db.session, world.ids["dafeng_reviewer"]),
                         "volunteer", "dafeng")
        db.session.commit()
    login(client, "dafeng_reviewer")
    assert client.get("/").headers["Location"] == "/reports/review"
    me = text_of(client.get("/me"))
    assert 'data-test="role-volunteer"' in me
    switched = post_form(client, "/me", "/me/role/volunteer", {})
    assert switched.headers["Location"] == "/wallet"
    assert client.get("/").headers["Location"] == "/wallet"
    assert tab_links(text_of(client.get("/wallet")))[0] == "/wallet"
    # A role the person does not hold is refused.
    assert post_form(client, "/me", "/me/role/admin", {}).status_code == 400


def test_large_text_is_kept_on_the_account(client, world):
    login(client, "rider")
    assert "large-text" not in re.search(r"<html[^>]*>", text_of(client.get("/wallet"))).group(0)
    post_form(client, "/me", "/me/large-text", {})
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', text_of(client.get("/me"))).group(1)})
    login(client, "rider")
    assert "large-text" in re.search(r"<html[^>]*>", text_of(client.get("/wallet"))).group(0)
