"""Sessions that end (issue 19, part 3): a cookie copied before sign-out opens nothing after it;
``end_all`` (password change, suspension) ends browser sessions, API tokens and client keys at
once; tokens are listed and revoked by their owner and by an administrator of their area, and a
revoked token is refused at once; the session cookie lives 12 idle hours."""

from datetime import timedelta

from tests.test_pages import login, post_form
from volunteers import sessions, users


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, world):
    login(client, "rider")
    assert client.get("/wallet").status_code == 200
    copied = client.get_cookie("session").value
    post_form(client, "/wallet", "/logout", {})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/wallet")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_out_ends_the_users_other_sessions_too(app, client, world):
    other = app.test_client()
    login(client, "rider")
    login(other, "rider")
    assert other.get("/wallet").status_code == 200
    post_form(client, "/wallet", "/logout", {})
    assert other.get("/wallet").status_code == 302
    login(other, "rider")  # signing in again works
    assert other.get("/wallet").status_code == 200


def test_end_all_ends_sessions_tokens_and_client_keys(app, client, api, world):
    from web.extensions import db

    login(client, "rider")
    token = api.token("rider")
    key = api.post("/me/client-keys", as_="rider",
                   json={"scope": "open311", "label": "app"}).get_json()["key"]
    with app.app_context():
        assert sessions.user_for_client_key(db.session, key, "open311").id == world.ids["rider"]
        sessions.end_all(db.session, users.get_user(db.session, world.ids["rider"]))
        db.session.commit()
    assert client.get("/wallet").status_code == 302
    assert api.client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with app.app_context():
        assert sessions.user_for_client_key(db.session, key, "open311") is None


def test_an_owner_lists_and_revokes_a_token_refused_at_once(api, world):
    first = api.token("rider")
    api.tokens.pop("rider")
    second = api.token("rider")
    listed = api.client.get("/api/v1/me/tokens", headers=bearer(second)).get_json()["items"]
    assert len(listed) == 2 and all(set(t) == {"id", "created_at", "expires_at"} for t in listed)
    assert first not in str(listed) and second not in str(listed)
    oldest = min(t["id"] for t in listed)
    response = api.client.delete(f"/api/v1/me/tokens/{oldest}", headers=bearer(second))
    assert response.status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    assert api.client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_a_token_revoked_by_itself_is_refused_from_the_next_request(api, world):
    token = api.token("rider")
    [mine] = api.get("/me/tokens", as_="rider").get_json()["items"]
    assert api.request("DELETE", f"/me/tokens/{mine['id']}", as_="rider").status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_nobody_revokes_another_users_token_as_their_own(api, world):
    api.token("rider")
    [theirs] = api.get("/me/tokens", as_="rider").get_json()["items"]
    response = api.request("DELETE", f"/me/tokens/{theirs['id']}", as_="rider2")
    assert response.status_code == 404
    assert api.get("/me", as_="rider").status_code == 200


def test_an_admin_of_the_area_revokes_a_users_token(api, world):
    rider = world.ids["rider"]  # in sanyuan, under xindu
    api.token("rider")
    listed = api.get(f"/users/{rider}/tokens", as_="xindu_admin").get_json()["items"]
    assert len(listed) == 1
    assert api.get(f"/users/{rider}/tokens", as_="wuhua_admin").status_code == 403
    path = f"/users/{rider}/tokens/{listed[0]['id']}"
    assert api.request("DELETE", path, as_="wuhua_admin").status_code == 403
    assert api.get("/me", as_="rider").status_code == 200
    assert api.request("DELETE", path, as_="xindu_admin").status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(api.tokens["rider"])).status_code == 401
    assert api.get(f"/users/{rider}/tokens", as_="rider2").status_code == 403


def test_a_client_key_is_listed_revoked_and_never_an_api_token(api, world):
    from web.extensions import db

    issued = api.post("/me/client-keys", as_="rider",
                      json={"scope": "open311", "label": "随手拍 app"}).get_json()
    assert issued["key"].startswith("ck_")
    [listed] = api.get("/me/client-keys", as_="rider").get_json()["items"]
    assert listed == {k: issued[k] for k in ("id", "scope", "label", "created_at")}
    assert api.client.get("/api/v1/me", headers=bearer(issued["key"])).status_code == 401
    with api.app.app_context():
        assert sessions.user_for_client_key(db.session, api.token("rider"), "open311") is None
    assert api.request("DELETE", f"/me/client-keys/{issued['id']}",
                       as_="rider").status_code == 204
    assert api.get("/me/client-keys", as_="rider").get_json()["items"] == []
    with api.app.app_context():
        assert sessions.user_for_client_key(db.session, issued["key"], "open311") is None


def test_the_session_cookie_lives_twelve_idle_hours(app, client, world):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    response = login(client, "rider")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
