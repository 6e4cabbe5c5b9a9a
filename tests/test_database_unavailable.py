"""A request that meets a database connection the server dropped (no pool pre-ping by
default, web/config.py) answers 503 database_unavailable, never 500; any other database error
stays a 500 internal_error."""

import pytest
from sqlalchemy.exc import OperationalError

from volunteers import users
from web.config import engine_options


def broken_connection(invalidated: bool):
    def user_for_token(session, token):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"),
                               connection_invalidated=invalidated)

    return user_for_token


@pytest.mark.parametrize(("invalidated", "status", "code"), [
    pytest.param(True, 503, "database_unavailable", id="dropped"),
    pytest.param(False, 500, "internal_error", id="other"),
])
def test_a_dropped_connection_answers_503_and_other_errors_500(app, monkeypatch, invalidated,
                                                               status, code):
    monkeypatch.setattr(users, "user_for_token", broken_connection(invalidated))
    response = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert response.status_code == status
    assert response.get_json()["code"] == code


def test_pool_pre_ping_is_off_unless_asked_for_and_sqlite_keeps_its_defaults(monkeypatch):
    url = "postgresql+psycopg://postgres@127.0.0.1/jindou"
    monkeypatch.delenv("JINDOU_DB_PRE_PING", raising=False)
    assert engine_options(url) == {"pool_pre_ping": False, "pool_recycle": 1800,
                                   "pool_size": 5}
    monkeypatch.setenv("JINDOU_DB_PRE_PING", "1")
    assert engine_options(url)["pool_pre_ping"] is True
    assert engine_options("sqlite:///instance/jindou.sqlite3") == {}
